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

from .. import exports, resources, state, theme
from . import opened

POLL_S = 1.0


def learn_live_section(dataset: str) -> None:
    with st.container(key="learn_live"):
        section = opened("learn_live", "Watch it learn: train an autoencoder live")
        if not section.open:
            return
        with section:
            trainer = resources.live_trainer()
            st.caption(f"A small dense autoencoder, 784 → 256 → z → 256 → 784, starts from random weights and "
                       f"trains on {N_TRAIN:,} of the bundled held-out {DATASETS[dataset].label} images, "
                       f"{BATCH_SIZE} at a time, on one CPU core of this server, for {trainer.epochs} epochs or "
                       f"{trainer.max_seconds:.0f} s at most. One training at a time per server: everyone watches "
                       "the same run.")
            cols = st.columns([2, 1, 1, 3])
            z = cols[0].select_slider("Latent size", LATENT_DIMS, value=2, key="learn_live_latent")
            if cols[1].button("Start", key="learn_live_start", type="primary", icon=":material/play_arrow:"):
                answer = trainer.start(z, seed=0, dataset=dataset, owner=state.visitor().id)
                state.visitor().busy_message = answer.message() if isinstance(answer, Busy) else None
            if cols[2].button("Stop", key="learn_live_stop", icon=":material/stop:"):
                if not trainer.stop(owner=state.visitor().id) and trainer.snapshot().running:
                    state.visitor().busy_message = ("Only the visitor who started this run can stop it; it stops by "
                                                    "itself at its time limit.")
            running = trainer.snapshot().running
            if not running:
                state.visitor().busy_message = None  # whoever was training is done: Start is free
            if state.visitor().busy_message:
                st.warning(state.visitor().busy_message, icon=":material/hourglass_top:")
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
            st.caption(f"The loss the network trains on: binary cross-entropy summed over the 784 pixels, per image, "
                       f"in nats. It cannot reach 0: on grey pixels even an exact copy scores {floor:.1f} on these "
                       "training images (the dotted line, the entropy of their pixels). The yellow line is the "
                       "error the rest of the page shows, SSE over the 784 pixels (each in [0, 1]), measured on "
                       f"the {N_UNSEEN} images it never trains on.")
        with right:
            if snap.codes is not None:
                st.plotly_chart(_codes_figure(snap, DATASETS[snap.run.dataset].classes), key="learn_live_codes",
                                config=exports.chart_config("live-codes"))
                st.caption(f"The 2-D codes of {N_UNSEEN} images it never trains on, coloured by their class "
                           "(which the network is never told).")
        st.markdown(f"**The 8 fixed images it never trains on (top) and its reconstructions after epoch {snap.epoch} "
                    f"(bottom)** · mean SSE of these 8: {snap.shown_sse[-1]:.1f} · of all {N_UNSEEN} unseen images: "
                    f"{snap.unseen_sse[-1]:.1f} (squared error over 784 pixels)")
        with st.container(key="learn_live_strip"):
            st.image(image_strip(snap.images, gap=1), width="stretch",
                     alt=f"{len(snap.images)} unseen images, side by side")
            st.image(image_strip(snap.reconstructions, gap=1), width="stretch",
                     alt=f"their reconstructions after epoch {snap.epoch}, mean SSE {snap.shown_sse[-1]:.1f}")
        exports.strip_download(np.concatenate([snap.images, snap.reconstructions]), f"live-epoch-{snap.epoch}.png",
                               key="learn_live_png")


def _status(snap: LiveSnapshot) -> None:
    if snap.run is None:
        st.info("Nothing has trained on this server yet: pick a latent size and press Start.")
        return
    run = snap.run
    since = time.time() - run.started_at
    what = f"latent size {run.latent_dim}, {run.dataset}"
    if snap.state == "starting":
        st.info(f"Starting ({what}): the training process is loading torch… {since:.0f} s")
    elif snap.state == "training":
        st.info(f"Training ({what}): epoch {snap.epoch} of {run.epochs}, {since:.0f} s so far.")
    elif snap.state == "failed":
        st.error(f"The training failed: {snap.error}")
    else:
        took = snap.epoch_times[-1] - run.started_at if snap.epoch_times is not None else since
        st.success(f"{snap.state.capitalize()} ({what}) after {snap.epoch} epochs in {took:.0f} s.")


def _loss_figure(snap: LiveSnapshot, floor: float) -> go.Figure:
    """The training loss per step (the first trace: a browser test counts its points), the loss an exact copy
    would score (``floor``), and the held-out SSE after each epoch on a second axis."""
    fig = go.Figure()
    history = snap.loss_history
    # plain lists: the browser's chart then holds the points as they are (its data a test can count)
    fig.add_trace(go.Scatter(x=history[:, 0].tolist(), y=history[:, 1].tolist(), mode="lines",
                             name="training loss, per batch (left axis)", line=dict(color=theme.BLUE)))
    if snap.unseen_sse is not None:
        steps_per_epoch = -(-N_TRAIN // BATCH_SIZE)   # the SSE is measured after each epoch, epoch 0 before training
        fig.add_trace(go.Scatter(x=[e * steps_per_epoch for e in range(len(snap.unseen_sse))],
                                 y=snap.unseen_sse.tolist(), mode="lines+markers", yaxis="y2",
                                 name=f"SSE of the {N_UNSEEN} unseen images (right axis)",
                                 line=dict(color=theme.HIGHLIGHT)))
    fig.add_hline(y=floor, line=dict(color=theme.GREY, dash="dot"), annotation_text=f"an exact copy's loss: {floor:.0f}",
                  annotation_position="bottom right")
    fig.update_layout(height=340, margin=theme.chart_margin(top=30), title="Training loss and held-out error",
                      xaxis=dict(title=f"step (a batch of {BATCH_SIZE} images)", rangemode="tozero"),
                      yaxis=dict(title="binary cross-entropy per image (nats)", type="log"),
                      yaxis2=dict(title="SSE over 784 pixels", overlaying="y", side="right", rangemode="tozero",
                                  showgrid=False),
                      legend=dict(orientation="h", y=-0.3))
    return fig


def _codes_figure(snap: LiveSnapshot, classes: tuple[str, ...]) -> go.Figure:
    fig = go.Figure()
    for label, name in enumerate(classes):
        rows = snap.code_labels == label
        fig.add_trace(go.Scattergl(x=snap.codes[rows, 0], y=snap.codes[rows, 1], mode="markers", name=name,
                                   marker=dict(size=5, color=theme.CLASS_COLOURS[label])))
    fig.update_layout(height=320, margin=theme.chart_margin(top=30), title=f"The 2-D code, epoch {snap.epoch}",
                      legend=dict(itemsizing="constant"))
    return fig
