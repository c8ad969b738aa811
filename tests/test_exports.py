"""Exports for slides: every file opens, and says what the page showed."""
import csv
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from ae_demo.datasets import MNIST
from ae_demo.display import png_bytes
from ae_demo.exports import CONTENTS_NAME, SETTINGS_NAME, SLIDE_HEIGHT, map_csv, slide_png, strip_png, view_zip
from ae_demo.maps import load_map



def _open_png(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return np.asarray(image)


def test_a_strip_is_a_slide_sized_png_with_hard_pixel_edges():
    images = np.zeros((8, 28, 28), np.float32)
    images[3, 10, 12] = 1.0
    pixels = _open_png(strip_png(images))
    scale = pixels.shape[0] // 28
    assert pixels.shape[0] >= SLIDE_HEIGHT and pixels.shape == (28 * scale, (8 * 28 + 7 * 2) * scale)
    column = (3 * 30 + 12) * scale
    assert (pixels[10 * scale:11 * scale, column:column + scale] == 255).all()   # one pixel, a scale x scale block
    assert pixels[10 * scale - 1, column] == 0


def test_a_picture_already_slide_sized_is_kept_as_it_is():
    big = np.full((300, 400, 3), 7, np.uint8)
    assert _open_png(slide_png(big)).shape == (300, 400, 3)


def test_the_csv_has_one_row_per_map_point_with_its_label():
    latent_map = load_map("conv_z2_mnist")
    rows = list(csv.DictReader(io.StringIO(map_csv(latent_map.coords, latent_map.labels, latent_map.indices,
                                                    MNIST.classes).decode())))
    assert len(rows) == len(latent_map.labels) == 2000
    assert [int(r["label"]) for r in rows] == latent_map.labels.tolist()
    assert [int(r["heldout_index"]) for r in rows] == latent_map.indices.tolist()
    assert all(r["class"] == MNIST.classes[int(r["label"])] for r in rows)
    assert np.allclose([[float(r["x"]), float(r["y"])] for r in rows], latent_map.coords, rtol=1e-5, atol=1e-5)


def test_the_csv_refuses_columns_of_different_lengths():
    with pytest.raises(ValueError, match="one each per point"):
        map_csv(np.zeros((3, 2)), np.zeros(3), np.zeros(2))


def test_the_view_zip_holds_what_it_lists():
    digit = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    pictures = {"Your input": digit, "Heatmap": np.zeros((28, 28, 3), np.uint8),
                "Ladder strip": png_bytes(np.ones((28, 90), np.float32)), "your input": digit}
    settings = {"dataset": "mnist", "latent_dim": np.int64(32), "strength": np.float32(0.5)}
    url = "http://localhost:8501/?dataset=mnist&sample=17"
    data = view_zip(pictures, settings, url, files={"map.csv": b"heldout_index,label\n"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        listing = archive.read(CONTENTS_NAME).decode().splitlines()
        listed = {line.split("\t")[0] for line in listing[2:]}
        assert listed == set(names) and len(names) == len(set(names)) == 4 + 3
        assert url in listing[0]
        stored = json.loads(archive.read(SETTINGS_NAME))
        assert stored == {"url": url, "settings": {"dataset": "mnist", "latent_dim": 32, "strength": 0.5}}
        pngs = [n for n in names if n.endswith(".png")]
        assert sorted(pngs) == ["heatmap.png", "ladder-strip.png", "your-input-2.png", "your-input.png"]
        for name in pngs:
            _open_png(archive.read(name))
        assert _open_png(archive.read("your-input.png")).shape[0] >= SLIDE_HEIGHT
        assert archive.read("ladder-strip.png") == pictures["Ladder strip"]   # PNG bytes are kept as given
        assert archive.read("map.csv") == b"heldout_index,label\n"


def test_the_view_zip_will_not_overwrite_its_own_files():
    with pytest.raises(ValueError, match="settings.json"):
        view_zip({}, {}, "http://x", files={"settings.json": b"{}"})
