"""Projecting latent codes to 2-D map positions: UMAP, PCA, or the code itself.

Imports nothing heavy at module level (no torch, no umap), so the map fitter's worker
process (``ae_demo.map_fitter``) can import it and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRICS = ("euclidean", "cosine", "manhattan", "correlation")


@dataclass(frozen=True)
class MapSettings:
    method: str = "umap"        # "umap", "pca" or "identity" (a 2-D latent drawn as it is)
    n_neighbors: int = 15       # UMAP: size of the local neighbourhood (larger: more global structure)
    min_dist: float = 0.1       # UMAP: how tightly points may pack
    metric: str = "euclidean"   # distance in latent space, for UMAP and for placement
    seed: int = 0


def settings_for(latent_dim: int, requested: MapSettings = MapSettings()) -> MapSettings:
    """How a map of a ``latent_dim`` code is drawn: the one place that decides it.

    A 2-D code is drawn as it is ("identity": its map is the code space itself, so a click
    on it can be decoded); UMAP of two numbers would only bend that picture. PCA, asked
    for, stays PCA (a rotation of the 2-D code).
    """
    if latent_dim == 2 and requested.method == "umap":
        return MapSettings(method="identity", metric=requested.metric)
    return requested


def fit_coords(codes: np.ndarray, settings: MapSettings) -> np.ndarray:
    """(N, latent_dim) -> (N, 2) float32 positions for ``settings`` (see ``settings_for``)."""
    if settings.method == "identity":
        return codes[:, :2].astype(np.float32)
    if settings.method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=settings.seed).fit_transform(codes).astype(np.float32)
    if settings.method != "umap":
        raise ValueError(f"unknown map method {settings.method!r}")
    import umap  # seconds to import (numba): only ever on this path

    # n_jobs=1 said, not implied: a seeded fit runs on one thread anyway (UMAP forces it, and warned so
    # in every server's log at each fit)
    reducer = umap.UMAP(n_neighbors=settings.n_neighbors, min_dist=settings.min_dist, metric=settings.metric,
                        random_state=settings.seed, n_components=2, n_jobs=1)
    return reducer.fit_transform(codes).astype(np.float32)


def warm_up() -> None:
    """A tiny UMAP fit, so numba compiles every kernel a real fit needs (most of a minute the first time:
    ``benchmarks/bench_maps.py``)."""
    codes = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
    fit_coords(codes, MapSettings(n_neighbors=5))
