"""Watch it learn: a small dense autoencoder trained live on the server, one run at a time.

The Start and Stop buttons rerun the page; while a run trains, a fragment redraws the loss
curve, the 8 fixed images' reconstructions and (for a 2-D code) the code map every second,
rerunning nothing else of the page.
"""
from __future__ import annotations

import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ae_demo.datasets import DATASETS
from ae_demo.display import image_strip
from ae_demo.live_training import BATCH_SIZE, LATENT_DIMS, N_TRAIN, N_UNSEEN, Busy, LiveSnapshot
from ae_demo.messages import Message

from .. import exports, i18n, resources, state, theme
from ..i18n import _
from . import opened

POLL_S = 1.0


def learn_live_section(dataset: str) -> None:
    with st.container(key="learn_live"):
        section = opened("learn_live", _("Watch it learn: train an autoencoder live"))
        if not section.open:
            return
        with section:
            trainer = resources.live_trainer()
            st.caption(_("A small dense autoencoder, 784 → 256 → z → 256 → 784, starts from random weights and "
                         "trains on {n_train} of the bundled held-out {images} images, {batch} at a time, on one CPU "
                         "core of this server, for {epochs} epochs or {seconds} s at most. One training at a time per "
                         "server: everyone watches the same run.").format(
                n_train=i18n.integer(N_TRAIN), images=_(DATASETS[dataset].label), batch=BATCH_SIZE,
                epochs=trainer.epochs, seconds=i18n.number(trainer.max_seconds, 0)))
            cols = st.columns([2, 1, 1, 3])
            z = cols[0].select_slider(_("Latent size"), LATENT_DIMS, value=2, key="learn_live_latent")
            if cols[1].button(_("Start"), key="learn_live_start", type="primary", icon=":material/play_arrow:"):
                answer = trainer.start(z, seed=0, dataset=dataset, owner=state.visitor().id)
                state.visitor().busy_message = answer.message() if isinstance(answer, Busy) else None
            if cols[2].button(_("Stop"), key="learn_live_stop", icon=":material/stop:"):
                if not trainer.stop(owner=state.visitor().id) and trainer.snapshot().running:
                    state.visitor().busy_message = Message("Only the visitor who started this run can stop it; it "
                                                           "stops by itself at its time limit.")
            running = trainer.snapshot().running
            if not running:
                state.visitor().busy_message = None  # whoever was training is done: Start is free
            if state.visitor().busy_message:
                st.warning(i18n.error_text(state.visitor().busy_message), icon=":material/hourglass_top:")
            st.fragment(_live_view, run_every=POLL_S if running else None)(dataset, running)


def _live_view(dataset: str, was_running: bool) -> None:
    """The run as it stands; when it ends, the whole page reruns once so the timer stops."""
    snap = resources.live_trainer().snapshot()
    if was_running and not snap.running:
        st.rerun(scope="app")
    with st.container(key="learn_live_view"):
        _status(snap)
        if snap.images is None:
            return
        left, right = st.columns([3, 2])
        with left, st.container(key="learn_live_chart"):
            floor = resources.live_loss_floor(snap.run.dataset)
            st.plotly_chart(_loss_figure(snap, floor), key="learn_live_loss", config=exports.chart_config("live-loss"))
            st.caption(_("The loss the network trains on: binary cross-entropy summed over the 784 pixels, per "
                         "image, in nats. It cannot reach 0: on grey pixels even an exact copy scores {floor} on "
                         "these training images (the dotted line, the entropy of their pixels). The yellow line is "
                         "the error the rest of the page shows, SSE over the 784 pixels (each in [0, 1]), measured on "
                         "the {n_unseen} images it never trains on.").format(floor=i18n.number(floor),
                                                                              n_unseen=N_UNSEEN))
            st.caption(_loss_summary(snap, floor))
        with right:
            if snap.codes is not None:
                st.plotly_chart(_codes_figure(snap, DATASETS[snap.run.dataset].classes), key="learn_live_codes",
                                config=exports.chart_config("live-codes"))
                st.caption(_("The 2-D codes of {n} images it never trains on, coloured by their class (which the "
                             "network is never told).").format(n=N_UNSEEN))
                st.caption(_codes_summary(snap, DATASETS[snap.run.dataset].classes))
        st.markdown(_("**The 8 fixed images it never trains on (top) and its reconstructions after epoch {epoch} "
                      "(bottom)** · mean SSE of these 8: {shown} · of all {n} unseen images: {unseen} (squared "
                      "error over 784 pixels)").format(epoch=snap.epoch, shown=i18n.number(snap.shown_sse[-1]),
                                                        n=N_UNSEEN, unseen=i18n.number(snap.unseen_sse[-1])))
        with st.container(key="learn_live_strip"):
            st.image(image_strip(snap.images, gap=1), width="stretch",
                     alt=_("{n} unseen images, side by side").format(n=len(snap.images)))
            st.image(image_strip(snap.reconstructions, gap=1), width="stretch",
                     alt=_("their reconstructions after epoch {epoch}, mean SSE {sse}").format(
                         epoch=snap.epoch, sse=i18n.number(snap.shown_sse[-1])))
        exports.strip_download(np.concatenate([snap.images, snap.reconstructions]), f"live-epoch-{snap.epoch}.png",
                               key="learn_live_png")


