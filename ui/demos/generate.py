"""New images: the VAE's prior samples beside random codes of the plain autoencoder of the same size."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ae_demo import generation
from ae_demo.display import image_strip

from .. import exports, formulas, i18n, resources, state, theme
from ..i18n import N_, _
from . import opened

SIZES = (2, 16)
DEFAULT_LATENT = SIZES[0]   # what the demo (and the tour's step) opens on
DEFAULT_SEED = 0
GRID_NAMES = {"vae": N_("the VAE's prior samples"), "box": N_("the plain net's box codes"),
              "fitted": N_("the plain net's fitted-Gaussian codes")}


def what_it_shows(dataset: str, z: int, seed: int) -> str:
    """What the three grids on screen show for this seed, in figures computed from them
    (``generation.what_the_pictures_show``), and how the gaps compare at the other code size."""
    shown = generation.what_the_pictures_show(resources.generated(dataset, z, seed))
    ink, gaps = shown["ink"], shown["gaps"]
    blurriest, sharpest, furthest = shown["blurriest"], shown["sharpest"], shown["furthest"]
    nearest = shown["nearest"]
    said = _("What seed {seed} shows at z = {z}: the blurriest pictures are {blurriest} (ink strength "
             "{blurriest_ink}), the sharpest {sharpest} ({sharpest_ink}); held-out images have {heldout_ink}. "
             "Furthest from real codes: {furthest} (median {furthest_gaps} neighbour gaps; {nearest} "
             "{nearest_gaps}).").format(
        seed=seed, z=z, blurriest=_(GRID_NAMES[blurriest]), blurriest_ink=i18n.number(ink[blurriest], 2),
        sharpest=_(GRID_NAMES[sharpest]), sharpest_ink=i18n.number(ink[sharpest], 2),
        heldout_ink=i18n.number(shown["heldout_ink"], 2), furthest=_(GRID_NAMES[furthest]),
        furthest_gaps=i18n.number(gaps[furthest]), nearest=_(GRID_NAMES[nearest]),
        nearest_gaps=i18n.number(gaps[nearest]))
    if furthest != blurriest:
        said += " " + _("So landing far from real codes did not make {furthest} decode to the blurriest pictures: a "
                        "decoder can draw sharp pictures far from its training codes.").format(
            furthest=_(GRID_NAMES[furthest]))
    other = next((size for size in SIZES if size != z and size in resources.zoo().latent_dims(dataset, "vae")), None)
    if other is not None:
        there = generation.what_the_pictures_show(resources.generated(dataset, other, seed))["gaps"]
        ratio, ratio_there = gaps["box"] / gaps["vae"], there["box"] / there["vae"]
        larger = z if ratio > ratio_there else other
        much = max(ratio, ratio_there) > 2 * min(ratio, ratio_there)
        said += " " + (_("The box's codes land {ratio}× as far from real codes as the VAE's draws at z = {z}, "
                         "{ratio_there}× at z = {other} with the same seed: the difference is much larger at "
                         "z = {larger}.") if much else
                       _("The box's codes land {ratio}× as far from real codes as the VAE's draws at z = {z}, "
                         "{ratio_there}× at z = {other} with the same seed: the difference is larger at "
                         "z = {larger}.")).format(ratio=i18n.number(ratio), z=z, ratio_there=i18n.number(ratio_there),
                                                  other=other, larger=larger)
    return said


def generate_section(dataset: str) -> None:
    with st.container(key="generate"):
        section = opened("generate", _("New images: sampling a VAE against a plain autoencoder"))
        if not section.open:
            return
        with section:
            formulas.show(formulas.VAE_LOSS, formulas.VAE_WORDS)
            cols = st.columns([1, 1, 1, 3])
            z = cols[0].radio(_("Code size"), SIZES, index=SIZES.index(DEFAULT_LATENT), horizontal=True,
                              key="generate_latent")
            seed = int(cols[1].number_input(_("Seed"), 0, 99_999, DEFAULT_SEED, key=state.GENERATE_SEED))
            cols[2].button(_("New samples"), key="generate_new", icon=":material/casino:", on_click=_next_seed)
            shown = resources.generated(dataset, z, seed)
            n = len(shown.vae_images)
            grids = (("generate_vae", _("**VAE, z = {z}: {n} codes drawn from its prior N(0, I)**").format(z=z, n=n),
                      shown.vae_images, shown.vae_gaps, f"vae-z{z}-seed{seed}.png",
                      _("{n} images the VAE decoded from random codes").format(n=n)),
                     ("generate_plain", _("**Convolutional autoencoder, z = {z}: {n} random codes from the box of "
                                          "its held-out codes**").format(z=z, n=n),
                      shown.plain_images, shown.plain_gaps, f"conv-z{z}-seed{seed}.png",
                      _("{n} images the convolutional autoencoder decoded from random codes in the box").format(n=n)),
                     ("generate_fitted", _("**The same autoencoder: {n} codes from a Gaussian fitted to its "
                                           "held-out codes**").format(n=n),
                      shown.fitted_images, shown.fitted_gaps, f"conv-fitted-z{z}-seed{seed}.png",
                      _("{n} images the convolutional autoencoder decoded from codes of the fitted Gaussian")
                      .format(n=n)))
            for cell, (key, title, images, gaps, file_name, alt) in zip(st.columns(3), grids):
                with cell, st.container(key=key):
                    st.markdown(title)
                    st.image(_grid(images), width="stretch", alt=alt,
                             caption=_("Ink strength {ink} · median {gaps} neighbour gaps from the nearest "
                                       "held-out code").format(
                                 ink=i18n.number(generation.ink_strength(images).mean(), 2),
                                 gaps=i18n.number(np.median(gaps))))
                    exports.strip_download(images, file_name, key=f"{key}_png")
            st.caption(what_it_shows(dataset, z, seed))
            st.caption(_("Ink strength: the mean brightness of a picture's inked pixels (those above "
                       "{ink}, with 1 for white): solid strokes score near 1, a blur spreads faint ink "
                       "and scores low. A neighbour gap is the median distance between a held-out image's code and "
                       "its nearest other one: about 1 means among real codes, far above means in empty space. "
                       "The plain autoencoder was only trained to rebuild its inputs and has no prior: its codes are "
                       "drawn uniformly between each code number's smallest and largest held-out value (the box), "
                       "and from the Gaussian with its held-out codes' mean and covariance. The VAE's KL term "
                       "pulls each image's q(z|x) towards N(0, I), so a draw from N(0, I) lands where its decoder "
                       "has learned something. What each grid looks like depends on the seed.").format(
                ink=i18n.number(generation.INK, 1)))
            if z == 2:
                _code_maps(dataset)


def _next_seed() -> None:
    state.set_widget(state.GENERATE_SEED, (state.widget(state.GENERATE_SEED, 0) + 1) % 100_000)


def _grid(images: np.ndarray, columns: int = 4, gap: int = 2) -> np.ndarray:
    """(N, 28, 28) in [0, 1] -> one uint8 picture, ``columns`` a row, grey as decoded (not stretched)."""
    rows = [image_strip(images[i:i + columns], gap) for i in range(0, len(images), columns)]
    spacer = np.full((gap, rows[0].shape[1]), 40, np.uint8)
    return np.vstack([part for row in rows for part in (row, spacer)][:-1])


def _code_maps(dataset: str) -> None:
    maps = resources.code_maps_2d(dataset)
    classes = resources.reference_for(dataset).classes
    left, right = st.columns(2)
    with left:
        fig = _scatter(maps.vae_codes, maps.vae_labels, classes, _("VAE z = 2: held-out codes (means)"))
        for radius, points in maps.circles.items():
            fig.add_trace(go.Scatter(x=points[:, 0], y=points[:, 1], mode="lines",
                                     name=_("prior {radius}σ").format(radius=i18n.number(radius, 0)),
                                     line=dict(color="white", width=2, dash="dash" if radius > 1 else "solid")))
        st.plotly_chart(fig, key="generate_vae_map", config=exports.chart_config("vae-code-map"))
    with right:
        st.plotly_chart(_scatter(maps.plain_codes, maps.plain_labels, classes,
                                 _("Convolutional z = 2: held-out codes")),
                        key="generate_plain_map", config=exports.chart_config("conv-code-map"))
    spread = generation.code_spread(maps.vae_codes)
    st.caption(_("Each dot is a held-out image's 2-D code ({n_vae} and {n_plain} images), coloured by its class. "
                 "The white circles on the VAE's map are the prior's 1σ and 2σ (in 2-D, {inside_1} % and "
                 "{inside_2} % of its draws fall inside them). The KL term pulls each q(z|x) towards the prior, "
                 "yet the held-out means spread wider: standard deviation {spread_0} and {spread_1} per code number, "
                 "against the prior's 1.").format(
        n_vae=i18n.integer(len(maps.vae_labels)), n_plain=i18n.integer(len(maps.plain_labels)),
        inside_1=i18n.number(100 * generation.share_inside(1.0), 0),
        inside_2=i18n.number(100 * generation.share_inside(2.0), 0),
        spread_0=i18n.number(spread[0], 2), spread_1=i18n.number(spread[1], 2)))


def _scatter(codes: np.ndarray, labels: np.ndarray, classes, title: str) -> go.Figure:
    fig = go.Figure()
    for label, name in enumerate(classes):
        rows = labels == label
        fig.add_trace(go.Scattergl(x=codes[rows, 0], y=codes[rows, 1], mode="markers", name=_(name),
                                   marker=dict(size=3, color=theme.CLASS_COLOURS[label], opacity=0.7)))
    fig.update_layout(height=420, margin=theme.chart_margin(top=40), title=title, legend=dict(itemsizing="constant"),
                      yaxis=dict(scaleanchor="x"))
    return fig
