"""Reconstruction error, in the units the project reports everywhere.

SSE: squared error summed over the 784 pixels, pixels in [0, 1], per image (0 … 784).
PSNR: 10·log10(1 / mean squared error per pixel), in dB, per image.
"""
from __future__ import annotations

import numpy as np
import torch

from .data import as_model_input
from .models import Autoencoder, SparseAutoencoder


def sse(reconstruction, target):
    """(B, …), (B, …) -> (B,) sum of squared error over each image's pixels (784 for MNIST's 28x28):
    torch tensors give a tensor, numpy arrays an array. The project's one SSE."""
    difference = reconstruction - target
    return (difference * difference).reshape(len(difference), -1).sum(1)


def psnr(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, 1, 28, 28), (B, 1, 28, 28) -> (B,) peak signal-to-noise ratio in dB (peak 1.0)."""
    mse = (reconstruction.clamp(0, 1) - target).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


@torch.inference_mode()
def heldout_errors(model: Autoencoder, images: torch.Tensor, batch_size: int = 500) -> tuple[float, float]:
    """Mean SSE and mean PSNR (dB) of ``model`` over (N, 1, 28, 28) images in [0, 1].

    One reconstruction pass, batched on the model's device: the held-out set is 10,000
    Fashion-MNIST images, and a second pass for PSNR would double the cost.
    """
    device = model.device
    total_sse, total_psnr = 0.0, 0.0
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].to(device)
        recon = model.reconstruct(batch)
        total_sse += float(sse(recon, batch).double().sum())
        total_psnr += float(psnr(recon, batch).double().sum())
    return total_sse / len(images), total_psnr / len(images)


def sse_per_image(model: Autoencoder, images: torch.Tensor) -> float:
    """Mean SSE of ``model`` over (N, 1, 28, 28) images in [0, 1]."""
    return heldout_errors(model, images)[0]


@torch.inference_mode()
def unit_activations(model: SparseAutoencoder, images: torch.Tensor | np.ndarray, batch_size: int = 500
                     ) -> np.ndarray:
    """(hidden,) float64 ρ̂_j: each hidden unit's mean activation over (N, 1, 28, 28) images in [0, 1]
    (or the (N, 28, 28) numpy pictures the page keeps)."""
    device = model.device
    if isinstance(images, np.ndarray):
        images = as_model_input(images)
    total = sum(model.encode(images[start:start + batch_size].to(device)).double().sum(0).cpu()
                for start in range(0, len(images), batch_size))
    return (total / len(images)).numpy()


def mean_activation(model: SparseAutoencoder, images: torch.Tensor, batch_size: int = 500) -> float:
    """Mean hidden activation of a sparse net over (N, 1, 28, 28) images in [0, 1] and all its units.

    The figure its sparsity target ρ is about: ρ̂_j averaged over the units j, in (0, 1).
    """
    return float(unit_activations(model, images, batch_size).mean())


def cross_entropy_floor(images: torch.Tensor) -> float:
    """(N, 1, 28, 28) images in [0, 1] -> the lowest binary cross-entropy a reconstruction can score on them,
    summed over the 784 pixels and averaged over images, in nats: that of the exact copy, Σ H(x) with
    H(x) = −x ln x − (1 − x) ln(1 − x). Zero only for pure black-and-white pictures; grey pixels keep it up."""
    x = images.double().clamp(0, 1)
    entropy = -(torch.xlogy(x, x) + torch.xlogy(1 - x, 1 - x))
    return float(entropy.flatten(1).sum(1).mean())
