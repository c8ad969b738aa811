"""What the hidden units learned: the UFLDL tutorial's sparse autoencoder, with and without sparsity.

Each unit's picture is the norm-bounded input that excites it most, x = W_i / ‖W_i‖ (the
tutorial's figure). Computed only while the expander is open.
"""
from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ae_demo.display import bars_picture, tile_grid
from ae_demo.inference import encode_images, reconstruct_images
from ae_demo.zoo import FAMILIES

from . import exports, formulas, i18n, resources, state, theme
from .i18n import _

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
             width="stretch", caption=_("{hidden} hidden units, each as the input (of norm 1) that excites it most, "
                                        "x = W_i/‖W_i‖, each tile's contrast stretched on its own (black: its lowest "
                                        "value, white: its highest), so tiles do not compare in brightness. Framed in "
                                        "yellow: the {top} units your input excites most.").format(
                 hidden=i18n.integer(hidden), top=i18n.integer(TOP_UNITS)),
             alt=_("{hidden} grey tiles, one per hidden unit of the {title} net, {top} framed in yellow").format(
                 hidden=i18n.integer(hidden), title=title, top=i18n.integer(TOP_UNITS)))


BIN_EDGES = (0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0)   # the text summary's ranges of ρ̂_j (the chart's bins are 0.02)


def _histogram(dataset: str, rho: float) -> go.Figure:
    fig = go.Figure()
    for family, colour in (("sparse", theme.HIGHLIGHT), ("nosparse", theme.BLUE)):
        rho_hat = resources.mean_activations(dataset, family, HIDDEN)
        fig.add_trace(go.Histogram(x=rho_hat, name=_("{family}: mean {mean}").format(
                                       family=_(FAMILIES[family]), mean=i18n.number(rho_hat.mean(), 3)),
                                   marker_color=colour, opacity=0.7, xbins=dict(start=0, end=1, size=0.02)))
    fig.add_vline(x=rho, line=dict(color=theme.RED, dash="dash", width=3),
                  annotation_text=_("target ρ = {rho}").format(rho=i18n.number(rho, None)), annotation_font_size=15)
    fig.update_layout(barmode="overlay", height=300, margin=theme.chart_margin(top=30),
                      xaxis=dict(title=_("ρ̂_j: a unit's mean activation over the held-out images"), range=[0, 1],
                                 tickfont=dict(size=14)),
                      yaxis=dict(title=_("hidden units"), tickfont=dict(size=14)),
                      legend=dict(orientation="h", y=1.15))
    return fig


def histogram_summary(dataset: str) -> tuple[list[str], list[list[str]]]:
    """The histogram's numbers as a table a screen reader reaches: (header, one row per net): the net, then how
    many of its ``HIDDEN`` units have a mean activation ρ̂_j in each range of ``BIN_EDGES``, then their mean."""
    ranges = [f"{i18n.number(low, None)}–{i18n.number(high, None)}" for low, high in zip(BIN_EDGES, BIN_EDGES[1:])]
    header = [_("net"), *[_("units with ρ̂_j in {range}").format(range=r) for r in ranges], _("mean ρ̂_j")]
    rows = []
    for family in ("sparse", "nosparse"):
        rho_hat = resources.mean_activations(dataset, family, HIDDEN)
        counts, _edges = np.histogram(rho_hat, bins=BIN_EDGES)
        rows.append([_(FAMILIES[family]), *[i18n.integer(c) for c in counts], i18n.number(rho_hat.mean(), 3)])
    return header, rows


