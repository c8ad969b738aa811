"""Reconstruction error, in the units the project reports everywhere.

SSE: squared error summed over the 784 pixels, pixels in [0, 1], per image (0 … 784).
PSNR: 10·log10(1 / mean squared error per pixel), in dB, per image.
"""
from __future__ import annotations

import torch

from .models import Autoencoder


def sse(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, 1, 28, 28), (B, 1, 28, 28) -> (B,) sum of squared error over the 784 pixels."""
    return (reconstruction - target).pow(2).flatten(1).sum(1)


def psnr(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, 1, 28, 28), (B, 1, 28, 28) -> (B,) peak signal-to-noise ratio in dB (peak 1.0)."""
    mse = (reconstruction.clamp(0, 1) - target).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


@torch.inference_mode()
def sse_per_image(model: Autoencoder, images: torch.Tensor, batch_size: int = 1000) -> float:
    """Mean SSE of ``model`` over (N, 1, 28, 28) images in [0, 1], batched, on the model's device."""
    device = model.device
    total = 0.0
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].to(device)
        total += float(sse(model.reconstruct(batch), batch).double().sum())
    return total / len(images)
