"""Predict, then see: a tour step opens with a question to the class, whose right answer the app computes
from the current input (White & Gunstone's predict-observe-explain). The step's section stays hidden until
someone answers or presses Show; then the page says whether the guess was right. A switch in the sidebar
(``state.PREDICT_ON``) turns the questions off, for a speaker who prefers to talk."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from ae_demo.identity import copies_like_heldout, probe_noun
from ae_demo.rooms import MAX_CHOICES

from . import i18n, resources, state
from .i18n import _


@dataclass(frozen=True)
class Question:
    text: str
    options: tuple[str, ...]  # at most a class room poll's MAX_CHOICES: a teacher can ask it as a poll
    right: str                # one of ``options``: computed from the current input, never written in
    because: str              # the computed figures that make it right


# the model families a section's question computes with, besides the ladder's own family
_QUESTION_FAMILIES = {"reconstructions": ("pca",), "error_chart": ("pca",), "identity": ("identity",),
                      "features": ("sparse", "nosparse"), "anomaly": ("conv",)}


def _folded(dims: tuple[int, ...]) -> int:
    """How many of the smallest sizes share the first option (1: none share it), so that the sizes and
    "none of them" fit a poll's choices."""
    return max(1, len(dims) + 2 - MAX_CHOICES)


def size_options(dims: tuple[int, ...]) -> tuple[str, ...]:
    """"z = …" for each size, the smallest folded into one "z ≤ …" where there are more sizes than a poll's
    choices allow beside "none of them"."""
    folded = _folded(dims)
    first = f"z ≤ {dims[folded - 1]}" if folded > 1 else f"z = {dims[0]}"
    return (first,) + tuple(f"z = {z}" for z in dims[folded:])


def _size_option(dims: tuple[int, ...], index: int) -> str:
    """The option of ``size_options(dims)`` that holds ``dims[index]``."""
    return size_options(dims)[max(0, index - _folded(dims) + 1)]


def can_ask(section: str, dataset: str, family: str) -> bool:
    """Whether ``section``'s step asks a question, and ``dataset`` has the models that compute its answer."""
    needs = _QUESTION_FAMILIES.get(section)
    zoo = resources.zoo()
    return needs is not None and all(zoo.latent_dims(dataset, f) for f in (family, *needs))


def question_for(section: str, dataset: str, family: str, item: state.InputItem) -> Question | None:
    """The question of the tour step that shows ``section``, for ``item``, in the visitor's language; None: that
    step asks nothing."""
    image = np.asarray(item.prepared.image, np.float32)[None]
    if section in ("reconstructions", "error_chart"):
        view = resources.inputs_view(dataset, family, image)
        dims, net, pca = view.net.latent_dims, view.net.sse[:, 0], view.pca.sse[:, 0]
        if section == "reconstructions":
            below = [i for i in range(len(dims)) if (net[i:] < pca[-1]).all()]
            none = _("none of them")
            right = _size_option(tuple(dims), below[0]) if below else none
            return Question(_("From which size on is the network's error on {name} below PCA's at z = {z}?").format(
                                name=item.name, z=dims[-1]), size_options(tuple(dims)) + (none,), right,
                            _("PCA at z = {z}: SSE {pca}; the network: {net}.").format(
                                z=dims[-1], pca=i18n.number(pca[-1]),
                                net=_(", ").join(_("{sse} at z = {z}").format(sse=i18n.number(e), z=z)
                                                 for z, e in zip(dims, net))))
        options = (_("the network"), _("PCA"))
        right = options[0] if net[0] < pca[0] else options[1]
        return Question(_("At z = {z}, which rebuilds {name} with the smaller error?").format(z=dims[0], name=item.name),
                        options, right,
                        _("SSE at z = {z}: the network {net}, PCA {pca}.").format(
                            z=dims[0], net=i18n.number(net[0]), pca=i18n.number(pca[0])))
    if section == "identity":
        rows, _share, _never = resources.copy_errors_for(dataset)
        free = rows[-1]
        options = (_("yes"), _("no"))
        right = options[0] if copies_like_heldout(free, "noise") else options[1]
        return Question(_("Will the unconstrained net rebuild pure noise about as well as held-out images?"),
                        options, right,
                        _("Mean SSE: held-out {heldout}, {noise} {noise_sse}.").format(
                            heldout=i18n.number(free.heldout, 2), noise=_(probe_noun("noise", dataset)),
                            noise_sse=i18n.number(free.probes["noise"], 2)))
    if section == "features":
        from .features import HIDDEN, _activations

        above = {f: int((_activations(dataset, f, HIDDEN, item.prepared.image) > 0.5).sum())
                 for f in ("sparse", "nosparse")}
        options = (_("with sparsity"), _("without"), _("the same number"))
        right = (options[0] if above["sparse"] > above["nosparse"] else
                 options[1] if above["sparse"] < above["nosparse"] else options[2])
        return Question(_("Will more of the {hidden} hidden units be above 0.5 for {name} with sparsity, or "
                          "without?").format(hidden=i18n.integer(HIDDEN), name=item.name), options, right,
                        _("Units above 0.5: {sparse} with sparsity, {nosparse} without.").format(
                            sparse=i18n.integer(above["sparse"]), nosparse=i18n.integer(above["nosparse"])))
    if section == "anomaly":
        from .demos.anomaly import scored_image, unusualness

        percentile = unusualness(dataset, scored_image(item)).percentile
        bands = (_("below the 50th percentile"), _("from the 50th to the 95th"), _("the 95th or above"))
        right = bands[0] if percentile < 50 else bands[1] if percentile < 95 else bands[2]
        return Question(_("Among the held-out images' errors, where will {name}'s error land?").format(name=item.name),
                        bands, right,
                        _("Its error is at the {percentile}th percentile.").format(
                            percentile=i18n.number(percentile, 0)))
    return None


def _show(section: str) -> None:
    state.visitor().predictions_shown.add(section)


def predict_panel(section: str, dataset: str, family: str, item: state.InputItem) -> None:
    """The step's question (container ``predict``), and once answered or shown, whether the guess was right."""
    if not state.widget(state.PREDICT_ON, True):
        return
    question = question_for(section, dataset, family, item)
    if question is None:
        return
    with st.container(key="predict"):
        guess = st.radio(_("**Predict first:** {question}").format(question=question.text), question.options,
                         index=None, horizontal=True, key=state.predict_key(section))
        if guess is None and section not in state.visitor().predictions_shown:
            st.button(_("Show"), key=state.predict_show_key(section), on_click=_show, args=(section,))
            # the step's own view stays hidden until the class has committed to a guess
            st.html(f"<style>.st-key-{section} {{ visibility: hidden; }}</style>")
            return
        if guess is None:
            st.info(_("The answer: {right}. {because}").format(right=question.right, because=question.because))
        elif guess == question.right:
            st.success(_("Right: {right}. {because}").format(right=question.right, because=question.because))
        else:
            st.warning(_("Not this time: the answer is {right}. {because}").format(right=question.right,
                                                                                  because=question.because))


def toggle() -> None:
    """The sidebar's switch that turns the tour's questions on and off."""
    st.sidebar.toggle(_("Questions in the tour"), value=True, key=state.PREDICT_ON,
                      help=_("Predict, then see: each of five tour steps asks the class first. Off: no questions."))
