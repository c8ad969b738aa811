"""Everything the page shows about a visitor's inputs, computed in one place.

``compute_view`` takes a family's ladder (and PCA's at the same sizes) and the maps the page
shows, and a batch of prepared inputs, and returns every reconstruction and error, every
input's code at every size, and its position and nearest reference images on each map.
Each input is encoded once per model, from its float image: the star on a map, the morph
and the code sliders all start from the very code the ladder decoded.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .inference import LadderCache, LadderResult
from .maps import LatentMap

NEIGHBOURS = 8  # nearest reference images shown per input


@dataclass(frozen=True)
class MapView:
    """Where B inputs land on one map."""

    latent_map: LatentMap
    placed: np.ndarray       # (B, 2) map positions (the reference points never move)
    neighbours: np.ndarray   # (B, NEIGHBOURS) rows of the map's arrays, nearest in latent space first


@dataclass(frozen=True)
class InputsView:
    """What one family, and PCA at the family's sizes, make of B inputs."""

    net: LadderResult            # (L, B): codes, reconstructions, SSE, PSNR at each of the family's sizes
    pca: LadderResult            # the same for PCA at those sizes
    maps: dict[int, MapView]     # latent_dim -> the inputs on the map of that size (only the maps asked for)

    @property
    def latent_dims(self) -> tuple[int, ...]:
        return self.net.latent_dims

    def code(self, latent_dim: int, column: int) -> np.ndarray:
        """(latent_dim,) input ``column``'s code at ``latent_dim``."""
        return self.net.code(latent_dim, column)


def compute_view(net: LadderCache, pca: LadderCache, maps: Mapping[int, LatentMap], images: np.ndarray) -> InputsView:
    """(B, 28, 28) float32 images in [0, 1] -> the view. ``maps``: latent_dim -> the map to place on.

    The ladders come from their caches (only images new to the server are run); placing and
    the neighbours cost well under a millisecond per input and map.
    """
    images = np.ascontiguousarray(images, dtype=np.float32)
    ladder, linear = net.run(images), pca.run(images)
    placed = {}
    for z, latent_map in maps.items():
        codes = ladder.codes[ladder.latent_dims.index(z)]
        placed[z] = MapView(latent_map, *latent_map.locate(codes, NEIGHBOURS))
    return InputsView(ladder, linear, placed)
