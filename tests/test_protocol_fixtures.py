"""The captured browser messages (benchmarks/fixtures/backmsgs.json) hold what harness/st_protocol.py replays."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
from PIL import Image

from harness.st_protocol import CANVAS_PX, FIXTURES, canvas_template, drawing_png, random_strokes


def test_the_captured_canvas_value_is_a_fabric_drawing_with_its_png():
    value = canvas_template()
    assert value["drawing"]["raw"]["objects"][0]["type"] == "Path"
    header, data = value["drawing"]["data"].split(",", 1)
    assert header == "data:image/png;base64"
    assert Image.open(io.BytesIO(base64.b64decode(data))).size == (CANVAS_PX, CANVAS_PX)


def test_every_step_of_the_capture_is_there():
    steps = json.loads(FIXTURES.read_text())["steps"]
    assert {"open", "stroke0", "follow", "upload", "sample"} <= set(steps)
    assert any("fileUrlsRequest" in m for m in steps["upload"])
    assert all("fragmentId" in m["rerunScript"] for m in steps["stroke0"])  # a stroke reruns the workbench fragment


def test_a_replayed_drawing_is_white_strokes_on_black():
    pixels = np.asarray(Image.open(io.BytesIO(drawing_png(random_strokes(np.random.default_rng(0), 2)))).convert("L"))
    assert pixels.shape == (CANVAS_PX, CANVAS_PX)
    assert pixels.min() == 0 and pixels.max() == 255 and 0.02 < (pixels > 128).mean() < 0.5
