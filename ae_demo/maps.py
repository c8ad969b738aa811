"""2-D maps of a model's latent space, and placing new inputs on them without refitting.

A map is the bundled held-out reference images, encoded by one model, projected to 2-D:
by UMAP (McInnes, Healy & Melville, 2018) for the default maps, by PCA on request, and
not at all for a 2-D latent, which is drawn as it is.

New inputs are placed by their neighbours, never by refitting: among an input's
``PLACE_K`` nearest reference codes in latent space, the one whose map position is closest
to the others' (the weighted medoid) picks the cluster, and the input lands at the
distance-weighted mean of those neighbours that sit within ``LOCAL_RADIUS`` of it on the
map. A plain weighted mean (how UMAP initialises ``transform``) lands between two clusters
when the neighbours are split across them, a place no image of either class occupies.
Placement never moves the reference points, costs well under a millisecond per input
and needs no UMAP import at run time.

Default maps are precomputed (``python -m ae_demo.maps``) into ``pretrained/maps`` with
their checksums in the card: the map positions and the reference codes themselves, made with
the weights whose checksum the card entry names. Opening a map fits and encodes nothing (encoding
the reference images was seconds per map on one CPU thread, four maps to a page).

    python -m ae_demo.maps                      # every default map
    python -m ae_demo.maps --dataset mnist conv_z32_mnist
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from .data import PRETRAINED_DIR, sha256_of, to_unit
from .datasets import dataset as dataset_entry, names
from .models import Autoencoder
from .projection import METRICS, MapSettings, fit_coords, settings_for
from .zoo import (LADDER_FAMILIES, ModelCard, ZooError, editing_manifest, load_model, load_verified_reference,
                  read_zoo, verify_file)

PLACE_K = 5       # latent neighbours that decide where an input lands
LOCAL_RADIUS = 0.05  # of the map's span: neighbours farther than this from the medoid sit in another cluster
VOTE_K = 10       # map neighbours that vote on the class in the faithfulness figure
CODES_DTYPE = np.float16  # stored reference codes: the weights' storage precision (zoo.STORAGE_DTYPE)


@dataclass(frozen=True)
class LatentMap:
    """Reference points of one model in latent space and on the 2-D map."""

    model: str
    settings: MapSettings
    indices: np.ndarray   # (N,) int64 rows of the bundled reference sample
    labels: np.ndarray    # (N,) int64 classes
    codes: np.ndarray     # (N, latent_dim) float32
    coords: np.ndarray    # (N, 2) float32 map positions

    def latent_distances(self, codes: np.ndarray) -> np.ndarray:
        """(M, latent_dim) -> (M, N) distances to every reference code, in the map's metric."""
        return _distances(codes, self._reference, self.settings.metric)

    @cached_property
    def _reference(self) -> tuple[np.ndarray, np.ndarray | None]:
        # the reference codes as latent_distances needs them (float64, normalised or with their squared norms),
        # made once per map: every stroke places its input on a map of 2,000 to 5,000 of them
        return _prepare_reference(self.codes, self.settings.metric)

    def place(self, codes: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """(M, latent_dim) codes -> (M, 2) map positions; the reference points stay where they are.

        ``exclude`` (M,) optional reference row to leave out per input (leave-one-out checks).
        """
        codes = np.atleast_2d(np.asarray(codes, np.float32))
        if self.settings.method == "identity":
            return codes[:, :2].copy()
        dist = self.latent_distances(codes)
        if exclude is not None:
            dist[np.arange(len(codes)), exclude] = np.inf
        return self._place(dist, exclude is not None)

    def _place(self, dist: np.ndarray, excluded: bool = False) -> np.ndarray:
        """(M, N) latent distances (``excluded``: one reference per row set to infinity) -> (M, 2) map positions."""
        k = min(PLACE_K, dist.shape[1] - excluded)
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]                 # (M, k)
        weights = 1.0 / np.maximum(np.take_along_axis(dist, nearest, axis=1), 1e-6) ** 2
        spots = self.coords[nearest]                                          # (M, k, 2)
        apart = np.linalg.norm(spots[:, :, None] - spots[:, None], axis=-1)   # (M, k, k) map distances
        # the medoid: the neighbour whose map position is (weighted) closest to the others'
        medoid = (apart * weights[:, None, :]).sum(-1).argmin(1)
        near_medoid = apart[np.arange(len(dist)), medoid] <= LOCAL_RADIUS * self.span
        weights = weights * near_medoid
        weights /= weights.sum(1, keepdims=True)
        return np.einsum("mk,mkd->md", weights, spots).astype(np.float32)

    @cached_property
    def span(self) -> float:
        """The map's larger side, in map units."""
        return float(np.ptp(self.coords, axis=0).max())

    def neighbours(self, codes: np.ndarray, k: int = 8) -> np.ndarray:
        """(M, latent_dim) or (latent_dim,) -> (M, k) or (k,) reference rows (into this map's arrays), nearest first."""
        rows = _nearest(self.latent_distances(np.atleast_2d(codes)), k)
        return rows[0] if np.ndim(codes) == 1 else rows

    def locate(self, codes: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """(M, latent_dim) codes -> (M, 2) map positions (``place``) and (M, k) nearest reference rows
        (``neighbours``), from one set of latent distances."""
        codes = np.atleast_2d(np.asarray(codes, np.float32))
        dist = self.latent_distances(codes)
        placed = codes[:, :2].copy() if self.settings.method == "identity" else self._place(dist)
        return placed, _nearest(dist, k)

    def bounds(self, percent: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(2,), (2,): the ``percent`` and ``100 - percent`` percentiles of the map positions, per axis."""
        return percentile_bounds(self.coords, percent)

    def code_bounds(self, percent: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(latent_dim,), (latent_dim,): the range the reference codes use, per code number."""
        return percentile_bounds(self.codes, percent)

    @property
    def drawn_as_code(self) -> bool:
        """True for a 2-D code drawn as it is: a place on the map is a code that can be decoded."""
        return self.settings.method == "identity"


def percentile_bounds(values: np.ndarray, percent: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) -> (D,), (D,): the range the middle ``100 - 2 * percent`` % of values span, per column."""
    return np.percentile(values, percent, axis=0), np.percentile(values, 100 - percent, axis=0)


def _nearest(dist: np.ndarray, k: int) -> np.ndarray:
    """(M, N) distances -> (M, k) columns of the k smallest per row, nearest first."""
    k = min(k, dist.shape[1])
    nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
    order = np.argsort(np.take_along_axis(dist, nearest, axis=1), axis=1)
    return np.take_along_axis(nearest, order, axis=1)


def latent_distances(a: np.ndarray, b: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """(M, D), (N, D) -> (M, N) distances: euclidean, cosine, manhattan or correlation."""
    return _distances(a, _prepare_reference(b, metric), metric)


def _prepare_reference(b: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(N, D) -> what ``_distances`` compares with in ``metric``: the codes as float64 (centred and normalised for
    correlation, normalised for cosine), and for euclidean their (N,) squared norms."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    b = np.asarray(b, np.float64)
    if metric == "correlation":
        b = b - b.mean(1, keepdims=True)
    if metric in ("cosine", "correlation"):
        return b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12), None
    return b, (b * b).sum(1) if metric == "euclidean" else None


def _distances(a: np.ndarray, reference: tuple[np.ndarray, np.ndarray | None], metric: str) -> np.ndarray:
    """(M, D) and ``_prepare_reference``'s (N, D) -> (M, N) distances in ``metric``."""
    b, b_squared = reference
    a = np.asarray(a, np.float64)
    if metric == "correlation":
        a = a - a.mean(1, keepdims=True)
    if metric in ("cosine", "correlation"):
        return 1.0 - (a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)) @ b.T
    if metric == "manhattan":
        return np.abs(a[:, None, :] - b[None, :, :]).sum(-1)
    sq = (a * a).sum(1)[:, None] + b_squared[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0))