def _status(snap: LiveSnapshot) -> None:
    if snap.run is None:
        st.info(_("Nothing has trained on this server yet: pick a latent size and press Start."))
        return
    run = snap.run
    since = time.time() - run.started_at
    what = _("latent size {z}, {images}").format(
        z=run.latent_dim, images=_(DATASETS[run.dataset].label) if run.dataset in DATASETS else run.dataset)
    if snap.state == "starting":
        st.info(_("Starting ({what}): the training process is loading torch… {seconds} s").format(
            what=what, seconds=i18n.number(since, 0)))
    elif snap.state == "training":
        st.info(_("Training ({what}): epoch {epoch} of {epochs}, {seconds} s so far.").format(
            what=what, epoch=snap.epoch, epochs=run.epochs, seconds=i18n.number(since, 0)))
    elif snap.state == "failed":
        st.error(_("The training failed: {error}").format(error=snap.error))
    else:
        took = snap.epoch_times[-1] - run.started_at if snap.epoch_times is not None else since
        ended = (_("Finished ({what}) after {epochs} epochs in {seconds} s.") if snap.state == "finished" else
                 _("Stopped ({what}) after {epochs} epochs in {seconds} s."))
        st.success(ended.format(what=what, epochs=snap.epoch, seconds=i18n.number(took, 0)))


def _loss_summary(snap: LiveSnapshot, floor: float) -> str:
    """The loss chart's numbers as a sentence, for a screen reader (a Plotly chart is a picture to it)."""
    history = snap.loss_history
    if not len(history):
        return ""
    said = _("The chart's numbers: the training loss went from {first} at step {first_step} to {last} at step "
             "{last_step} (an exact copy scores {floor}).").format(
        first=i18n.number(history[0, 1]), first_step=int(history[0, 0]), last=i18n.number(history[-1, 1]),
        last_step=int(history[-1, 0]), floor=i18n.number(floor))
    if snap.unseen_sse is not None:
        said += " " + _("SSE of the unseen images after each epoch: {values}.").format(
            values="; ".join(i18n.number(v) for v in snap.unseen_sse))
    return said


def _codes_summary(snap: LiveSnapshot, classes: tuple[str, ...]) -> str:
    """The code map's numbers as a sentence, for a screen reader: where each class's codes lie on average."""
    centres = [(_(name), snap.codes[snap.code_labels == label].mean(axis=0))
               for label, name in enumerate(classes) if (snap.code_labels == label).any()]
    return _("The chart's numbers: the mean code of each class, {centres}.").format(centres="; ".join(
        f"{name} ({i18n.number(x, 2)}, {i18n.number(y, 2)})" for name, (x, y) in centres))


def _loss_figure(snap: LiveSnapshot, floor: float) -> go.Figure:
    """The training loss per step (the first trace: a browser test counts its points), the loss an exact copy
    would score (``floor``), and the held-out SSE after each epoch on a second axis."""
    fig = go.Figure()
    history = snap.loss_history
    # plain lists: the browser's chart then holds the points as they are (its data a test can count)
    fig.add_trace(go.Scatter(x=history[:, 0].tolist(), y=history[:, 1].tolist(), mode="lines",
                             name=_("training loss, per batch (left axis)"), line=dict(color=theme.BLUE)))
    if snap.unseen_sse is not None:
        steps_per_epoch = -(-N_TRAIN // BATCH_SIZE)   # the SSE is measured after each epoch, epoch 0 before training
        fig.add_trace(go.Scatter(x=[e * steps_per_epoch for e in range(len(snap.unseen_sse))],
                                 y=snap.unseen_sse.tolist(), mode="lines+markers", yaxis="y2",
                                 name=_("SSE of the {n} unseen images (right axis)").format(n=N_UNSEEN),
                                 line=dict(color=theme.HIGHLIGHT)))
    fig.add_hline(y=floor, line=dict(color=theme.GREY, dash="dot"),
                  annotation_text=_("an exact copy's loss: {floor}").format(floor=i18n.number(floor, 0)),
                  annotation_position="bottom right")
    fig.update_layout(height=340, margin=theme.chart_margin(top=30), title=_("Training loss and held-out error"),
                      xaxis=dict(title=_("step (a batch of {n} images)").format(n=BATCH_SIZE), rangemode="tozero"),
                      yaxis=dict(title=_("binary cross-entropy per image (nats)"), type="log"),
                      yaxis2=dict(title=_("SSE over 784 pixels"), overlaying="y", side="right", rangemode="tozero",
                                  showgrid=False),
                      legend=dict(orientation="h", y=-0.3))
    return fig


def _codes_figure(snap: LiveSnapshot, classes: tuple[str, ...]) -> go.Figure:
    fig = go.Figure()
    for label, name in enumerate(classes):
        rows = snap.code_labels == label
        fig.add_trace(go.Scattergl(x=snap.codes[rows, 0], y=snap.codes[rows, 1], mode="markers", name=_(name),
                                   marker=dict(size=5, color=theme.CLASS_COLOURS[label])))
    fig.update_layout(height=320, margin=theme.chart_margin(top=30),
                      title=_("The 2-D code, epoch {epoch}").format(epoch=snap.epoch),
                      legend=dict(itemsizing="constant"))
    return fig
