"""What the hidden units learned: the UFLDL tutorial's sparse autoencoder, with and without sparsity.

Each unit's picture is the norm-bounded input that excites it most, x = W_i / ‖W_i‖ (the
tutorial's figure). Computed only while the expander is open.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ae_demo.display import bars_picture, tile_grid
from ae_demo.inference import encode_images, reconstruct_images
from ae_demo.zoo import FAMILIES

from . import exports, formulas, resources, state, theme

HIDDEN = 196            # the tutorial's hidden layer: 14 × 14 units
OVERCOMPLETE = 1000     # more hidden units than the 784 pixels
TOP_UNITS = 8           # how many of its most active units are picked out


def _activations(dataset: str, family: str, hidden: int, image: np.ndarray) -> np.ndarray:
    """(28, 28) -> (hidden,) the net's hidden activations for the image."""
    return encode_images(resources.models_for(dataset, family)[hidden], image[None])[0]


def _top_k_reconstruction(dataset: str, family: str, hidden: int, image: np.ndarray, k: int) -> np.ndarray:
    """(28, 28) -> (28, 28) rebuilt from the image's k most active hidden units."""
    return reconstruct_images(resources.models_for(dataset, family)[hidden], image[None], top_k=k)[0]


def _grid_panel(dataset: str, family: str, hidden: int, activations: np.ndarray, title: str) -> None:
    top = np.argsort(activations)[::-1][:TOP_UNITS]
    st.markdown(f"**{title}**")
    columns = int(np.ceil(np.sqrt(hidden)))
    st.image(tile_grid(resources.unit_features(dataset, family, hidden), columns, {int(i): theme.HIGHLIGHT for i in top}, scale=2),
             width="stretch", caption=f"{hidden} hidden units, each as the input (of norm 1) that excites it most, "
             f"x = W_i/‖W_i‖, each tile's contrast stretched on its own (black: its lowest value, white: its "
             f"highest), so tiles do not compare in brightness. Framed in yellow: the {TOP_UNITS} units your input "
             "excites most.",
             alt=f"{hidden} grey tiles, one per hidden unit of the {title} net, {TOP_UNITS} framed in yellow")


def _histogram(dataset: str, rho: float) -> go.Figure:
    fig = go.Figure()
    for family, colour in (("sparse", theme.HIGHLIGHT), ("nosparse", theme.BLUE)):
        rho_hat = resources.mean_activations(dataset, family, HIDDEN)
        fig.add_trace(go.Histogram(x=rho_hat, name=f"{FAMILIES[family]}: mean {rho_hat.mean():.3f}",
                                   marker_color=colour, opacity=0.7, xbins=dict(start=0, end=1, size=0.02)))
    fig.add_vline(x=rho, line=dict(color=theme.RED, dash="dash", width=3),
                  annotation_text=f"target ρ = {rho}", annotation_font_size=15)
    fig.update_layout(barmode="overlay", height=300, margin=theme.chart_margin(top=30),
                      xaxis=dict(title="ρ̂_j: a unit's mean activation over the held-out images", range=[0, 1],
                                 tickfont=dict(size=14)),
                      yaxis=dict(title="hidden units", tickfont=dict(size=14)),
                      legend=dict(orientation="h", y=1.15))
    return fig


