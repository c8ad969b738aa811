"""The lab on a teacher's dataset (ae_demo.own_lab): ladder, place, morph, unusualness, network, exports, registry."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from ae_demo.datasets import DATASETS
from ae_demo.own_lab import OwnLab, error_display, register_own, to_display
from ae_demo.own_training import OwnRecipe, build_dataset

TINY = OwnRecipe(latent_dims=(2, 8, 32), width=4, batch_size=16, scaffold_steps=6, smallest_steps=3, size_steps=3,
                map_method="pca")


@pytest.fixture(scope="module")
def lab(tmp_path_factory, one_torch_thread):
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 3
    images = rng.integers(0, 50, (60, 3, 32, 32)).astype(np.uint8)
    for i, label in enumerate(labels):
        images[i, label, 8:24, 8:24] = 230
    folder = tmp_path_factory.mktemp("own")
    dataset = build_dataset(images, labels, ("r", "g", "b"), "Squares", "key", TINY, directory=folder)
    return OwnLab(dataset.id, folder)


def test_the_ladder_in_colour(lab):
    picture = lab.picture(int(lab.heldout[0]))
    rungs = lab.ladder(picture)
    assert [r.latent_dim for r in rungs] == [2, 8, 32]
    assert all(r.conv.shape == (3, 32, 32) and r.pca.shape == (3, 32, 32) for r in rungs)
    assert all(abs(r.conv_sse - float(((r.conv - picture) ** 2).sum())) < 1e-3 for r in rungs)
    assert to_display(picture).shape == (32, 32, 3) and error_display(rungs[0].conv, picture).shape == (32, 32, 3)
    sheet = Image.open(io.BytesIO(lab.ladder_png(picture, rungs)))
    assert sheet.size == (4 * (4 * 34 - 2), 4 * 66) and sheet.mode == "RGB"


def test_an_upload_is_framed_as_the_dataset_s_pictures(lab):
    photo = Image.new("RGB", (300, 200), (250, 10, 10))
    buffer = io.BytesIO()
    photo.save(buffer, "PNG")
    framed = lab.frame(buffer.getvalue(), "photo.png")
    assert framed.shape == (3, 32, 32) and framed[0].mean() > 0.95 and framed[1].mean() < 0.1


def test_map_place_neighbours_morph_and_unusualness(lab):
    picture = lab.picture(int(lab.heldout[0]))
    row = int(lab.heldout[0])
    assert lab.neighbours(picture, 8)[0] == row          # a picture's nearest code is its own
    assert lab.place(picture, 2).shape == (2,) and lab.place(picture, 32).shape == (2,)
    steps = lab.morph(picture, lab.picture(int(lab.heldout[1])), 32, steps=5)
    assert len(steps) == 5 and steps[0].shape == (3, 32, 32)
    percentile, sse = lab.unusualness(picture)
    assert 0 <= percentile <= 100 and sse > 0
    # the percentile is the share of held-out pictures with a smaller error, read off the card's quantiles
    assert percentile == pytest.approx(float(np.interp(sse, lab.anomaly_quantiles, np.linspace(0, 100, 101))))
    z = lab.anomaly_latent_dim
    assert sse == pytest.approx(float(((lab.ladder(picture)[lab.latent_dims.index(z)].conv - picture) ** 2).sum()),
                                rel=1e-4)


def test_the_network_view_follows_the_shape(lab):
    outputs = lab.network(lab.picture(0), 32)
    assert outputs[0].shape == (4, 32, 32) and outputs[-1].shape == (3, 32, 32)
    assert "8×8" in next(o for o in outputs if o.layer.name == "expand").layer.what
    assert "Three filters" in outputs[-1].layer.what and "32×32" in outputs[-1].layer.what


def test_the_steps_the_page_names_are_those_each_size_trained(lab):
    # the scaffold's 6, the smallest's 3, then 3 for each size on the way up
    assert lab.training_steps(32) == TINY.steps_of(32) == 6 + 3 + 2 * 3 and lab.training_steps(2) == 6 + 3


def test_the_map_csv_and_the_registry(lab):
    lines = lab.map_csv(32).decode().splitlines()
    assert lines[0] == "heldout_index,label,class,x,y" and len(lines) == 61
    entry = register_own(lab.dataset)
    assert DATASETS[lab.dataset.id] is entry and entry.image_shape == (3, 32, 32) and entry.classes == ("r", "g", "b")
    del DATASETS[lab.dataset.id]


def test_the_view_zip_holds_the_colour_ladder_the_map_and_the_link(lab):
    picture = lab.picture(int(lab.heldout[0]))
    rungs = lab.ladder(picture)
    url = f"http://localhost:8501/?dataset={lab.dataset.id}"
    with zipfile.ZipFile(io.BytesIO(lab.view_zip(picture, rungs, url))) as archive:
        names = set(archive.namelist())
        assert {"input.png", "ladder.png", "conv-z-2.png", "conv-z-32.png", "pca-z-32.png", "map-z32.csv",
                "settings.json", "contents.txt"} <= names
        conv = Image.open(io.BytesIO(archive.read("conv-z-32.png")))
        assert conv.mode == "RGB" and conv.size[0] >= 224        # colour, slide-sized
        enlarged = np.asarray(conv)[::conv.size[0] // 32, ::conv.size[0] // 32]
        assert np.array_equal(enlarged, to_display(rungs[-1].conv))   # the reconstruction, pixel for pixel
        settings = json.loads(archive.read("settings.json"))
        assert settings["url"] == url and settings["settings"]["dataset"] == lab.dataset.id
        assert settings["settings"]["conv_sse_per_size"]["32"] == pytest.approx(rungs[-1].conv_sse, abs=0.01)
        assert archive.read("map-z32.csv") == lab.map_csv(32)
