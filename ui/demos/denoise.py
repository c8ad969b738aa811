"""Denoising: corrupt the current input, and let the plain and the denoising autoencoder clean it.

Both are the same convolutional network with a 32-number code; the denoising one was trained
on inputs with Gaussian noise of σ = 0.3 and clean targets (Vincent et al., 2008).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ae_demo import corruption

from .. import exports, i18n, resources, state, theme
from ..i18n import N_, _
from . import opened

NOISES = (N_("Gaussian noise"), N_("Salt and pepper"), N_("Erased square"))
DEFAULT_SIGMA = 0.3     # the Gaussian noise a visitor sees first: the noise the denoising net was trained on
DEFAULT_SEED = 0


def denoise_section(dataset: str) -> None:
    with st.container(key="denoise"):
        section = opened("denoise", _("Denoising: clean up a corrupted input"))
        if not section.open:
            return
        with section:
            current = state.visitor().current_item()
            clean = current.prepared.image[None].astype(np.float32)
            cols = st.columns([2, 2, 1])
            kind = cols[0].radio(_("Corruption"), NOISES, horizontal=True, key="denoise_kind",
                                 format_func=i18n.fixed())
            seed = int(cols[2].number_input(_("Seed"), 0, 9999, DEFAULT_SEED, key="denoise_seed"))
            if kind == NOISES[0]:
                sigma = cols[1].slider(_("σ (standard deviation, 1 = black to white)"), 0.0, 1.0, DEFAULT_SIGMA, 0.05,
                                       key="denoise_sigma")
                corrupted = corruption.gaussian_noise(clean, sigma, seed)
                said = _("Gaussian noise of σ = {sigma}").format(sigma=i18n.number(sigma, 2))
            elif kind == NOISES[1]:
                rate = cols[1].slider(_("Share of pixels flipped to black or white"), 0.0, 0.5, 0.1, 0.01,
                                      key="denoise_rate")
                corrupted = corruption.salt_and_pepper(clean, rate, seed)
                said = _("{share} of pixels salt-and-pepper").format(share=i18n.percent(rate))
            else:
                size = cols[1].slider(_("Side of the erased square (pixels)"), 2, 20, 10, key="denoise_size")
                corrupted = corruption.erase_square(clean, size, seed=seed)
                said = _("a {size}×{size} square erased").format(size=size)
            plain, denoising = resources.denoising_pair(dataset)
            result = corruption.denoise(plain, denoising, clean, corrupted)
            st.caption(_("Your current input, {name}, with {corruption}. SSE: squared error over the 784 pixels "
                         "against the clean input (lower is better).").format(name=current.name, corruption=said))
            pictures = [(clean[0], _("clean input")),
                        (corrupted[0], _("corrupted · SSE {sse}").format(sse=i18n.number(result.corrupted_sse[0]))),
                        (result.plain[0], _("convolutional z = 32 · SSE {sse}").format(
                            sse=i18n.number(result.plain_sse[0]))),
                        (result.denoised[0], _("denoising z = 32 · SSE {sse}").format(
                            sse=i18n.number(result.denoised_sse[0])))]
            with st.container(key="denoise_pictures"):
                for cell, (picture, caption) in zip(st.columns(4), pictures):
                    cell.image(picture, caption=caption, width="stretch", alt=f"{current.name}: {caption}")
            exports.strip_download(np.stack([p for p, _caption in pictures]), "denoising.png", key="denoise_png")
            _curve(dataset)


def _curve(dataset: str) -> None:
    curve = resources.denoising_curve(dataset)
    lines = ((curve.corrupted_sse, _("the noisy input itself"), theme.GREY, "dot"),
             (curve.plain_sse, _("convolutional z = 32"), theme.BLUE, "solid"),
             (curve.denoised_sse, _("denoising z = 32 (trained at σ = 0.3)"), theme.GREEN, "solid"))
    fig = go.Figure()
    for y, name, colour, dash in lines:
        fig.add_trace(go.Scatter(x=curve.sigmas, y=y, mode="lines+markers", name=name,
                                 line=dict(color=colour, dash=dash)))
    fig.update_layout(height=340, margin=theme.chart_margin(), legend=dict(orientation="h", y=-0.3),
                      xaxis=dict(title=_("σ of the Gaussian noise added")),
                      yaxis=dict(title=_("mean SSE against the clean image")))
    st.plotly_chart(fig, key="denoise_curve", config=exports.chart_config("denoising-curve"))
    worse = corruption.plain_worse_than_noise(curve)
    if len(worse):
        first = int(np.flatnonzero(curve.sigmas == worse[0])[0])
        plain_says = _("The plain net never saw noise, and at σ = {sigmas} it does worse than leaving the input "
                       "alone: at σ = {sigma} its mean SSE is {plain} against the noisy input's {noisy}.").format(
            sigmas=", ".join(i18n.number(s) for s in worse), sigma=i18n.number(worse[0]),
            plain=i18n.number(curve.plain_sse[first]), noisy=i18n.number(curve.corrupted_sse[first]))
    else:
        plain_says = _("The plain net's error stays below the noisy input's at every σ here.")
    better_from = corruption.denoiser_better_from(curve)
    below = curve.sigmas < (better_from if better_from is not None else np.inf)
    below &= curve.sigmas > 0
    if better_from == curve.sigmas[1]:
        helps = _("The denoising net is below the noisy input at every σ here.")
    elif better_from is None:
        helps = _("The denoising net is not below the noisy input at the largest σ here.")
    else:
        helps = _("The denoising net is below the noisy input from σ = {sigma} on; below that the noise costs less "
                  "than what its bottleneck loses (at σ = {low}: {denoised} against {noisy}).").format(
            sigma=i18n.number(better_from), low=i18n.number(curve.sigmas[below][0]),
            denoised=i18n.number(curve.denoised_sse[below][0]), noisy=i18n.number(curve.corrupted_sse[below][0]))
    st.caption(_("Mean error on the first {count} bundled held-out images, each with Gaussian noise of every σ (the "
                 "same seed), judged against the clean image.").format(count=i18n.integer(curve.n_images))
               + f" {plain_says} {helps}")
    # the chart's numbers as text, for a screen reader (a Plotly chart is a picture to it)
    st.caption(" ".join(_("{line}: {values}.").format(
        line=name, values="; ".join(_("σ = {sigma}: {sse}").format(sigma=i18n.number(s), sse=i18n.number(e))
                                    for s, e in zip(curve.sigmas, y)))
        for y, name, _colour, _dash in lines))
