"""The sidebar: which dataset and model family, where the models run, which server serves the page."""
from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from ae_demo.datasets import DATASETS, DEFAULT_DATASET
from ae_demo.device import describe_device, pick_device
from ae_demo.zoo import FAMILIES

from . import i18n, own_data, resources, server, state
from .i18n import N_, _

def model_picker() -> tuple[str, str]:
    """Dataset and model family, kept in the URL so a link reopens the same view."""
    params = st.query_params
    st.sidebar.title("Autoencoder Lab")
    own_data.open_from_url(params.get("dataset"))
    for opened in state.visitor().own_opened:
        own_data.open_from_url(opened)    # registered with the datasets, once per server
    # a teacher's datasets are registered for the whole server, but each visitor sees only those they opened
    datasets = [d for d in DATASETS if not own_data.is_own(d)] + state.visitor().own_opened + [own_data.OWN]
    if state.widget(state.DATASET) not in datasets:
        state.set_widget(state.DATASET, params.get("dataset") if params.get("dataset") in datasets else DEFAULT_DATASET)
    # a drawing or a photo of a digit is no piece of clothing: a new dataset starts from its own sample
    dataset = st.sidebar.radio(_("Dataset"), datasets, key=state.DATASET, format_func=functools.partial(_dataset_label, in_language=i18n.fixed()),
                               on_change=state.visitor().set_current, args=(state.InputKind.SAMPLE.value,))
    if own_data.is_own(dataset):
        st.query_params["dataset"] = dataset
        return dataset, "conv"
    families = resources.zoo().ladder_families(dataset)
    if state.widget(state.FAMILY) not in families:
        wanted = params.get("family")
        state.set_widget(state.FAMILY, wanted if wanted in families else DATASETS[dataset].default_model.family)
    family = st.sidebar.selectbox(_("Model family"), families, key=state.FAMILY, format_func=lambda f, in_language=i18n.fixed(): in_language(FAMILIES[f]),
                                  help=_("Convolutional is the bottleneck ladder 2…64; the others exist at some sizes."))
    st.query_params["dataset"], st.query_params["family"] = dataset, family
    return dataset, family


def _dataset_label(name: str, in_language: Callable[[str], str]) -> str:
    if name == own_data.OWN:
        return in_language(N_("Your own images"))
    return in_language(DATASETS[name].label) if name in DATASETS else name


def about_the_server() -> None:
    """Where the models run, how long the last pass took, which replica serves this page, and credits."""
    st.sidebar.markdown("**" + _("Runs on") + "**")
    st.sidebar.caption(i18n.error_text(describe_device(pick_device())))
    seconds = state.visitor().last_inference_s
    if seconds is not None:
        st.sidebar.caption(_("Last inference: {milliseconds} ms for all models of the family and PCA")
                           .format(milliseconds=i18n.number(seconds * 1000)))
    st.sidebar.caption(_("Served by replica {replica}").format(replica=server.replica_id()))
    st.sidebar.divider()
    st.sidebar.caption(_("Images: {attribution}. Models trained for this app; see the README.")
                       .format(attribution=_(DATASETS[state.widget(state.DATASET)].source.attribution)))
