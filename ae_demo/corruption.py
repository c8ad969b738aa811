"""Corrupting images, and how well the plain and the denoising autoencoder undo it.

Three corruptions of ``(B, 28, 28)`` float32 images in [0, 1], each seeded (the same seed
gives the same corruption) and clipped to [0, 1]: Gaussian noise of standard deviation σ,
salt-and-pepper noise at a rate, and an erased (black) square.

``denoising_curve`` measures, over held-out images, the error of the convolutional z = 32
autoencoder (``conv_z32_<dataset>``) and of the denoising one (``dae_z32_<dataset>``, the
same network trained on inputs with Gaussian noise of σ = 0.3, after Vincent et al., 2008)
when each is given a noisy input and judged against the clean one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import PRETRAINED_DIR
from .inference import run_ladder
from .metrics import sse
from .models import Autoencoder
from .zoo import load_model, load_verified_reference, model_name

DENOISING_SIGMAS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)  # the curve's noise levels; the denoising net trained at 0.3
DENOISING_IMAGES = 200  # the first 200 held-out images: 2,400 conv passes for the default curve (12 s on a busy core)


def _as_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images, np.float32)
    if images.ndim != 3:
        raise ValueError(f"expected (B, 28, 28) images, got shape {images.shape}")
    return images


def gaussian_noise(images: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """(B, 28, 28) in [0, 1] -> the same plus N(0, σ²) noise on every pixel, clipped to [0, 1].

    sigma: standard deviation in pixel units (1 = the full range from black to white).
    """
    images = _as_images(images)
    noise = np.random.default_rng(seed).normal(0.0, sigma, images.shape).astype(np.float32)
    return np.clip(images + noise, 0.0, 1.0)


def salt_and_pepper(images: np.ndarray, rate: float, seed: int = 0) -> np.ndarray:
    """(B, 28, 28) in [0, 1] -> a copy with a share ``rate`` of the pixels set to 0 or 1 (half each, on average)."""
    images = _as_images(images)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], not {rate}")
    rng = np.random.default_rng(seed)
    hit = rng.random(images.shape) < rate
    salt = rng.random(images.shape) < 0.5
    return np.where(hit, salt.astype(np.float32), images).astype(np.float32)


def erase_square(images: np.ndarray, size: int, top: int | None = None, left: int | None = None,
                 seed: int = 0) -> np.ndarray:
    """(B, 28, 28) in [0, 1] -> a copy with a ``size`` x ``size`` pixel square set to 0 (the background).

    top, left: the square's upper-left pixel, the same for every image; either left out is
    drawn per image (seeded) so that the square lies wholly inside the 28x28 field.
    """
    images = _as_images(images).copy()
    _, h, w = images.shape
    if not 1 <= size <= min(h, w):
        raise ValueError(f"size must be 1 … {min(h, w)} pixels, not {size}")
    rng = np.random.default_rng(seed)
    tops = np.full(len(images), top) if top is not None else rng.integers(0, h - size + 1, len(images))
    lefts = np.full(len(images), left) if left is not None else rng.integers(0, w - size + 1, len(images))
    for image, y, x in zip(images, tops, lefts):
        image[max(0, y):y + size, max(0, x):x + size] = 0.0
    return images


@dataclass(frozen=True)
class Denoised:
    """What the plain and the denoising autoencoder make of B corrupted inputs."""

    plain: np.ndarray            # (B, 28, 28) float32 in [0, 1]: conv z = 32's reconstruction of the corrupted input
    denoised: np.ndarray         # (B, 28, 28) float32 in [0, 1]: the denoising net's
    plain_sse: np.ndarray        # (B,) SSE over 784 pixels of ``plain`` against the clean image
    denoised_sse: np.ndarray     # (B,) the same for ``denoised``
    corrupted_sse: np.ndarray    # (B,) the corrupted input itself against the clean image (doing nothing)


def denoise(plain: Autoencoder, denoising: Autoencoder, clean: np.ndarray, corrupted: np.ndarray) -> Denoised:
    """Both networks on (B, 28, 28) ``corrupted`` inputs, judged against the (B, 28, 28) ``clean`` ones."""
    clean, corrupted = _as_images(clean), _as_images(corrupted)
    plain_out = run_ladder({plain.latent_dim: plain}, corrupted).reconstructions[0]
    denoised_out = run_ladder({denoising.latent_dim: denoising}, corrupted).reconstructions[0]
    return Denoised(plain_out, denoised_out, sse(plain_out, clean), sse(denoised_out, clean),
                    sse(corrupted, clean))


def load_denoising_pair(dataset: str, directory: Path = PRETRAINED_DIR) -> tuple[Autoencoder, Autoencoder]:
    """(conv_z32_<dataset>, dae_z32_<dataset>) on the CPU."""
    return (load_model(model_name("conv", 32, dataset), directory),
            load_model(model_name("dae", 32, dataset), directory))


@dataclass(frozen=True)
class DenoisingCurve:
    """Held-out error of both networks over noise levels: mean SSE (784 pixels) against the clean input."""

    dataset: str
    sigmas: np.ndarray           # (S,) Gaussian noise standard deviations
    plain_sse: np.ndarray        # (S,) conv_z32_<dataset>
    denoised_sse: np.ndarray     # (S,) dae_z32_<dataset>
    corrupted_sse: np.ndarray    # (S,) the noisy input itself
    n_images: int                # the first n_images of the bundled held-out sample


def denoising_curve(dataset: str, sigmas: tuple[float, ...] = DENOISING_SIGMAS, n_images: int = DENOISING_IMAGES,
                    seed: int = 0, pair: tuple[Autoencoder, Autoencoder] | None = None,
                    directory: Path = PRETRAINED_DIR) -> DenoisingCurve:
    """Mean SSE of conv z = 32 and the denoising net over the first ``n_images`` held-out images, per σ.

    Each σ adds Gaussian noise with the same ``seed``; ``pair`` is (plain, denoising), loaded
    when left out. Meant to be computed once per server: about 2 x len(sigmas) x n_images
    network passes.
    """
    plain, denoising = pair or load_denoising_pair(dataset, directory)
    clean = load_verified_reference(dataset, directory).images[:n_images].numpy().astype(np.float32) / 255.0
    rows = [denoise(plain, denoising, clean, gaussian_noise(clean, sigma, seed)) for sigma in sigmas]
    return DenoisingCurve(dataset, np.asarray(sigmas, np.float32),
                          np.array([r.plain_sse.mean() for r in rows], np.float32),
                          np.array([r.denoised_sse.mean() for r in rows], np.float32),
                          np.array([r.corrupted_sse.mean() for r in rows], np.float32), len(clean))


def plain_worse_than_noise(curve: DenoisingCurve) -> np.ndarray:
    """(K,) the σ > 0 of ``curve`` at which the plain net's mean SSE is above the noisy input's own: where
    running the net that never saw noise does worse than leaving the input alone."""
    worse = (curve.plain_sse > curve.corrupted_sse) & (curve.sigmas > 0)
    return curve.sigmas[worse]


def denoiser_better_from(curve: DenoisingCurve) -> float | None:
    """The smallest σ of ``curve`` from which on the denoising net's mean SSE is below the noisy input's at
    every larger σ too; None when it is not below at the largest. (At very low noise leaving the input alone
    can beat even the denoising net: the noise costs less than what the bottleneck loses.)"""
    better = (curve.denoised_sse < curve.corrupted_sse) & (curve.sigmas > 0)
    if not better[-1]:
        return None
    first = len(better) - 1
    while first > 0 and better[first - 1]:
        first -= 1
    return float(curve.sigmas[first])
