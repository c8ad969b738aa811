"""New images: the VAE's prior samples beside random codes of the plain autoencoder of the same size."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ae_demo.display import image_strip

from .. import exports, resources, state, theme
from . import opened

SIZES = (2, 16)


def generate_section(dataset: str) -> None:
    with st.container(key="generate"):
        section = opened("generate", "New images: sampling a VAE against a plain autoencoder")
        if not section.open:
            return
        with section:
            cols = st.columns([1, 1, 1, 3])
            z = cols[0].radio("Code size", SIZES, horizontal=True, key="generate_latent")
            seed = int(cols[1].number_input("Seed", 0, 99_999, 0, key=state.GENERATE_SEED))
            cols[2].button("New samples", key="generate_new", icon=":material/casino:", on_click=_next_seed)
            shown = resources.generated(dataset, z, seed)
            n = len(shown.vae_images)
            left, right = st.columns(2)
            with left, st.container(key="generate_vae"):
                st.markdown(f"**VAE, z = {z}: {n} codes drawn from its prior N(0, I)**")
                st.image(_grid(shown.vae_images), width="stretch", alt=f"{n} images the VAE decoded from random codes",
                         caption=f"Median distance to the nearest held-out code: {np.median(shown.vae_gaps):.1f} "
                                 "neighbour gaps")
                exports.strip_download(shown.vae_images, f"vae-z{z}-seed{seed}.png", key="generate_vae_png")
            with right, st.container(key="generate_plain"):
                st.markdown(f"**Convolutional autoencoder, z = {z}: {n} random codes from the box of its "
                            "held-out codes**")
                st.image(_grid(shown.plain_images), width="stretch",
                         alt=f"{n} images the convolutional autoencoder decoded from random codes",
                         caption=f"Median distance to the nearest held-out code: {np.median(shown.plain_gaps):.1f} "
                                 "neighbour gaps")
                exports.strip_download(shown.plain_images, f"conv-z{z}-seed{seed}.png", key="generate_plain_png")
            st.caption("A neighbour gap is the median distance between a held-out image's code and its nearest "
                       "other one: about 1 means among real codes, far above means in empty space. The plain "
                       "autoencoder was only trained to rebuild its inputs and has no prior; each of its code "
                       "numbers is drawn here uniformly between its smallest and largest held-out value. The VAE's "
                       "KL term pulls each image's q(z|x) towards N(0, I), so a draw from N(0, I) lands where its "
                       "decoder has learned something. Which grid looks blurrier depends on the seed: look at both.")
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
        fig = _scatter(maps.vae_codes, maps.vae_labels, classes, "VAE z = 2: held-out codes (means)")
        for radius, points in maps.circles.items():
            fig.add_trace(go.Scatter(x=points[:, 0], y=points[:, 1], mode="lines", name=f"prior {radius:.0f}σ",
                                     line=dict(color="white", width=2, dash="dash" if radius > 1 else "solid")))
        st.plotly_chart(fig, key="generate_vae_map", config=exports.chart_config("vae-code-map"))
    with right:
        st.plotly_chart(_scatter(maps.plain_codes, maps.plain_labels, classes, "Convolutional z = 2: held-out codes"),
                        key="generate_plain_map", config=exports.chart_config("conv-code-map"))
    st.caption(f"Each dot is a held-out image's 2-D code ({len(maps.vae_labels):,} and {len(maps.plain_labels):,} "
               "images), coloured by its class. The white circles on the VAE's map are the prior's 1σ and 2σ "
               "(in 2-D, 39 % and 86 % of its draws fall inside them).")


def _scatter(codes: np.ndarray, labels: np.ndarray, classes, title: str) -> go.Figure:
    fig = go.Figure()
    for label, name in enumerate(classes):
        rows = labels == label
        fig.add_trace(go.Scattergl(x=codes[rows, 0], y=codes[rows, 1], mode="markers", name=name,
                                   marker=dict(size=3, color=theme.CLASS_COLOURS[label], opacity=0.7)))
    fig.update_layout(height=420, margin=theme.chart_margin(top=40), title=title, legend=dict(itemsizing="constant"),
                      yaxis=dict(scaleanchor="x"))
    return fig
