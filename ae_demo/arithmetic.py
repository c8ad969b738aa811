"""Latent arithmetic: move an input's code along the direction from one class to another.

The direction is the difference of two class means in code space, each the mean code of
that class's held-out images (the codes a model's precomputed map already stores). The
input's code plus strength x (mean of class B - mean of class A) is decoded: a 7 moved
towards the 1s, a shirt towards the dresses. Strength 0 decodes the input's own code, so it
returns exactly the input's reconstruction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import as_model_input
from .maps import LatentMap
from .models import Autoencoder

DEFAULT_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)


def class_means(latent_map: LatentMap) -> np.ndarray:
    """(n_classes, latent_dim) float32: the mean held-out code of each class on ``latent_map``."""
    n_classes = int(latent_map.labels.max()) + 1
    return np.stack([latent_map.codes[latent_map.labels == c].mean(0) for c in range(n_classes)]).astype(np.float32)


@dataclass(frozen=True)
class Moved:
    """One input's code moved along a class direction, decoded at several strengths."""

    strengths: np.ndarray   # (S,)
    images: np.ndarray      # (S, 28, 28) float32 in [0, 1]; at strength 0 the input's own reconstruction
    code: np.ndarray        # (latent_dim,) the input's code
    direction: np.ndarray   # (latent_dim,) mean of the target class - mean of the source class


@torch.inference_mode()
def move_towards_class(model: Autoencoder, image: np.ndarray, means: np.ndarray, source: int, target: int,
                       strengths=DEFAULT_STRENGTHS) -> Moved:
    """(28, 28) in [0, 1] -> its code + s x (means[target] - means[source]), decoded, for each s of ``strengths``.

    Each code is decoded on its own, as ``model.reconstruct`` of the image alone does, so
    strength 0 gives that reconstruction bit for bit (a batch can round differently).
    """
    device = model.device
    x = as_model_input(np.asarray(image)[None], device)
    code = model.encode(x)                                                      # (1, latent_dim)
    direction = torch.from_numpy(np.asarray(means[target] - means[source], np.float32)).to(device)
    strengths = np.asarray(strengths, np.float32).reshape(-1)
    images = [model.decode(code + float(s) * direction).clamp(0, 1)[0, 0].cpu().numpy() for s in strengths]
    return Moved(strengths, np.stack(images), code[0].cpu().numpy(), direction.cpu().numpy())