def _summary_table(header: list[str], rows: list[list[str]], caption: str) -> str:
    """An HTML table with a caption and header cells (``scope``), which screen readers read as a table."""
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in header)
    body = "".join("<tr>" + f'<th scope="row">{html.escape(row[0])}</th>'
                   + "".join(f"<td>{html.escape(cell)}</td>" for cell in row[1:]) + "</tr>" for row in rows)
    return (f'<table class="ae-chart-table"><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def features_section(dataset: str, current: state.InputItem) -> None:
    """The sparse net's and the β = 0 net's features side by side, what the current input lights up, ρ̂."""
    zoo = resources.zoo()
    if HIDDEN not in zoo.latent_dims(dataset, "sparse") or HIDDEN not in zoo.latent_dims(dataset, "nosparse"):
        return
    recipe = zoo.card(dataset, "sparse", HIDDEN).recipe
    rho, beta, lam = recipe["sparsity_target"], recipe["sparsity_weight"], recipe["weight_decay"]
    with st.container(key="features"):
        opened = st.expander(_("What the hidden units learned: a sparse autoencoder (UFLDL)"), key=state.FEATURES_OPEN,
                             on_change="rerun")
        if not opened.open:
            return
        with opened:
            n = zoo.samples[dataset].n_images
            st.markdown(_(
                "One hidden layer of {hidden} sigmoid units, 784 → {hidden} → 784, trained with its targets set to "
                "its inputs (y = x). {hidden} numbers are more than most bottlenecks above, but still "
                "{fewer}× fewer than the 784 pixels: this net is a bottleneck too. The tutorial adds "
                "another constraint, **sparsity**, and argues for it where the hidden layer is as large as the "
                "input or larger, so that it is no bottleneck: each unit's average "
                "activation ρ̂_j is pushed towards a small target ρ = {rho} (the value of UFLDL's MNIST exercise; "
                "the tutorial's text uses 0.05) by a penalty "
                "β·Σ_j KL(ρ ‖ ρ̂_j) with β = {beta}, beside a weight decay λ/2·‖W‖² with λ = {lam}. "
                "Left: that net. Right: the same net trained with β = 0.").format(
                    hidden=i18n.integer(HIDDEN), fewer=i18n.number(784 / HIDDEN, 0), rho=i18n.number(rho, None),
                    beta=i18n.number(beta, None), lam=i18n.number(lam, None)))
            formulas.show(*formulas.sparse_cost(rho, beta, lam))
            activations = {f: _activations(dataset, f, HIDDEN, current.prepared.image) for f in ("sparse", "nosparse")}
            left, right = st.columns(2)
            with left:
                _grid_panel(dataset, "sparse", HIDDEN, activations["sparse"],
                            _("With sparsity (β = {beta})").format(beta=i18n.number(beta, None)))
            with right:
                _grid_panel(dataset, "nosparse", HIDDEN, activations["nosparse"], _("Without (β = 0)"))
            st.markdown(_("**Your input's {hidden} hidden activations** (one bar per unit, 0 to 1) — {name}").format(
                hidden=i18n.integer(HIDDEN), name=current.name))
            bars = st.columns(2)
            for cell, family in zip(bars, ("sparse", "nosparse")):
                a = activations[family]
                above = i18n.integer(int((a > 0.5).sum()))
                cell.image(bars_picture(a, colour=theme.HIGHLIGHT, background=theme.BACKGROUND, width=588, height=120),
                           width="stretch", alt=_("bar chart of {hidden} activations, {above} above 0.5").format(
                               hidden=i18n.integer(HIDDEN), above=above),
                           caption=_("{family}: {above} of {hidden} units above 0.5, mean {mean}").format(
                               family=_(FAMILIES[family]), above=above, hidden=i18n.integer(HIDDEN),
                               mean=i18n.number(a.mean(), 3)))
            k = st.slider(_("Rebuild from its k most active units only"), 1, HIDDEN, 20, key="features_k")
            cells = st.columns(5)
            cells[0].image(current.prepared.image, caption=_("your input"), width="stretch", alt=current.name)
            for cell, family in zip(cells[1:3], ("sparse", "nosparse")):
                cell.image(_top_k_reconstruction(dataset, family, HIDDEN, current.prepared.image, k), width="stretch",
                           alt=_("{name} rebuilt by the {family} net from its top {k} units").format(
                               name=current.name, family=_(FAMILIES[family]), k=i18n.integer(k)),
                           caption=_("{family}: from its top {k} units").format(family=_(FAMILIES[family]),
                                                                               k=i18n.integer(k)))
            if OVERCOMPLETE in zoo.latent_dims(dataset, "sparse"):
                over = _activations(dataset, "sparse", OVERCOMPLETE, current.prepared.image)
                cells[3].image(_top_k_reconstruction(dataset, "sparse", OVERCOMPLETE, current.prepared.image, k),
                               width="stretch", caption=_("overcomplete, {units} units: from its top {k}").format(
                                   units=i18n.integer(OVERCOMPLETE), k=i18n.integer(k)),
                               alt=_("{name} rebuilt by the overcomplete net from its top {k} of {units} units").format(
                                   name=current.name, k=i18n.integer(k), units=i18n.integer(OVERCOMPLETE)))
                with cells[4]:
                    st.caption(_("The overcomplete net has {units} hidden units, more than the 784 pixels, "
                                 "trained with the same sparsity penalty; your input excites "
                                 "{above} of them above 0.5.").format(units=i18n.integer(OVERCOMPLETE),
                                                                      above=i18n.integer(int((over > 0.5).sum()))))
            st.plotly_chart(_histogram(dataset, rho), key="features_rho_hat",
                            config=exports.chart_config("mean-activations"))
            means = {f: float(resources.mean_activations(dataset, f, HIDDEN).mean()) for f in ("sparse", "nosparse")}
            st.caption(_("ρ̂_j of every hidden unit, measured on the {n} bundled held-out images; the legend gives "
                         "each net's mean over its units. The penalty holds the sparse net's units near ρ = {rho} "
                         "(mean {sparse}); without it their mean activation is {nosparse}.").format(
                             n=i18n.integer(n), rho=i18n.number(rho, None), sparse=i18n.number(means["sparse"], 3),
                             nosparse=i18n.number(means["nosparse"], 3)))
            with st.container(key="features_rho_hat_summary"):
                st.html(_summary_table(*histogram_summary(dataset), caption=_(
                    "The chart's numbers: how many of the {hidden} hidden units have each range of mean activation "
                    "ρ̂_j, measured on the {n} bundled held-out images.").format(hidden=i18n.integer(HIDDEN),
                                                                                n=i18n.integer(n))))

