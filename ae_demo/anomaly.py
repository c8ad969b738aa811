"""How unusual is this? An input's reconstruction error placed among the held-out images' errors.

An autoencoder usually reconstructs what resembles its training data well and the rest worse, so
its reconstruction error (SSE over the 784 pixels) can score how unusual an input is: as the
percentile of that error among the errors of real held-out images. The per-pixel error
(``display.error_heatmap``) shows where the model failed.

Everything scored goes through one path, :func:`anomaly_input`: ``preprocess_to_mnist``, as
a drawing or an upload does, or where that finds no drawing (pure noise),
``preprocess.as_plain_image``. The held-out images of the reference go through it too: a
preprocessed image is saturated, thickened and re-centred, and the models reconstruct it
more easily than a raw MNIST digit, so comparing a preprocessed input with raw held-out
errors would call letters ordinary.

Which bottleneck: every size of the convolutional ladder is scored on how well its error
separates held-out images (never in the reference) from generated non-members of the
dataset: letters drawn with Pillow's own font, simple faces drawn with ImageDraw, random
noise, and images of the other dataset (Fashion for the digits model, digits for Fashion).
The score is the ROC AUC of each category against the held-out images, averaged over the
categories so the largest one does not decide; the best size is the default.

This module is the runtime scorer. The reference distributions, the AUCs and the default are
computed once, offline, by ``ae_demo.anomaly_builder`` (``python -m ae_demo.anomaly_builder``,
which also draws the generated non-members), and stored in
``pretrained/anomaly.json`` (~25 KB: 101 quantiles of the error per model, with the sha256
of the weights that made them; loading refuses a table made with other weights).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .data import PRETRAINED_DIR
from .datasets import dataset as dataset_entry
from .display import error_heatmap
from .inference import run_ladder
from .messages import Message, N_
from .models import Autoencoder
from .preprocess import InputError, as_plain_image, decode_image, preprocess_to_mnist
from .zoo import ZooError, read_zoo

ANOMALY_FILE = "anomaly.json"
QUANTILE_LEVELS = np.linspace(0.0, 100.0, 101)   # percent: the stored error quantiles of each model
REFERENCE_IMAGES = 2000  # at most, from the even rows of the bundled held-out sample: the reference distribution
CHECK_IMAGES = 500       # at most, from the odd rows: held-out images never in the reference
UNUSUAL_PERCENTILE = 95.0


# ------------------------------------------------------------------------ the one input path

def anomaly_input(source: bytes | np.ndarray | Image.Image, name: str = "upload") -> tuple[np.ndarray, str]:
    """Any input -> ((28, 28) float32 in [0, 1], how): what is scored, and by which path.

    source: a file's bytes, a PIL image or an array (a canvas drawing, or a held-out image as
    its (28, 28) uint8). how: "drawing" (``preprocess_to_mnist``) or "plain image"
    (``as_plain_image``, when preprocessing finds no drawing in it). Raises InputError only
    for what is no picture at all.
    """
    picture = decode_image(bytes(source), name) if isinstance(source, (bytes, bytearray, memoryview)) else source
    try:
        return preprocess_to_mnist(picture).image, N_("drawing")
    except InputError:
        return as_plain_image(picture, name), N_("plain image")


def anomaly_inputs(sources) -> np.ndarray:
    """Several inputs -> (N, 28, 28) float32, each through :func:`anomaly_input`."""
    return np.stack([anomaly_input(source)[0] for source in sources]).astype(np.float32)


# --------------------------------------------------------------------------- scoring

def reconstruction_errors(model: Autoencoder, images: np.ndarray, batch_size: int = 500
                          ) -> tuple[np.ndarray, np.ndarray]:
    """(N, 28, 28) in [0, 1] -> reconstructions (N, 28, 28) in [0, 1] and (N,) SSE over 784 pixels, batched."""
    images = np.asarray(images, np.float32)
    parts = [run_ladder({model.latent_dim: model}, images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
    return (np.concatenate([p.reconstructions[0] for p in parts]).astype(np.float32),
            np.concatenate([p.sse[0] for p in parts]).astype(np.float64))


@dataclass(frozen=True)
class ErrorReference:
    """The held-out error distribution of one model, as stored quantiles."""

    model: str
    latent_dim: int
    quantiles: np.ndarray    # (101,) SSE at QUANTILE_LEVELS percent, ascending
    n_images: int            # held-out images behind the quantiles
    auc: float               # mean over categories of ROC AUC, held-out images against generated non-members
    category_auc: dict[str, float]

    def percentile(self, sse: np.ndarray | float) -> np.ndarray | float:
        """SSE -> the share (0 … 100 %) of held-out images whose error is smaller (interpolated)."""
        return np.interp(sse, self.quantiles, QUANTILE_LEVELS)


@dataclass(frozen=True)
class AnomalyReferences:
    """Every conv size's reference of one dataset, and which separates members best."""

    dataset: str
    by_latent_dim: dict[int, ErrorReference]
    default_latent_dim: int    # the size with the highest ``auc``
    check_median_percentile: dict[int, float]           # latent_dim -> median percentile of unseen held-out images
    non_member_median_percentile: dict[int, dict[str, float]]  # latent_dim -> category -> median percentile
    n_check: int                          # held-out images never in the reference that the AUCs were measured on
    non_member_counts: dict[str, int]     # category -> how many generated non-members the AUCs were measured on

    @property
    def default(self) -> ErrorReference:
        return self.by_latent_dim[self.default_latent_dim]