@torch.inference_mode()
def encode_images(model: Autoencoder, images: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, latent_dim) float32 codes, batched on the model's device."""
    device = model.device
    x = to_unit(images)
    return torch.cat([model.encode(x[i:i + batch_size].to(device)).cpu()
                      for i in range(0, len(x), batch_size)]).numpy().astype(np.float32)


def reference_rows(dataset: str, n_reference: int) -> np.ndarray:
    """Which rows of the bundled sample a map shows: the first ``map_points`` of its registry entry."""
    return np.arange(min(dataset_entry(dataset).map_points, n_reference))


def build_map(model_name: str, model: Autoencoder, dataset: str, settings: MapSettings,
              directory: Path = PRETRAINED_DIR,
              fit: Callable[[np.ndarray, MapSettings], np.ndarray] = fit_coords) -> LatentMap:
    """Encode the reference sample with ``model`` and fit the 2-D map (no files touched).

    ``fit``: ``fit_coords`` here, or a ``map_fitter.MapFitter``'s ``fit`` to do it in its warm child process.
    """
    reference = load_verified_reference(dataset, directory)
    rows = reference_rows(dataset, len(reference.labels))
    codes = encode_images(model, reference.images[rows])
    settings, coords = _lay_out(codes, settings, fit)
    return LatentMap(model_name, settings, rows, reference.labels[rows].numpy(), codes, coords)


