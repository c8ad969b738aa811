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

The reference distributions, the AUCs and the default are computed once, offline
(``python -m ae_demo.anomaly``, about a minute per dataset on one core), and stored in
``pretrained/anomaly.json`` (~25 KB: 101 quantiles of the error per model, with the sha256
of the weights that made them; loading refuses a table made with other weights).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .data import PRETRAINED_DIR
from .datasets import dataset as dataset_entry, names
from .display import error_heatmap
from .inference import run_ladder
from .models import Autoencoder
from .preprocess import InputError, as_plain_image, decode_image, preprocess_to_mnist
from .zoo import ZooError, load_model, load_verified_reference, model_name, read_zoo

ANOMALY_FILE = "anomaly.json"
QUANTILE_LEVELS = np.linspace(0.0, 100.0, 101)   # percent: the stored error quantiles of each model
REFERENCE_IMAGES = 2000  # at most, from the even rows of the bundled held-out sample: the reference distribution
CHECK_IMAGES = 500       # at most, from the odd rows: held-out images never in the reference
UNUSUAL_PERCENTILE = 95.0
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # all, the digit-like ones (I, l, O) included
CANVAS = 280             # side of the generated drawings: the app's drawing canvas


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
        return preprocess_to_mnist(picture).image, "drawing"
    except InputError:
        return as_plain_image(picture, name), "plain image"


def anomaly_inputs(sources) -> np.ndarray:
    """Several inputs -> (N, 28, 28) float32, each through :func:`anomaly_input`."""
    return np.stack([anomaly_input(source)[0] for source in sources]).astype(np.float32)


# ------------------------------------------------------------------- generated non-members

def _canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (CANVAS, CANVAS), 0)
    return image, ImageDraw.Draw(image)


def draw_letter(letter: str, stroke: int = 0) -> np.ndarray:
    """One letter, white on black as on the canvas, in Pillow's bundled font -> (280, 280) uint8.

    ``ImageFont.load_default(size)`` is the font Pillow ships (Aileron), so no system font is
    needed. stroke: extra pen width in pixels (0: the regular weight).
    """
    font = ImageFont.load_default(size=round(0.68 * CANVAS))
    image, draw = _canvas()
    left, top, right, bottom = draw.textbbox((0, 0), letter, font=font, stroke_width=stroke)
    draw.text(((CANVAS - (right - left)) / 2 - left, (CANVAS - (bottom - top)) / 2 - top), letter, fill=255,
              font=font, stroke_width=stroke, stroke_fill=255)
    return np.asarray(image)


def draw_face(rng: np.random.Generator) -> np.ndarray:
    """A simple face (head, two eyes, a smile or a frown) at a random size and place -> (280, 280) uint8."""
    image, draw = _canvas()
    cx, cy = CANVAS / 2 + rng.uniform(-15, 15, 2)
    r, pen = rng.uniform(90, 125), int(rng.integers(10, 20))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=255, width=pen)
    eye_x, eye_y, eye_r = r * rng.uniform(0.3, 0.45), r * rng.uniform(0.2, 0.4), rng.uniform(8, 16)
    for side in (-1, 1):
        draw.ellipse((cx + side * eye_x - eye_r, cy - eye_y - eye_r, cx + side * eye_x + eye_r, cy - eye_y + eye_r),
                     fill=255)
    half_width, half_height = r * rng.uniform(0.4, 0.6), r * rng.uniform(0.2, 0.4)
    mouth_y = cy + r * rng.uniform(0.2, 0.35)
    smile = rng.random() < 0.7
    draw.arc((cx - half_width, mouth_y - half_height, cx + half_width, mouth_y + half_height),
             20 if smile else 200, 160 if smile else 340, fill=255, width=pen)
    return np.asarray(image)


