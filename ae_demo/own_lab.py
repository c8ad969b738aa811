"""The lab on a teacher's own dataset: what the page shows of it, computed here (no streamlit).

``OwnLab`` holds one finished dataset's models (the conv ladder and PCA at every size), its
pictures, maps and anomaly references, loaded once and checked against the card. Every
method takes and returns numpy: pictures are (C, S, S) float32 in [0, 1] (C = 3 colour, 1
grey), displays are (S, S, 3) uint8. ``register_own`` adds the dataset to the registry, so the
page's dataset picker and every reader of ``datasets.DATASETS`` see it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .datasets import DATASETS, Dataset, ModelRef, register
from .display import png_bytes
from .exports import map_csv, view_zip
from .network import LayerOutput, trace
from .own_data import OwnDataset, open_dataset
from .own_training import OwnRecipe
from .preprocess import as_dataset_picture

PLACE_K = 5          # code neighbours that place a picture on the map (as maps.PLACE_K)
QUANTILE_LEVELS = np.linspace(0.0, 100.0, 101)
UNUSUAL_PERCENTILE = 95.0


def register_own(dataset: OwnDataset) -> Dataset:
    """The registry entry of a teacher's dataset (name = its id), added at run time."""
    entry = DATASETS.get(dataset.id)
    if entry is None:
        entry = register(Dataset(name=dataset.id, label=f"{dataset.name} (your images)", classes=dataset.classes,
                                 items=f"pictures of '{dataset.name}'", image_shape=dataset.image_shape,
                                 default_model=ModelRef("conv", dataset.card["recipe"]["headline"]),
                                 map_points=dataset.card["n_images"]))
    return entry


def to_display(picture: np.ndarray) -> np.ndarray:
    """(C, S, S) float in [0, 1] (unclipped PCA allowed) -> (S, S, 3) uint8."""
    picture = np.clip(np.asarray(picture, np.float32), 0, 1)
    rgb = np.repeat(picture, 3, axis=0) if picture.shape[0] == 1 else picture
    return np.round(rgb.transpose(1, 2, 0) * 255).astype(np.uint8)


def error_display(reconstruction: np.ndarray, picture: np.ndarray) -> np.ndarray:
    """Per-pixel squared error summed over channels, (S, S, 3) uint8: black 0, bright yellow = the most
    a pixel can be wrong (C)."""
    error = ((np.clip(reconstruction, 0, 1) - picture) ** 2).sum(0) / picture.shape[0]    # (S, S) in [0, 1]
    level = np.sqrt(error)     # the square root shows small errors too
    return np.round(np.stack([level, level * 0.82, level * 0.12], -1) * 255).astype(np.uint8)


@dataclass(frozen=True)
class Rung:
    """One size of the ladder for one picture."""

    latent_dim: int
    conv: np.ndarray        # (C, S, S) reconstruction
    conv_sse: float         # over the C*S*S values
    pca: np.ndarray | None  # (C, S, S), unclipped; None where PCA has no such size
    pca_sse: float | None


