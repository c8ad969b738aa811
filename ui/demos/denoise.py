"""Denoising: corrupt the current input, and let the plain and the denoising autoencoder clean it.

Both are the same convolutional network with a 32-number code; the denoising one was trained
on inputs with Gaussian noise of σ = 0.3 and clean targets (Vincent et al., 2008).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ae_demo import corruption

from .. import exports, resources, state, theme
from . import opened

NOISES = ("Gaussian noise", "Salt and pepper", "Erased square")
DEFAULT_SIGMA = 0.3     # the Gaussian noise a visitor sees first: the noise the denoising net was trained on
DEFAULT_SEED = 0


def denoise_section(dataset: str) -> None:
    with st.container(key="denoise"):
        section = opened("denoise", "Denoising: clean up a corrupted input")
        if not section.open:
            return
        with section:
            current = state.visitor().current_item()
            clean = current.prepared.image[None].astype(np.float32)
            cols = st.columns([2, 2, 1])
            kind = cols[0].radio("Corruption", NOISES, horizontal=True, key="denoise_kind")
            seed = int(cols[2].number_input("Seed", 0, 9999, DEFAULT_SEED, key="denoise_seed"))
            if kind == NOISES[0]:
                sigma = cols[1].slider("σ (standard deviation, 1 = black to white)", 0.0, 1.0, DEFAULT_SIGMA, 0.05,
                                       key="denoise_sigma")
                corrupted, said = corruption.gaussian_noise(clean, sigma, seed), f"Gaussian noise of σ = {sigma:.2f}"
            elif kind == NOISES[1]:
                rate = cols[1].slider("Share of pixels flipped to black or white", 0.0, 0.5, 0.1, 0.01,
                                      key="denoise_rate")
                corrupted, said = corruption.salt_and_pepper(clean, rate, seed), f"{rate:.0%} of pixels salt-and-pepper"
            else:
                size = cols[1].slider("Side of the erased square (pixels)", 2, 20, 10, key="denoise_size")
                corrupted, said = corruption.erase_square(clean, size, seed=seed), f"a {size}×{size} square erased"
            plain, denoising = resources.denoising_pair(dataset)
            result = corruption.denoise(plain, denoising, clean, corrupted)
            st.caption(f"Your current input, {current.name}, with {said}. SSE: squared error over the 784 pixels "
                       "against the clean input (lower is better).")
            pictures = [(clean[0], "clean input"),
                        (corrupted[0], f"corrupted · SSE {result.corrupted_sse[0]:.1f}"),
                        (result.plain[0], f"convolutional z = 32 · SSE {result.plain_sse[0]:.1f}"),
                        (result.denoised[0], f"denoising z = 32 · SSE {result.denoised_sse[0]:.1f}")]
            with st.container(key="denoise_pictures"):
                for cell, (picture, caption) in zip(st.columns(4), pictures):
                    cell.image(picture, caption=caption, width="stretch", alt=f"{current.name}: {caption}")
            exports.strip_download(np.stack([p for p, _ in pictures]), "denoising.png", key="denoise_png")
            _curve(dataset)


def _curve(dataset: str) -> None:
    curve = resources.denoising_curve(dataset)
    fig = go.Figure()
    for y, name, colour, dash in ((curve.corrupted_sse, "the noisy input itself", theme.GREY, "dot"),
                                  (curve.plain_sse, "convolutional z = 32", theme.BLUE, "solid"),
                                  (curve.denoised_sse, "denoising z = 32 (trained at σ = 0.3)", theme.GREEN, "solid")):
        fig.add_trace(go.Scatter(x=curve.sigmas, y=y, mode="lines+markers", name=name,
                                 line=dict(color=colour, dash=dash)))
    fig.update_layout(height=340, margin=theme.chart_margin(), legend=dict(orientation="h", y=-0.3),
                      xaxis=dict(title="σ of the Gaussian noise added"),
                      yaxis=dict(title="mean SSE against the clean image"))
    st.plotly_chart(fig, key="denoise_curve", config=exports.chart_config("denoising-curve"))
    worse = corruption.plain_worse_than_noise(curve)
    if len(worse):
        first = int(np.flatnonzero(curve.sigmas == worse[0])[0])
        plain_says = (f"The plain net never saw noise, and at σ = {', '.join(f'{s:.1f}' for s in worse)} it does worse "
                      f"than leaving the input alone: at σ = {worse[0]:.1f} its mean SSE is "
                      f"{curve.plain_sse[first]:.1f} against the noisy input's {curve.corrupted_sse[first]:.1f}.")
    else:
        plain_says = "The plain net's error stays below the noisy input's at every σ here."
    better_from = corruption.denoiser_better_from(curve)
    below = curve.sigmas < (better_from if better_from is not None else np.inf)
    below &= curve.sigmas > 0
    helps = ("The denoising net is below the noisy input at every σ here." if better_from == curve.sigmas[1] else
             "The denoising net is not below the noisy input at the largest σ here." if better_from is None else
             f"The denoising net is below the noisy input from σ = {better_from:.1f} on; below that the noise costs "
             f"less than what its bottleneck loses (at σ = {curve.sigmas[below][0]:.1f}: "
             f"{curve.denoised_sse[below][0]:.1f} against {curve.corrupted_sse[below][0]:.1f}).")
    st.caption(f"Mean error on the first {curve.n_images} bundled held-out images, each with Gaussian noise of "
               f"every σ (the same seed), judged against the clean image. {plain_says} {helps}")