def draw_noise(rng: np.random.Generator, kind: int) -> np.ndarray:
    """Random noise of one of five kinds (0 … 4) -> float64 in [0, 1]: uniform 28x28, uniform 280x280,
    7x7 blocks, 5 % white specks, 14x14 black-and-white blocks (the last two can pass as a drawing)."""
    if kind == 0:
        return rng.random((28, 28))
    if kind == 1:
        return rng.random((CANVAS, CANVAS))
    if kind == 2:
        return np.kron(rng.random((7, 7)), np.ones((CANVAS // 7, CANVAS // 7)))
    if kind == 3:
        return (rng.random((CANVAS, CANVAS)) < 0.05).astype(np.float64)
    return np.kron(rng.random((14, 14)) < 0.3, np.ones((CANVAS // 14, CANVAS // 14))).astype(np.float64)


def non_member_images(dataset: str, seed: int = 0, directory: Path = PRETRAINED_DIR,
                      per_category: int | None = None) -> dict[str, np.ndarray]:
    """category -> (n, 28, 28) float32: generated inputs that are not of ``dataset``, through ``anomaly_input``.

    letters: A-Z and a-z, regular and bold (104); faces (30); noise (40, eight of each kind);
    other: the first 100 bundled held-out images of the other dataset. ``per_category`` keeps
    n of each, evenly spaced (quick checks).
    """
    rng = np.random.default_rng(seed)
    other = dataset_entry(dataset).anomaly.other_dataset
    sources = {
        "letters": [draw_letter(c, stroke) for stroke in (0, 6) for c in LETTERS],
        "faces": [draw_face(rng) for _ in range(30)],
        "noise": [draw_noise(rng, kind) for _ in range(8) for kind in range(5)],
    }
    if other is not None:
        sources[other] = list(load_verified_reference(other, directory).images[:100].numpy())
    if per_category is not None:   # evenly spaced, so a few letters are not all capitals from A
        sources = {category: items[::max(1, len(items) // per_category)][:per_category]
                   for category, items in sources.items()}
    return {category: anomaly_inputs(items) for category, items in sources.items()}


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


def unusualness_sentence(percentile: float, dataset: str) -> str:
    """"More unusual than 97 % of real digits: …". The first number, before " %", is the percentile,
    rounded down so the sentence stays true."""
    shown = math.floor(percentile)
    if percentile >= UNUSUAL_PERCENTILE:
        verdict = (f"the model reconstructs it worse than nearly all of them, so it is unusual for this model; "
                   f"still, 1 real one in {100 / (100 - UNUSUAL_PERCENTILE):.0f} scores at the "
                   f"{UNUSUAL_PERCENTILE:.0f}th percentile or above")
    elif percentile >= 75:
        verdict = "on the unusual side, but real ones like it exist"
    else:
        verdict = "an ordinary one, as far as the model can tell"
    return f"More unusual than {shown} % of real {dataset_entry(dataset).items}: {verdict}."


@dataclass(frozen=True)
class Unusualness:
    """How unusual one input is for one model."""

    percentile: float            # 0 … 100: share of held-out images with a smaller error
    sse: float                   # its reconstruction error, over 784 pixels
    is_unusual: bool             # percentile >= UNUSUAL_PERCENTILE
    sentence: str                # see unusualness_sentence
    image: np.ndarray            # (28, 28) float32: what was scored
    reconstruction: np.ndarray   # (28, 28) float32 in [0, 1]
    heatmap: np.ndarray          # (28, 28, 3) uint8: per-pixel error, display.error_heatmap
    latent_dim: int


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

def heldout_inputs(dataset: str, directory: Path = PRETRAINED_DIR) -> tuple[np.ndarray, np.ndarray]:
    """(reference, check): the even and the odd rows of the bundled held-out sample (at most
    REFERENCE_IMAGES and CHECK_IMAGES), each through ``anomaly_input``: (N, 28, 28) float32."""
    images = load_verified_reference(dataset, directory).images.numpy()
    return anomaly_inputs(images[0::2][:REFERENCE_IMAGES]), anomaly_inputs(images[1::2][:CHECK_IMAGES])


def roc_auc(members: np.ndarray, others: np.ndarray) -> float:
    """Probability that a random non-member has a larger error than a random member (ties count half)."""
    members, others = np.asarray(members, np.float64), np.asarray(others, np.float64)
    larger = (others[:, None] > members[None, :]).mean()
    ties = (others[:, None] == members[None, :]).mean()
    return float(larger + 0.5 * ties)


def compute_references(dataset: str, directory: Path = PRETRAINED_DIR, progress=print) -> dict:
    """Every conv size of ``dataset``: error quantiles, AUC per category, medians -> the JSON entry."""
    reference_images, check_images = heldout_inputs(dataset, directory)
    non_members = non_member_images(dataset, directory=directory)
    zoo = read_zoo(directory)
    models = {}
    for z in zoo.latent_dims(dataset, "conv"):
        name = model_name("conv", z, dataset)
        model = load_model(name, directory)
        reference_sse = reconstruction_errors(model, reference_images)[1]
        check_sse = reconstruction_errors(model, check_images)[1]
        quantiles = np.percentile(reference_sse, QUANTILE_LEVELS)
        category_auc, medians = {}, {}
        for category, images in non_members.items():
            sse = reconstruction_errors(model, images)[1]
            category_auc[category] = round(roc_auc(check_sse, sse), 4)
            medians[category] = round(float(np.median(np.interp(sse, quantiles, QUANTILE_LEVELS))), 1)
        models[str(z)] = {
            "model": name, "model_sha256": zoo.models[name].sha256, "n_images": len(reference_images),
            "quantiles": [round(float(q), 4) for q in quantiles],
            "auc": round(float(np.mean(list(category_auc.values()))), 4), "category_auc": category_auc,
            "check_median_percentile": round(float(np.median(np.interp(check_sse, quantiles, QUANTILE_LEVELS))), 1),
            "non_member_median_percentile": medians,
        }
        progress(f"{name}: AUC {models[str(z)]['auc']:.3f} {category_auc}; held-out median "
                 f"{models[str(z)]['check_median_percentile']} %, non-members {medians}")
    best = max(models, key=lambda z: (models[z]["auc"], -int(z)))
    return {"default_latent_dim": int(best), "models": models,
            "reference": f"even rows of the bundled held-out sample ({len(reference_images)} images)",
            "check": f"odd rows ({len(check_images)} images)",
            "non_members": {category: len(images) for category, images in non_members.items()}}


def load_references(dataset: str, directory: Path = PRETRAINED_DIR) -> AnomalyReferences:
    """The stored references of ``dataset``; ZooError when missing or made with other weights than the card's."""
    path = Path(directory) / ANOMALY_FILE
    if not path.exists():
        raise ZooError(f"{path}: file missing; run python -m ae_demo.anomaly")
    entry = json.loads(path.read_text()).get(dataset)
    if entry is None:
        raise ZooError(f"{path}: no references for {dataset!r}; run python -m ae_demo.anomaly --dataset {dataset}")
    zoo = read_zoo(directory)
    cards = zoo.models
    by_latent_dim = {}
    for z, stored in entry["models"].items():
        if stored["model"] not in cards or cards[stored["model"]].sha256 != stored["model_sha256"]:
            raise ZooError(f"{path}: the references of {stored['model']} were made with other weights than the "
                           f"card's; recompute them: python -m ae_demo.anomaly --dataset {dataset}")
        by_latent_dim[int(z)] = ErrorReference(stored["model"], int(z), np.asarray(stored["quantiles"], np.float64),
                                               stored["n_images"], stored["auc"], dict(stored["category_auc"]))
    return AnomalyReferences(
        dataset, dict(sorted(by_latent_dim.items())), entry["default_latent_dim"],
        {int(z): m["check_median_percentile"] for z, m in entry["models"].items()},
        {int(z): dict(m["non_member_median_percentile"]) for z, m in entry["models"].items()},
        min(CHECK_IMAGES, zoo.samples[dataset].n_images // 2),  # the odd rows of the sample, as heldout_inputs takes
        {category: int(n) for category, n in entry["non_members"].items()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ae_demo.anomaly", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=names(), action="append",
                        help="recompute only this dataset (repeatable; default: both)")
    parser.add_argument("--dir", type=Path, default=PRETRAINED_DIR, help="folder holding manifest.json")
    args = parser.parse_args(argv)
    path = args.dir / ANOMALY_FILE
    stored = json.loads(path.read_text()) if path.exists() else {}
    for dataset in args.dataset or names():
        stored[dataset] = compute_references(dataset, args.dir)
        print(f"{dataset}: default z = {stored[dataset]['default_latent_dim']}", flush=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
        tmp.replace(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
