"""Exports for slides: pictures as PNG, a map's points as CSV, and one zip of the view on screen.

Pictures are enlarged with hard pixel edges (``display.enlarge``) to at least
``SLIDE_HEIGHT`` pixels high, so a 28x28 digit stays sharp when a slide stretches it.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

from .display import enlarge, image_strip, png_bytes

SLIDE_HEIGHT = 224  # px: a 28-pixel row of digits becomes 8x, a fifth of a 1080p slide's height
CONTENTS_NAME = "contents.txt"
SETTINGS_NAME = "settings.json"


def slide_png(image: np.ndarray) -> bytes:
    """(H, W) float in [0, 1] or (H, W) / (H, W, 3) uint8 -> PNG bytes, enlarged by the whole factor
    that makes it at least ``SLIDE_HEIGHT`` px high (a picture already that high is kept as it is)."""
    image = np.asarray(image)
    return png_bytes(enlarge(image, max(1, math.ceil(SLIDE_HEIGHT / image.shape[0]))))


def strip_png(images: np.ndarray, gap: int = 2) -> bytes:
    """(N, H, W) float in [0, 1] -> PNG bytes of the N pictures side by side with dark gaps, slide-sized."""
    return slide_png(image_strip(np.asarray(images, np.float32), gap))


def map_csv(coords: np.ndarray, labels: np.ndarray, indices: np.ndarray,
            class_names: Sequence[str] | None = None) -> bytes:
    """A map's points -> CSV bytes (UTF-8): a header, then one row per point.

    coords (N, 2) map positions, labels (N,) classes, indices (N,) rows of the bundled held-out
    sample (``LatentMap.coords``, ``.labels``, ``.indices``). Columns: heldout_index, label,
    class (the name, when ``class_names`` is given), x, y.
    """
    coords = np.asarray(coords, np.float64).reshape(-1, 2)
    labels, indices = np.asarray(labels).ravel(), np.asarray(indices).ravel()
    if not len(coords) == len(labels) == len(indices):
        raise ValueError(f"{len(coords)} positions, {len(labels)} labels and {len(indices)} indices: "
                         "one each per point")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["heldout_index", "label", "class", "x", "y"])
    for (x, y), label, index in zip(coords, labels, indices):
        name = class_names[int(label)] if class_names is not None else ""
        writer.writerow([int(index), int(label), name, f"{x:.6g}", f"{y:.6g}"])
    return text.getvalue().encode()


def _file_name(name: str, taken: set[str]) -> str:
    """'Reconstruction, z = 32' -> 'reconstruction-z-32.png', made unique among ``taken``."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower().removesuffix(".png")).strip("-") or "picture"
    candidate, n = f"{stem}.png", 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}.png", n + 1
    return candidate


def _jsonable(value):
    """numpy scalars and arrays as plain numbers and lists; anything else as its text."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def view_zip(pictures: Mapping[str, np.ndarray | bytes], settings: Mapping, url: str,
             files: Mapping[str, bytes] | None = None) -> bytes:
    """One "download this view" zip: every picture as a PNG, the settings and the page's URL, a listing.

    pictures: name -> (H, W) float in [0, 1] / (H, W) or (H, W, 3) uint8 (enlarged as
    ``slide_png``) or the bytes of a PNG file (kept as they are). files: other files to add,
    file name -> bytes (a map's CSV, say). The zip holds ``<name>.png`` for each picture,
    ``settings.json`` ({"url": url, "settings": settings}) and ``contents.txt``, which lists
    every file with its size and what it is.
    """
    reserved = {CONTENTS_NAME, SETTINGS_NAME} & set(files or {})
    if reserved:
        raise ValueError(f"{', '.join(sorted(reserved))}: the zip writes that file itself; add it under another name")
    entries: list[tuple[str, bytes, str]] = []   # file name, bytes, what it is
    taken = {CONTENTS_NAME, SETTINGS_NAME, *(files or {})}
    for name, picture in pictures.items():
        data = bytes(picture) if isinstance(picture, (bytes, bytearray)) else slide_png(picture)
        width, height = Image.open(io.BytesIO(data)).size   # also proves the bytes are a picture
        file = _file_name(name, taken)
        taken.add(file)
        entries.append((file, data, f"{name} ({width}x{height} px)"))
    settings_json = json.dumps({"url": url, "settings": dict(settings)}, indent=1, sort_keys=True, default=_jsonable)
    entries.append((SETTINGS_NAME, settings_json.encode(), "the page's settings and the URL that opens this view"))
    entries.extend((name, bytes(data), "added file") for name, data in (files or {}).items())
    listing = [f"This view of Autoencoder Lab: {url}", "", *(f"{file}\t{len(data):,} bytes\t{what}"
                                                          for file, data, what in entries),
               f"{CONTENTS_NAME}\tthis list"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file, data, _ in entries:
            archive.writestr(file, data)
        archive.writestr(CONTENTS_NAME, "\n".join(listing) + "\n")
    return buffer.getvalue()
