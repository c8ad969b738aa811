"""How unusual is this? The current input's reconstruction error among the held-out images' errors.

Scored by the convolutional autoencoder whose error best separates held-out images from
generated non-members (``ae_demo.anomaly``: the default of ``pretrained/anomaly.json``).
Uploads that preprocessing could not read as a drawing (pure noise, say) are kept by
``ui.inputs`` (``state.Visitor.unreadable_uploads``) and scored here too, as plain pictures.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ae_demo import anomaly
from ae_demo.datasets import DATASETS
from ae_demo.preprocess import InputError
from ae_demo.zoo import model_name

from .. import exports, i18n, resources, state, theme
from ..i18n import N_, _
from . import opened

CATEGORY_NAMES = {"letters": N_("letters"), "faces": N_("drawn faces"), "noise": N_("random noise")}


def category_name(category: str) -> str:
    """What the page calls a category of generated non-members: another dataset's by its items ("digits")."""
    return _(DATASETS[category].items if category in DATASETS else CATEGORY_NAMES.get(category, category))


def scored_image(item: state.InputItem) -> np.ndarray:
    """(28, 28) float32: what is scored for an input, through the path the held-out reference went
    (``anomaly.anomaly_input``, i.e. ``preprocess_to_mnist``): a held-out sample as its uint8 pixels;
    a drawing from the canvas as drawn (the page frames drawings by the canvas's shortcut,
    ``preprocess.prepare_drawing``, which the reference never went through); an upload or a photo
    as preprocessing made it."""
    if item.kind is state.InputKind.SAMPLE:
        return anomaly.anomaly_input(np.round(item.prepared.image * 255).astype(np.uint8), item.name)[0]
    if item.kind is state.InputKind.DRAWING and item.prepared.raw is not None:
        return anomaly.anomaly_input(np.asarray(item.prepared.raw), item.name)[0]
    return item.prepared.image


def unusualness(dataset: str, image: np.ndarray) -> anomaly.Unusualness:
    references = resources.anomaly_references(dataset)
    model = resources.models_for(dataset, "conv")[references.default_latent_dim]
    return anomaly.score(model, references.default, image, dataset)


def anomaly_section(dataset: str) -> None:
    with st.container(key="anomaly"):
        section = opened("anomaly", _("How unusual is this? The reconstruction error as an anomaly score"))
        if not section.open:
            return
        with section:
            current = state.visitor().current_item()
            result = unusualness(dataset, scored_image(current))
            st.markdown(f"**{current.name}** · {i18n.error_text(result.sentence)}")
            _answer(dataset, result, "anomaly_current")
            _unreadable_uploads(dataset)