class OwnLab:
    """One teacher's dataset, ready for the page."""

    def __init__(self, dataset_id: str, directory: Path | None = None):
        self.dataset = open_dataset(dataset_id, directory)         # checks every file against the card
        arrays = self.dataset.load_arrays()
        self.images = arrays["images"]                             # (N, C, S, S) uint8
        self.labels = arrays["labels"]                             # (N,) int64, -1 without classes
        self.heldout = arrays["heldout"]                           # (M,) rows never trained on
        self.maps = self.dataset.load_maps()
        self.conv = {z: self.dataset.load_model("conv", z) for z in self.dataset.latent_dims}
        pca_dims = [int(z) for z in self.dataset.card["metrics"]["pca_sse_per_image"]]
        self.pca = {z: self.dataset.load_model("pca", z) for z in pca_dims}
        anomaly = self.dataset.card["metrics"]["anomaly"]
        self.anomaly_latent_dim = int(anomaly["default_latent_dim"])
        self.anomaly_quantiles = np.asarray(anomaly["by_latent_dim"][str(self.anomaly_latent_dim)]["quantiles"])

    @property
    def latent_dims(self) -> tuple[int, ...]:
        return tuple(sorted(self.conv))

    @property
    def size(self) -> int:
        return self.dataset.image_shape[1]

    def picture(self, row: int) -> np.ndarray:
        """Row ``row`` of the dataset as (C, S, S) float32 in [0, 1]."""
        return self.images[row].astype(np.float32) / 255.0

    def frame(self, data: bytes, name: str) -> np.ndarray:
        """An upload or a drawing framed as this dataset's pictures were: (C, S, S); raises InputError."""
        return as_dataset_picture(data, self.size, self.dataset.colour, name)

    @torch.inference_mode()
    def ladder(self, picture: np.ndarray) -> list[Rung]:
        """Every size's conv and PCA reconstruction of (C, S, S) ``picture``, smallest code first."""
        x = torch.from_numpy(np.asarray(picture, np.float32))[None]
        rungs = []
        for z in self.latent_dims:
            conv = self.conv[z].reconstruct(x)[0].numpy()
            pca = self.pca[z].reconstruct(x)[0].numpy() if z in self.pca else None
            rungs.append(Rung(z, conv, float(((conv - picture) ** 2).sum()),
                              pca, None if pca is None else float(((pca - picture) ** 2).sum())))
        return rungs

    @torch.inference_mode()
    def code(self, picture: np.ndarray, latent_dim: int) -> np.ndarray:
        return self.conv[latent_dim].encode(torch.from_numpy(np.asarray(picture, np.float32))[None])[0].numpy()

    @torch.inference_mode()
    def decode(self, code: np.ndarray, latent_dim: int) -> np.ndarray:
        """(latent_dim,) -> (C, S, S)."""
        return self.conv[latent_dim].decode(torch.from_numpy(np.asarray(code, np.float32))[None])[0].numpy()

    def neighbours(self, picture: np.ndarray, latent_dim: int, k: int = 8) -> np.ndarray:
        """(k,) rows of the pictures whose codes are nearest to ``picture``'s, nearest first."""
        codes = self.maps[latent_dim]["codes"]
        distance = np.linalg.norm(codes - self.code(picture, latent_dim), axis=1)
        return np.argsort(distance)[:k]

    def place(self, picture: np.ndarray, latent_dim: int) -> np.ndarray:
        """(2,) the picture's place on the map: the distance-weighted mean of its PLACE_K code neighbours'
        places (a 2-D code is its own place)."""
        if latent_dim == 2:
            return self.code(picture, 2)
        rows = self.neighbours(picture, latent_dim, PLACE_K)
        codes, coords = self.maps[latent_dim]["codes"], self.maps[latent_dim]["coords"]
        weights = 1.0 / np.maximum(np.linalg.norm(codes[rows] - self.code(picture, latent_dim), axis=1), 1e-6) ** 2
        return (coords[rows] * weights[:, None]).sum(0) / weights.sum()

    def morph(self, start: np.ndarray, end: np.ndarray, latent_dim: int, steps: int = 8) -> list[np.ndarray]:
        """``steps`` pictures decoded from evenly spaced codes between the two pictures' codes."""
        a, b = self.code(start, latent_dim), self.code(end, latent_dim)
        return [self.decode((1 - t) * a + t * b, latent_dim) for t in np.linspace(0, 1, steps)]

    def unusualness(self, picture: np.ndarray) -> tuple[float, float]:
        """(percentile, SSE): the share of held-out pictures (%) the anomaly size reconstructs better."""
        z = self.anomaly_latent_dim
        with torch.inference_mode():
            x = torch.from_numpy(np.asarray(picture, np.float32))[None]
            sse = float((self.conv[z].reconstruct(x)[0].numpy() - picture).__pow__(2).sum())
        return float(np.interp(sse, self.anomaly_quantiles, QUANTILE_LEVELS)), sse

    def training_steps(self, latent_dim: int) -> int:
        """Steps of ``batch_size`` pictures the z = ``latent_dim`` net trained in all (``OwnRecipe.steps_of``;
        a dataset of an earlier recipe: the steps its card names)."""
        recipe = self.dataset.card["recipe"]
        if "smallest_steps" not in recipe:
            return recipe.get("headline_steps") or recipe["scaffold_steps"] + recipe["size_steps"]
        return OwnRecipe(**{**recipe, "latent_dims": tuple(recipe["latent_dims"])}).steps_of(latent_dim)

    def pca_wins_at(self, latent_dim: int = 32) -> bool:
        metrics = self.dataset.card["metrics"]
        conv, pca = metrics["conv_sse_per_image"], metrics["pca_sse_per_image"]
        return str(latent_dim) in pca and pca[str(latent_dim)] <= conv[str(latent_dim)]

    def network(self, picture: np.ndarray, latent_dim: int) -> list[LayerOutput]:
        """The z = ``latent_dim`` conv net's layers with their outputs for ``picture`` (network.trace)."""
        return trace(self.conv[latent_dim], picture)

    def ladder_png(self, picture: np.ndarray, rungs: list[Rung], scale: int = 4) -> bytes:
        """PNG of the input and each size's conv reconstruction side by side, then PCA's below, enlarged
        ``scale`` times for a slide (dark gaps between pictures)."""
        side, gap = self.size, 2
        rows = [[picture] + [r.conv for r in rungs], [picture] + [r.pca if r.pca is not None else np.zeros_like(picture)
                                                                  for r in rungs]]
        width = len(rows[0]) * (side + gap) - gap
        sheet = np.zeros((2 * side + gap, width, 3), np.uint8)
        for i, row in enumerate(rows):
            for j, image in enumerate(row):
                sheet[i * (side + gap):i * (side + gap) + side, j * (side + gap):j * (side + gap) + side] = \
                    to_display(image)
        return png_bytes(sheet.repeat(scale, 0).repeat(scale, 1))

    def view_zip(self, picture: np.ndarray, rungs: list[Rung], url: str, settings: dict | None = None) -> bytes:
        """"Download this view" (exports.view_zip) for ``picture`` (C, S, S): the input, each size's conv and
        PCA reconstruction and the ladder sheet as slide-sized PNGs, the settings (the dataset, the sizes,
        each size's SSE) with ``url``, and the largest map as CSV."""
        pictures: dict[str, np.ndarray | bytes] = {"input": to_display(picture),
                                                   "ladder": self.ladder_png(picture, rungs)}
        for rung in rungs:
            pictures[f"conv z = {rung.latent_dim}"] = to_display(rung.conv)
            if rung.pca is not None:
                pictures[f"pca z = {rung.latent_dim}"] = to_display(rung.pca)
        z = 32 if 32 in self.conv else self.latent_dims[-1]
        settings = {"dataset": self.dataset.id, "name": self.dataset.name,
                    "image_shape": list(self.dataset.image_shape), "ladder_sizes": [r.latent_dim for r in rungs],
                    "conv_sse_per_size": {str(r.latent_dim): round(r.conv_sse, 2) for r in rungs},
                    "pca_sse_per_size": {str(r.latent_dim): round(r.pca_sse, 2) for r in rungs
                                         if r.pca_sse is not None}, **(settings or {})}
        return view_zip(pictures, settings, url, {f"map-z{z}.csv": self.map_csv(z)})

    def map_csv(self, latent_dim: int) -> bytes:
        """The map of ``latent_dim`` as CSV (exports.map_csv): row, label (-1: none), class, x, y per picture."""
        coords = self.maps[latent_dim]["coords"]
        classes = self.dataset.classes or None
        return map_csv(coords, self.labels, np.arange(len(coords)), classes)