def refit_map(latent_map: LatentMap, settings: MapSettings,
              fit: Callable[[np.ndarray, MapSettings], np.ndarray] = fit_coords) -> LatentMap:
    """The same reference points and codes laid out with other settings: nothing is encoded again.

    How the app recomputes a map: a precomputed map already holds the codes, so what remains
    is the fit itself (``fit`` as in ``build_map``).
    """
    settings, coords = _lay_out(latent_map.codes, settings, fit)
    return replace(latent_map, settings=settings, coords=coords)


def _lay_out(codes: np.ndarray, settings: MapSettings, fit) -> tuple[MapSettings, np.ndarray]:
    """(N, latent_dim) codes -> the settings used (see projection.settings_for) and (N, 2) positions."""
    settings = settings_for(codes.shape[1], settings)
    return settings, fit(codes, settings)


def load_map(model_name: str, directory: Path = PRETRAINED_DIR) -> LatentMap:
    """The precomputed default map of ``model_name``: positions and reference codes as stored.

    Checks the file's checksum; a map made with other weights than the card's raises ZooError
    saying how to refit it.
    """
    zoo = read_zoo(directory)
    card, entry = zoo.models[model_name], zoo.map_card(model_name)
    if entry.model_sha256 != card.sha256:
        raise ZooError(f"the map of {model_name} was made with other weights than the card's; "
                       f"refit it: python -m ae_demo.maps --refit {model_name}")
    path = Path(directory) / "maps" / entry.file
    verify_file(path, entry.sha256)
    stored = load_file(path)
    rows = stored["indices"]
    labels = load_verified_reference(card.dataset, directory).labels[rows].numpy()
    # a 2-D latent's positions are its codes, kept there at full precision
    codes = stored["coords"] if entry.projection == "identity" else stored["codes"].astype(np.float32)
    return LatentMap(model_name, entry.settings, rows, labels, codes, stored["coords"])


def placement_accuracy(latent_map: LatentMap, chunk: int = 1000) -> float:
    """Share of reference points whose class wins among the ``VOTE_K`` map points nearest to where they land.

    Each point is placed through ``LatentMap.place`` with itself left out of the reference
    set, so this measures the placement an unseen input gets.
    """
    n = len(latent_map.labels)
    n_classes = int(latent_map.labels.max()) + 1
    hits = 0
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        placed = latent_map.place(latent_map.codes[rows], exclude=rows)
        d = ((placed[:, None, :] - latent_map.coords[None, :, :]) ** 2).sum(-1)
        d[np.arange(len(rows)), rows] = np.inf
        nearest = np.argpartition(d, VOTE_K, axis=1)[:, :VOTE_K]
        votes = np.apply_along_axis(np.bincount, 1, latent_map.labels[nearest], minlength=n_classes)
        hits += int((votes.argmax(1) == latent_map.labels[rows]).sum())
    return hits / n