def _answer(dataset: str, result: anomaly.Unusualness, key: str) -> None:
    references = resources.anomaly_references(dataset)
    reference = references.default
    left, right = st.columns([2, 3])
    with left:
        cells = st.columns(3)
        cells[0].image(result.image, caption=_("what is scored"), width="stretch",
                       alt=_("the picture that is scored, 28×28"))
        cells[1].image(result.reconstruction, caption=_("reconstruction, z = {z}").format(z=result.latent_dim),
                       width="stretch", alt=_("its reconstruction at z = {z}").format(z=result.latent_dim))
        cells[2].image(result.heatmap, caption=_("error per pixel (dark blue = exact, yellow = wrong)"),
                       width="stretch",
                       alt=_("error per pixel of the reconstruction, dark blue where exact, yellow where wrong"))
        exports.strip_download(np.stack([result.image, result.reconstruction]), "unusualness.png", key=f"{key}_png")
        counts = references.non_member_counts
        aucs = ", ".join(f"{i18n.integer(counts.get(c, 0))} {category_name(c)} {i18n.number(a, 2)}"
                         for c, a in reference.category_auc.items())
        st.caption(_("Its reconstruction error: SSE {sse} over the 784 pixels (each in [0, 1]), from {model}. This "
                     "size is the default because its error separates held-out images from generated non-members "
                     "best: ROC AUC {auc}, the mean over the categories of the AUC of {n_check} held-out images "
                     "(never in the reference) against each: {aucs} (1 = always apart, 0.5 = no better than chance; "
                     "{n_generated} generated images in all). The size was chosen by this same AUC, so the figure is "
                     "optimistic for new inputs.").format(
            sse=i18n.number(result.sse), model=model_name("conv", result.latent_dim, dataset),
            auc=i18n.number(reference.auc, 3), n_check=i18n.integer(references.n_check), aucs=aucs,
            n_generated=i18n.integer(sum(counts.values()))))
    with right:
        st.plotly_chart(_quantile_figure(reference, result), key=f"{key}_chart",
                        config=exports.chart_config("unusualness"))
        st.caption(_("The curve: the reconstruction error of {n} held-out images (never trained on, preprocessed as "
                     "a drawing is), sorted; read across, the share of them with a smaller error. The star: this "
                     "input. The red dashed line: the {percentile}th percentile, from which an input is called "
                     "unusual. The error axis is logarithmic (each label ten times the one below).").format(
            n=i18n.integer(reference.n_images), percentile=i18n.number(anomaly.UNUSUAL_PERCENTILE, 0)))
        # the chart's numbers as text, for a screen reader (a Plotly chart is a picture to it)
        levels = [level for level in (10, 25, 50, 75, 90, anomaly.UNUSUAL_PERCENTILE, 99)
                  if anomaly.QUANTILE_LEVELS[0] <= level <= anomaly.QUANTILE_LEVELS[-1]]
        quantiles = np.interp(levels, anomaly.QUANTILE_LEVELS, reference.quantiles)
        st.caption(_("The curve's values: {values}. This input: SSE {sse}, more unusual than {percentile} % of "
                     "them.").format(
            values="; ".join(_("{percentile}th percentile, SSE {sse}").format(
                percentile=i18n.number(level, 0), sse=i18n.number(q)) for level, q in zip(levels, quantiles)),
            sse=i18n.number(result.sse), percentile=int(result.percentile)))


def _quantile_figure(reference: anomaly.ErrorReference, result: anomaly.Unusualness) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=anomaly.QUANTILE_LEVELS, y=reference.quantiles, mode="lines", name=_("held-out images"),
                             line=dict(color=theme.BLUE, width=3)))
    fig.add_trace(go.Scatter(x=[result.percentile], y=[result.sse], mode="markers", name=_("this input"),
                             marker=dict(symbol="star", size=20, color=theme.HIGHLIGHT,
                                         line=dict(color=theme.STAR_OUTLINE, width=1))))
    fig.add_vline(x=anomaly.UNUSUAL_PERCENTILE, line=dict(color=theme.RED, dash="dash"),
                  annotation_text=_("{percentile}th percentile: unusual from here").format(
                      percentile=i18n.number(anomaly.UNUSUAL_PERCENTILE, 0)),
                  annotation_position="top left")
    fig.update_layout(height=320, margin=theme.chart_margin(), legend=dict(orientation="h", y=-0.3),
                      xaxis=dict(title=_("share of held-out images with a smaller error (percent)"), range=[0, 101]),
                      # labels at whole decades only (the minor ticks' labels ran "5 4 3 2 1 9 8 7"), the axis
                      # widened to whole decades so that at least two labels show; unlabelled minor grid lines
                      yaxis=dict(title=_("SSE over 784 pixels (log scale)"), type="log", dtick=1,
                                 range=anomaly.decade_range(reference.quantiles, result.sse),
                                 minor=dict(showgrid=True, gridcolor="rgba(128,128,128,0.15)")))
    return fig


def _unreadable_uploads(dataset: str) -> None:
    """Uploads that preprocessing refused: scored as plain pictures (grey levels, the whole frame resized)."""
    for i, (name, data) in enumerate(state.visitor().unreadable_uploads.items()):
        st.divider()
        try:
            image, how = anomaly.anomaly_input(data, name)
        except InputError as error:
            st.caption(_("**{name}** could not be scored: {error}").format(name=name, error=i18n.error_text(error)))
            continue
        result = unusualness(dataset, image)
        st.markdown(_("**{name}** (not read as a drawing; scored as a {how}, the whole picture resized to 28×28) · "
                      "{sentence}").format(name=name, how=_(how), sentence=i18n.error_text(result.sentence)))
        _answer(dataset, result, f"anomaly_upload_{i}")