def decade_range(quantiles: np.ndarray, sse: float) -> list[int]:
    """[low, high] in log10 units: the whole decades around the held-out quantiles and an input's SSE, for a
    log axis labelled at decades only (at least two labels: low < high)."""
    values = np.append(np.asarray(quantiles, np.float64), sse)
    values = values[values > 0]
    low, high = math.floor(math.log10(values.min())), math.ceil(math.log10(values.max()))
    return [low, max(high, low + 1)]


def unusualness_sentence(percentile: float, dataset: str) -> Message:
    """"More unusual than 97 % of real digits: …". The first number, before " %", is the percentile,
    rounded down so the sentence stays true."""
    shown = math.floor(percentile)
    if percentile >= UNUSUAL_PERCENTILE:
        verdict = Message("the model reconstructs it worse than nearly all of them, so it is unusual for this model; "
                          "still, 1 real one in {one_in:.0f} scores at the {percentile:.0f}th percentile or above",
                          one_in=100 / (100 - UNUSUAL_PERCENTILE), percentile=UNUSUAL_PERCENTILE)
    elif percentile >= 75:
        verdict = Message("on the unusual side, but real ones like it exist")
    else:
        verdict = Message("an ordinary one, as far as the model can tell")
    return Message("More unusual than {shown} % of real {items}: {verdict}.", shown=shown,
                   items=Message(dataset_entry(dataset).items), verdict=verdict)


@dataclass(frozen=True)
class Unusualness:
    """How unusual one input is for one model."""

    percentile: float            # 0 … 100: share of held-out images with a smaller error
    sse: float                   # its reconstruction error, over 784 pixels
    is_unusual: bool             # percentile >= UNUSUAL_PERCENTILE
    sentence: Message            # see unusualness_sentence
    image: np.ndarray            # (28, 28) float32: what was scored
    reconstruction: np.ndarray   # (28, 28) float32 in [0, 1]
    heatmap: np.ndarray          # (28, 28, 3) uint8: per-pixel error, display.error_heatmap
    latent_dim: int


def unprocessed_reference(model: Autoencoder, images: np.ndarray, name: str) -> ErrorReference:
    """The error distribution of ``model`` over (N, 28, 28) held-out ``images`` in [0, 1] exactly as given, not
    through ``anomaly_input``: what an input is compared with that is scored as the page runs it (a held-out
    sample as it is, a drawing as the canvas's shortcut frames it). ``name``: the model's. No AUC is measured
    for it (nan)."""
    sse = reconstruction_errors(model, images)[1]
    return ErrorReference(f"{name} (unprocessed held-out images)", model.latent_dim,
                          np.percentile(sse, QUANTILE_LEVELS), len(images), float("nan"), {})


def score(model: Autoencoder, reference: ErrorReference, image: np.ndarray, dataset: str) -> Unusualness:
    """(28, 28) in [0, 1], as ``anomaly_input`` made it -> how unusual ``model`` finds it."""
    if model.latent_dim != reference.latent_dim:
        raise ValueError(f"a z = {model.latent_dim} model scored against the z = {reference.latent_dim} reference")
    image = np.asarray(image, np.float32)
    reconstructions, errors = reconstruction_errors(model, image[None])
    percentile = float(reference.percentile(errors[0]))
    return Unusualness(percentile, float(errors[0]), percentile >= UNUSUAL_PERCENTILE,
                       unusualness_sentence(percentile, dataset), image, reconstructions[0],
                       error_heatmap(reconstructions[0], image), model.latent_dim)


# ------------------------------------------------------------------- the stored references

def load_references(dataset: str, directory: Path = PRETRAINED_DIR) -> AnomalyReferences:
    """The stored references of ``dataset``; ZooError when missing or made with other weights than the card's."""
    path = Path(directory) / ANOMALY_FILE
    if not path.exists():
        raise ZooError(f"{path}: file missing; run python -m ae_demo.anomaly_builder")
    entry = json.loads(path.read_text()).get(dataset)
    if entry is None:
        raise ZooError(f"{path}: no references for {dataset!r}; "
                       f"run python -m ae_demo.anomaly_builder --dataset {dataset}")
    zoo = read_zoo(directory)
    cards = zoo.models
    by_latent_dim = {}
    for z, stored in entry["models"].items():
        if stored["model"] not in cards or cards[stored["model"]].sha256 != stored["model_sha256"]:
            raise ZooError(f"{path}: the references of {stored['model']} were made with other weights than the "
                           f"card's; recompute them: python -m ae_demo.anomaly_builder --dataset {dataset}")
        by_latent_dim[int(z)] = ErrorReference(stored["model"], int(z), np.asarray(stored["quantiles"], np.float64),
                                               stored["n_images"], stored["auc"], dict(stored["category_auc"]))
    return AnomalyReferences(
        dataset, dict(sorted(by_latent_dim.items())), entry["default_latent_dim"],
        {int(z): m["check_median_percentile"] for z, m in entry["models"].items()},
        {int(z): dict(m["non_member_median_percentile"]) for z, m in entry["models"].items()},
        min(CHECK_IMAGES, zoo.samples[dataset].n_images // 2),  # the odd rows of the sample, as heldout_inputs takes
        {category: int(n) for category, n in entry["non_members"].items()})
