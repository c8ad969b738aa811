"""How unusual is this, the offline half: the reference table of ``pretrained/anomaly.json``.

    python -m ae_demo.anomaly_builder [--dataset mnist]     # about a minute per dataset on one core

Draws the generated non-members (letters in Pillow's own font, simple faces, random noise, and
images of the other dataset), scores the held-out images and them with every size of the
convolutional ladder, and stores each model's error quantiles, AUCs and the default size that
``ae_demo.anomaly`` (the runtime scorer) reads.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .anomaly import (ANOMALY_FILE, CHECK_IMAGES, QUANTILE_LEVELS, REFERENCE_IMAGES, anomaly_inputs,
                      reconstruction_errors)
from .data import PRETRAINED_DIR
from .datasets import dataset as dataset_entry, names
from .zoo import load_model, load_verified_reference, model_name, read_zoo

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # all, the digit-like ones (I, l, O) included
CANVAS = 280             # side of the generated drawings: the app's drawing canvas


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ae_demo.anomaly_builder", description=__doc__.splitlines()[0])
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