def features_section(dataset: str, current: state.InputItem) -> None:
    """The sparse net's and the β = 0 net's features side by side, what the current input lights up, ρ̂."""
    zoo = resources.zoo()
    if HIDDEN not in zoo.latent_dims(dataset, "sparse") or HIDDEN not in zoo.latent_dims(dataset, "nosparse"):
        return
    recipe = zoo.card(dataset, "sparse", HIDDEN).recipe
    rho, beta, lam = recipe["sparsity_target"], recipe["sparsity_weight"], recipe["weight_decay"]
    with st.container(key="features"):
        opened = st.expander("What the hidden units learned: a sparse autoencoder (UFLDL)", key=state.FEATURES_OPEN,
                             on_change="rerun")
        if not opened.open:
            return
        with opened:
            n = zoo.samples[dataset].n_images
            st.markdown(
                f"One hidden layer of {HIDDEN} sigmoid units, 784 → {HIDDEN} → 784, trained with its targets set to "
                f"its inputs (y = x). {HIDDEN} numbers are more than most bottlenecks above, but still "
                f"{784 / HIDDEN:.0f}× fewer than the 784 pixels: this net is a bottleneck too. The tutorial adds "
                "another constraint, **sparsity**, and argues for it where the hidden layer is as large as the "
                "input or larger, so that it is no bottleneck: each unit's average "
                f"activation ρ̂_j is pushed towards a small target ρ = {rho} (the value of UFLDL's MNIST exercise; "
                "the tutorial's text uses 0.05) by a penalty "
                f"β·Σ_j KL(ρ ‖ ρ̂_j) with β = {beta}, beside a weight decay λ/2·‖W‖² with λ = {lam}. "
                "Left: that net. Right: the same net trained with β = 0.")
            formulas.show(*formulas.sparse_cost(rho, beta, lam))
            activations = {f: _activations(dataset, f, HIDDEN, current.prepared.image) for f in ("sparse", "nosparse")}
            left, right = st.columns(2)
            with left:
                _grid_panel(dataset, "sparse", HIDDEN, activations["sparse"], f"With sparsity (β = {beta})")
            with right:
                _grid_panel(dataset, "nosparse", HIDDEN, activations["nosparse"], "Without (β = 0)")
            st.markdown(f"**Your input's {HIDDEN} hidden activations** (one bar per unit, 0 to 1) — "
                        f"{current.name}")
            bars = st.columns(2)
            for cell, family in zip(bars, ("sparse", "nosparse")):
                a = activations[family]
                cell.image(bars_picture(a, colour=theme.HIGHLIGHT, background=theme.BACKGROUND, width=588, height=120),
                           width="stretch", alt=f"bar chart of {HIDDEN} activations, {int((a > 0.5).sum())} above 0.5",
                           caption=f"{FAMILIES[family]}: {int((a > 0.5).sum())} of {HIDDEN} units above 0.5, "
                                   f"mean {a.mean():.3f}")
            k = st.slider("Rebuild from its k most active units only", 1, HIDDEN, 20, key="features_k")
            cells = st.columns(5)
            cells[0].image(current.prepared.image, caption="your input", width="stretch", alt=current.name)
            for cell, family in zip(cells[1:3], ("sparse", "nosparse")):
                cell.image(_top_k_reconstruction(dataset, family, HIDDEN, current.prepared.image, k), width="stretch",
                           alt=f"{current.name} rebuilt by the {FAMILIES[family]} net from its top {k} units",
                           caption=f"{FAMILIES[family]}: from its top {k} units")
            if OVERCOMPLETE in zoo.latent_dims(dataset, "sparse"):
                over = _activations(dataset, "sparse", OVERCOMPLETE, current.prepared.image)
                cells[3].image(_top_k_reconstruction(dataset, "sparse", OVERCOMPLETE, current.prepared.image, k),
                               width="stretch", caption=f"overcomplete, {OVERCOMPLETE} units: from its top {k}",
                               alt=f"{current.name} rebuilt by the overcomplete net from its top {k} of "
                                   f"{OVERCOMPLETE} units")
                with cells[4]:
                    st.caption(f"The overcomplete net has {OVERCOMPLETE:,} hidden units, more than the 784 pixels, "
                               f"trained with the same sparsity penalty; your input excites "
                               f"{int((over > 0.5).sum())} of them above 0.5.")
            st.plotly_chart(_histogram(dataset, rho), key="features_rho_hat",
                            config=exports.chart_config("mean-activations"))
            means = {f: float(resources.mean_activations(dataset, f, HIDDEN).mean()) for f in ("sparse", "nosparse")}
            st.caption(f"ρ̂_j of every hidden unit, measured on the {n:,} bundled held-out images; the legend gives "
                       f"each net's mean over its units. The penalty holds the sparse net's units near ρ = {rho} "
                       f"(mean {means['sparse']:.3f}); without it their mean activation is {means['nosparse']:.3f}.")
