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

from . import resources, state


@dataclass(frozen=True)
class Question:
    text: str
    options: tuple[str, ...]  # at most a class room poll's MAX_CHOICES: a teacher can ask it as a poll
    right: str                # one of ``options``: computed from the current input, never written in
    because: str              # the computed figures that make it right


# the model families a section's question computes with, besides the ladder's own family
_QUESTION_FAMILIES = {"reconstructions": ("pca",), "error_chart": ("pca",), "identity": ("identity",),
                      "features": ("sparse", "nosparse"), "anomaly": ("conv",)}


def size_options(dims: tuple[int, ...]) -> tuple[str, ...]:
    """"z = …" for each size, the smallest merged into one "z ≤ …" where there are more sizes than a poll's
    choices allow beside "none of them"."""
    merged = max(0, len(dims) + 1 - MAX_CHOICES)   # sizes folded into the first option
    first = (f"z ≤ {dims[merged]}",) if merged else ()
    return first + tuple(f"z = {z}" for z in dims[merged + bool(merged):])


def _size_option(dims: tuple[int, ...], index: int) -> str:
    """The option of ``size_options(dims)`` that holds ``dims[index]``."""
    merged = max(0, len(dims) + 1 - MAX_CHOICES)
    return size_options(dims)[max(0, index - merged)]


def can_ask(section: str, dataset: str, family: str) -> bool:
    """Whether ``section``'s step asks a question, and ``dataset`` has the models that compute its answer."""
    needs = _QUESTION_FAMILIES.get(section)
    zoo = resources.zoo()
    return needs is not None and all(zoo.latent_dims(dataset, f) for f in (family, *needs))


def question_for(section: str, dataset: str, family: str, item: state.InputItem) -> Question | None:
    """The question of the tour step that shows ``section``, for ``item``; None: that step asks nothing."""
    image = np.asarray(item.prepared.image, np.float32)[None]
    if section in ("reconstructions", "error_chart"):
        view = resources.inputs_view(dataset, family, image)
        dims, net, pca = view.net.latent_dims, view.net.sse[:, 0], view.pca.sse[:, 0]
        if section == "reconstructions":
            below = [i for i in range(len(dims)) if (net[i:] < pca[-1]).all()]
            right = _size_option(tuple(dims), below[0]) if below else "none of them"
            return Question(f"From which size on is the network's error on {item.name} below PCA's at "
                            f"z = {dims[-1]}?", size_options(tuple(dims)) + ("none of them",), right,
                            f"PCA at z = {dims[-1]}: SSE {pca[-1]:.1f}; the network: "
                            + ", ".join(f"{e:.1f} at z = {z}" for z, e in zip(dims, net)) + ".")
        right = "the network" if net[0] < pca[0] else "PCA"
        return Question(f"At z = {dims[0]}, which rebuilds {item.name} with the smaller error?",
                        ("the network", "PCA"), right,
                        f"SSE at z = {dims[0]}: the network {net[0]:.1f}, PCA {pca[0]:.1f}.")
    if section == "identity":
        rows, _share, _never = resources.copy_errors_for(dataset)
        free = rows[-1]
        right = "yes" if copies_like_heldout(free, "noise") else "no"
        return Question("Will the unconstrained net rebuild pure noise about as well as held-out images?",
                        ("yes", "no"), right,
                        f"Mean SSE: held-out {free.heldout:.2f}, {probe_noun('noise', dataset)} "
                        f"{free.probes['noise']:.2f}.")
    if section == "features":
        from .features import HIDDEN, _activations

        above = {f: int((_activations(dataset, f, HIDDEN, item.prepared.image) > 0.5).sum())
                 for f in ("sparse", "nosparse")}
        right = ("with sparsity" if above["sparse"] > above["nosparse"] else
                 "without" if above["sparse"] < above["nosparse"] else "the same number")
        return Question(f"Will more of the {HIDDEN} hidden units be above 0.5 for {item.name} with sparsity, or "
                        "without?", ("with sparsity", "without", "the same number"), right,
                        f"Units above 0.5: {above['sparse']} with sparsity, {above['nosparse']} without.")
    if section == "anomaly":
        from .demos.anomaly import scored_image, unusualness

        percentile = unusualness(dataset, scored_image(item)).percentile
        bands = ("below the 50th percentile", "from the 50th to the 95th", "the 95th or above")
        right = bands[0] if percentile < 50 else bands[1] if percentile < 95 else bands[2]
        return Question(f"Among the held-out images' errors, where will {item.name}'s error land?", bands, right,
                        f"Its error is at the {percentile:.0f}th percentile.")
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
        guess = st.radio(f"**Predict first:** {question.text}", question.options, index=None, horizontal=True,
                         key=state.predict_key(section))
        if guess is None and section not in state.visitor().predictions_shown:
            st.button("Show", key=state.predict_show_key(section), on_click=_show, args=(section,))
            # the step's own view stays hidden until the class has committed to a guess
            st.html(f"<style>.st-key-{section} {{ visibility: hidden; }}</style>")
            return
        if guess is None:
            st.info(f"The answer: {question.right}. {question.because}")
        elif guess == question.right:
            st.success(f"Right: {question.right}. {question.because}")
        else:
            st.warning(f"Not this time: the answer is {question.right}. {question.because}")


def toggle() -> None:
    """The sidebar's switch that turns the tour's questions on and off."""
    st.sidebar.toggle("Questions in the tour", value=True, key=state.PREDICT_ON,
                      help="Predict, then see: each of five tour steps asks the class first. Off: no questions.")