def save_map(latent_map: LatentMap, seconds: float, directory: Path = PRETRAINED_DIR) -> dict:
    """Write the map (positions, reference rows, codes) to ``<directory>/maps`` and its card entry.

    The codes are stored at the weights' storage precision (float16: ~1e-3 relative, far below
    the distances placement compares); the entry names the weights that made them and the
    map's faithfulness figure.
    """
    maps_dir = Path(directory) / "maps"
    maps_dir.mkdir(parents=True, exist_ok=True)
    model_sha256 = read_zoo(directory).models[latent_map.model].sha256
    tmp = maps_dir / f"{latent_map.model}.tmp"
    save_file({"coords": latent_map.coords.astype(np.float32), "indices": latent_map.indices.astype(np.int64),
               "codes": latent_map.codes.astype(CODES_DTYPE)},
              tmp, metadata={"settings": json.dumps(asdict(latent_map.settings)), "model_sha256": model_sha256})
    sha = sha256_of(tmp)
    file = f"{latent_map.model}-{latent_map.settings.method}-{sha[:8]}.safetensors"
    tmp.replace(maps_dir / file)
    entry = {"file": file, "sha256": sha, "model_sha256": model_sha256, "settings": asdict(latent_map.settings),
             "n_points": len(latent_map.labels),
             "seconds": round(seconds, 1), "placement_accuracy": round(placement_accuracy(latent_map), 4)}
    with editing_manifest(directory) as manifest:
        old = manifest["maps"].get(latent_map.model)
        if old and old["file"] != file and (maps_dir / old["file"]).exists():
            (maps_dir / old["file"]).unlink()
        manifest["maps"][latent_map.model] = entry
    return entry


def mapped_cards(dataset: str | None = None, directory: Path = PRETRAINED_DIR) -> list[ModelCard]:
    """The models that get a default map: the networks of ``zoo.LADDER_FAMILIES``.

    Not PCA (a baseline) and not the lesson's sparse nets (their 196 or 1,000 hidden
    activations are features to look at one by one, not a code to lay out).
    """
    return [c for c in read_zoo(directory).cards(dataset) if c.family in LADDER_FAMILIES]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ae_demo.maps", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="models to map (default: every network)")
    parser.add_argument("--dataset", choices=names())
    parser.add_argument("--dir", type=Path, default=PRETRAINED_DIR)
    parser.add_argument("--refit", action="store_true", help="refit maps that exist (default: only rescore them)")
    args = parser.parse_args(argv)
    mappable = mapped_cards(args.dataset, args.dir)
    unmappable = set(args.names) - {c.name for c in mappable}
    if unmappable:
        parser.error(f"{', '.join(sorted(unmappable))}: no such network with a map in {args.dir / 'manifest.json'} "
                     f"(maps are made for the families {', '.join(LADDER_FAMILIES)})")
    chosen = [c for c in mappable if not args.names or c.name in args.names]
    for card in chosen:
        existing = read_zoo(args.dir).maps.get(card.name)
        if existing and existing.model_sha256 != card.sha256:
            print(f"{card.name}: the weights changed since its map was made; refitting", flush=True)
            existing = None
        if existing and not args.refit:  # keep the positions and codes; recompute the figure
            entry = save_map(load_map(card.name, args.dir), existing.seconds, args.dir)
            print(f"{card.name}: kept, placement accuracy {entry['placement_accuracy']:.3f}", flush=True)
            continue
        started = time.perf_counter()
        latent_map = build_map(card.name, load_model(card.name, args.dir), card.dataset, MapSettings(), args.dir)
        entry = save_map(latent_map, time.perf_counter() - started, args.dir)
        print(f"{card.name}: {entry['n_points']} points in {entry['seconds']} s, "
              f"placement accuracy {entry['placement_accuracy']:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
