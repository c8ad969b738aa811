"""The equations beside the pictures (``st.latex``), each symbol named once in words under it.

Colours are the network view's: the encoder blue, the code yellow, the decoder green. The
equations restate what ``ae_demo`` computes: ``models`` (the layers), ``train.training_loss``
(binary cross-entropy, the VAE's KL term), ``train.sparse_autoencoder_loss`` (UFLDL's cost)
and ``metrics.sse`` (the score).
"""
from __future__ import annotations

import streamlit as st

from ae_demo.network import CODE, DECODER, ENCODER, LayerOutput

from . import i18n
from .i18n import N_, _


def _coloured(colour: str, tex: str) -> str:
    return rf"{{\color{{{colour}}}{tex}}}"


def network_equations(outputs: list[LayerOutput], latent_dim: int, colours: dict[str, str]) -> tuple[str, str]:
    """(LaTeX, the symbols in words) of the model traced in ``outputs``: z = f(W₁x + b₁) and x̂ = g(W₂z + b₂)
    with one such step per learned layer of the chosen model; ``colours``: part -> the colour of its layers."""
    PART_COLOURS = colours  # noqa: N806
    n_enc = sum(1 for o in outputs if o.layer.part in (ENCODER, CODE))
    n_dec = sum(1 for o in outputs if o.layer.part == DECODER)
    enc = _coloured(PART_COLOURS[ENCODER], r"h_0 = x,\quad h_i = f_i(W_i \star h_{i-1} + b_i),\ i = 1 \ldots "
                    + str(n_enc))
    code = _coloured(PART_COLOURS[CODE], rf"z = h_{{{n_enc}}} \in \mathbb{{R}}^{{{latent_dim}}}")
    dec = _coloured(PART_COLOURS[DECODER], r"g_0 = z,\quad g_j = f'_j(V_j \star g_{j-1} + c_j),\ j = 1 \ldots "
                    + str(n_dec) + rf",\quad \hat{{x}} = \sigma(g_{{{n_dec}}})")
    words = _("x: the input, 784 pixels in [0, 1]; W_i, V_j: the learned weights of encoder layer i and decoder "
              "layer j; ⋆: a convolution for a convolutional layer, a matrix product for a dense one; b_i, c_j: "
              "the learned biases; f_i, f'_j: each layer's nonlinearity (the model's normalisation then GELU; "
              "none at the code and at the decoder's last layer); h_i, g_j: what each layer outputs (the pictures "
              "above); z: the code, {latent} numbers; σ: the logistic sigmoid 1/(1 + e^(−t)), which puts each pixel "
              "in (0, 1); x̂: the reconstruction. The encoder has {n_enc} steps (the last is the code), the decoder "
              "{n_dec}.").format(latent=i18n.integer(latent_dim), n_enc=i18n.integer(n_enc), n_dec=i18n.integer(n_dec))
    return rf"{enc} \\ {code} \\ {dec}", words


LADDER_LOSS = (r"\mathcal{L}(x, \hat{x}) = -\sum_{i=1}^{784} \big[x_i \log \hat{x}_i + (1 - x_i) \log(1 - \hat{x}_i)\big]"
               r"\qquad \mathrm{SSE}(x, \hat{x}) = \sum_{i=1}^{784} (\hat{x}_i - x_i)^2")
LADDER_WORDS = N_("Left, what the networks were trained to minimise (their cards' recipe): binary cross-entropy "
                "summed over the 784 pixels, averaged over each batch, x_i being pixel i of the input in [0, 1] and "
                "x̂_i the network's reconstruction of it (the VAE adds its KL term, in the sampling demo). Right, "
                "what every picture here is scored with: the sum of squared errors (SSE), 0 for an exact copy, "
                   "784 at most. PCA minimises the SSE itself.")


def sparse_cost(rho: float, beta: float, lam: float) -> tuple[str, str]:
    """UFLDL's cost J with its KL term written out, and its symbols in words."""
    tex = (r"J(W, b) = \frac{1}{m}\sum_{k=1}^{m} \tfrac{1}{2}\big\lVert \hat{x}^{(k)} - x^{(k)} \big\rVert^2"
           r" + \frac{\lambda}{2} \sum W^2 + \beta \sum_{j=1}^{h} \mathrm{KL}(\rho \,\Vert\, \hat{\rho}_j) \\"
           r"\mathrm{KL}(\rho \,\Vert\, \hat{\rho}_j) = \rho \log\frac{\rho}{\hat{\rho}_j}"
           r" + (1 - \rho) \log\frac{1 - \rho}{1 - \hat{\rho}_j},\qquad"
           r"\hat{\rho}_j = \frac{1}{m}\sum_{k=1}^{m} a_j(x^{(k)})")
    words = _("m: the images of a batch; x^(k): image k, x̂^(k) its reconstruction; ‖·‖²: the sum of squares over "
              "the 784 pixels; W: the weights of both layers (biases b excluded), λ = {lam} their decay; h: the "
              "hidden units; a_j(x): unit j's activation for input x; ρ̂_j: unit j's mean activation over the "
              "batch; ρ = {rho}: the target mean; β = {beta}: the weight of the sparsity penalty; KL: the "
              "Kullback-Leibler divergence between two coins that come up 1 with probabilities ρ and ρ̂_j, "
              "0 only when ρ̂_j = ρ.").format(lam=i18n.number(lam, None), rho=i18n.number(rho, None),
                                               beta=i18n.number(beta, None))
    return tex, words


VAE_LOSS = (r"\mathcal{L}(x) = -\sum_{i=1}^{784} \big[x_i \log \hat{x}_i + (1 - x_i) \log(1 - \hat{x}_i)\big]"
            r" + \mathrm{KL}\big(\mathcal{N}(\mu, \mathrm{diag}\,\sigma^2) \,\Vert\, \mathcal{N}(0, I)\big),\qquad"
            r"\mathrm{KL} = -\tfrac{1}{2}\sum_{d=1}^{z} \big(1 + \log \sigma_d^2 - \mu_d^2 - \sigma_d^2\big)")
VAE_WORDS = N_("The VAE's loss: reconstruction (binary cross-entropy over the 784 pixels, x the input and x̂ the "
               "image decoded from a code drawn from q(z|x)) plus the KL divergence from its encoder's Gaussian q(z|x) "
               "to the prior N(0, I). μ_d, σ_d²: the mean and variance the encoder gives code number d; z: the code "
               "size; N(0, I): the standard normal in z dimensions, where the demo draws its codes.")


# KaTeX lets a wide equation scroll sideways; on a phone it shrinks with the screen instead, and what still does
# not fit is cut, as no block of the page may scroll sideways (WCAG 1.4.10)
_FIT = ("<style>.katex-display { overflow: hidden !important; }"
        " .katex-display > .katex { font-size: min(1.21em, 3.4vw); }</style>")


def show(tex: str, words: str) -> None:
    """An equation and, under it, its symbols in words (translated here: ``LADDER_WORDS`` and ``VAE_WORDS`` are
    marked messages; the words built above are translated already, and a translation is no message)."""
    st.html(_FIT)
    st.latex(tex)
    st.caption(_(words))
