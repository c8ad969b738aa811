"""Turning 28x28 arrays into pictures people can see from the back of a room."""
from __future__ import annotations

import numpy as np

# Per-pixel error colours: black (0) -> red -> yellow -> white (1), like matplotlib's "hot".
_HOT = np.array([[0, 0, 0], [230, 30, 20], [255, 210, 40], [255, 255, 255]], dtype=np.float32)


def enlarge(image: np.ndarray, scale: int = 4) -> np.ndarray:
    """(28, 28) float in [0, 1] (or (28, 28, 3) uint8) -> uint8 scaled up by ``scale`` with hard pixel edges.

    Browsers blur a small image they stretch; repeating pixels here keeps the digits crisp.
    """
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    return image.repeat(scale, axis=0).repeat(scale, axis=1)


def error_heatmap(reconstruction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(28, 28), (28, 28) in [0, 1] -> (28, 28, 3) uint8: absolute error per pixel in the "hot" colours."""
    error = np.clip(np.abs(reconstruction - target), 0, 1) * (len(_HOT) - 1)
    low = np.minimum(error.astype(int), len(_HOT) - 2)
    frac = (error - low)[..., None]
    return ((1 - frac) * _HOT[low] + frac * _HOT[low + 1] + 0.5).astype(np.uint8)


def image_strip(images: np.ndarray, gap: int = 2) -> np.ndarray:
    """(N, H, W) float in [0, 1] -> (H, N*W + (N-1)*gap) uint8, side by side with dark gaps."""
    n, h, w = images.shape
    strip = np.full((h, n * w + (n - 1) * gap), 40, np.uint8)
    for i, image in enumerate(images):
        strip[:, i * (w + gap): i * (w + gap) + w] = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    return strip
