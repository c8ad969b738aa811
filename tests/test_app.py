"""The page through Streamlit's AppTest: every input path, the switches, bad input; never an exception."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from ae_demo.inference import family_latent_dims

LADDER = (2, 4, 8, 16, 32, 64)


def png_bytes(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def digit_one() -> bytes:
    """A dark "1" on white paper, as a photo of a written digit would be."""
    image = Image.new("L", (120, 160), 235)
    ImageDraw.Draw(image).line([(60, 20), (60, 140)], fill=20, width=14)
    return png_bytes(image)


def start(**query) -> AppTest:
    at = AppTest.from_file("app.py", default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def images_in(at: AppTest, key: str) -> int:
    """How many st.image elements sit inside the container with ``key``."""
    block = _find_block(at._tree, f"st-key-{key}") or _find_block(at._tree, key)
    assert block is not None, f"no container with key {key}"
    return sum(1 for node in _walk(block) if getattr(node, "type", None) == "imgs")


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _find_block(node, key):
    for child in _walk(node):
        proto = getattr(child, "proto", None)
        if proto is not None and getattr(proto, "id", "") and key in str(getattr(proto, "id", "")):
            return child
        if proto is not None and hasattr(proto, "flex_container") and key in str(proto):
            return child
    return None


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.fixture(scope="module")
def default_page():
    return start()


class TestDefaultPage:
    def test_runs_without_exception(self, default_page):
        assert not default_page.exception

    def test_starts_with_a_sample_and_the_whole_ladder(self, default_page):
        assert default_page.selectbox(key="input_choice").value == "sample"
        # the input and six reconstructions, then the input and PCA at six sizes
        assert images_in(default_page, "reconstructions") == 2 * (len(LADDER) + 1)
        for z in LADDER:
            assert any(m.value == f"**z = {z}**" for m in default_page.markdown)

    def test_sidebar_names_the_device_and_timing(self, default_page):
        text = " ".join(c.value for c in default_page.sidebar.caption)
        assert "CPU" in text or "CUDA" in text or "MPS" in text
        assert "Last inference" in text and " ms" in text

    def test_the_url_carries_the_view(self, default_page):
        assert default_page.query_params["dataset"] == ["mnist"]
        assert default_page.query_params["family"] == ["conv"]


def test_url_opens_the_view_it_names():
    at = start(dataset="fashion", family="vae", sample="17")
    assert not at.exception
    assert at.radio(key="dataset").value == "fashion" and at.selectbox(key="family").value == "vae"
    assert "Sample #17" in at.selectbox(key="input_choice").format_func("sample")
    assert images_in(at, "reconstructions") == 2 * (len(family_latent_dims("fashion", "vae")) + 1)


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
@pytest.mark.parametrize("family", ["conv", "dense", "vae", "dae"])
def test_every_dataset_and_family(dataset, family):
    at = start()
    at.radio(key="dataset").set_value(dataset).run()
    at.selectbox(key="family").set_value(family).run()
    assert not at.exception
    assert images_in(at, "reconstructions") == 2 * (len(family_latent_dims(dataset, family)) + 1)


def test_upload_becomes_the_current_input():
    at = start()
    at.file_uploader(key="upload").set_value(("one.png", digit_one(), "image/png")).run()
    assert not at.exception
    choice = at.selectbox(key="input_choice")
    assert choice.value.startswith("upload:") and choice.format_func(choice.value) == "one.png"
    assert images_in(at, "reconstructions") == 14


def test_several_uploads_each_get_a_result_and_the_newest_is_current():
    at = start()
    files = [("first.png", digit_one(), "image/png"), ("second.png", digit_one()[:-1] + b"\x00", "image/png"),
             ("third.jpg", png_bytes(Image.open(io.BytesIO(digit_one())).convert("RGB"), "JPEG"), "image/jpeg")]
    at.file_uploader(key="upload").set_value(files).run()
    assert not at.exception
    names = [at.selectbox(key="input_choice").format_func(k) for k in at.selectbox(key="input_choice").options]
    assert {"first.png", "third.jpg"} <= set(names)
    assert at.selectbox(key="input_choice").format_func(at.selectbox(key="input_choice").value) == "third.jpg"
    # the damaged second file gets a message naming it, the others their results
    assert any("second.png" in e.value for e in at.error)
    assert images_in(at, "upload_results") >= 2 * (1 + len(LADDER))


def test_picking_another_input():
    at = start()
    at.file_uploader(key="upload").set_value(("one.png", digit_one(), "image/png")).run()
    at.selectbox(key="input_choice").set_value("sample").run()
    assert not at.exception and at.selectbox(key="input_choice").value == "sample"


def test_random_sample_of_a_class():
    at = start()
    at.selectbox(key="sample_class").set_value("7").run()
    at.button(key="sample_random").click().run()
    assert not at.exception
    name = at.selectbox(key="input_choice").format_func("sample")
    assert name.endswith("(7)")
    assert at.query_params["sample"] != ["0"] or name == "Sample #0 (7)"


def test_camera_photo_goes_through_the_same_path():
    at = start()
    photo = png_bytes(Image.open(io.BytesIO(digit_one())).convert("RGB"), "JPEG")
    at.camera_input(key="camera").set_value(("photo.jpg", photo, "image/jpeg")).run()
    assert not at.exception
    assert at.selectbox(key="input_choice").value == "camera"


def test_error_heatmaps_toggle():
    at = start()
    at.toggle(key="error_heatmaps").set_value(True).run()
    assert not at.exception and images_in(at, "reconstructions") == 14


BAD_UPLOADS = {
    "empty.png": b"",
    "text.png": b"this is not a picture\n",
    "truncated.png": digit_one()[:200],
    "tiny.png": png_bytes(Image.new("L", (1, 1), 255)),
    "white.png": png_bytes(Image.new("L", (64, 64), 255)),
    "black.png": png_bytes(Image.new("L", (64, 64), 0)),
    "drawing.svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4"/></svg>',
}


@pytest.mark.parametrize("name", sorted(BAD_UPLOADS))
def test_bad_upload_gets_a_message_and_the_page_keeps_working(name):
    at = start()
    at.file_uploader(key="upload").set_value((name, BAD_UPLOADS[name], "image/png")).run()
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any(name in m for m in messages), messages
    assert at.selectbox(key="input_choice").value == "sample"  # the page still shows the last good input
    assert images_in(at, "reconstructions") == 14
    at.file_uploader(key="upload").set_value(("one.png", digit_one(), "image/png")).run()
    assert not at.exception and at.selectbox(key="input_choice").value.startswith("upload:")
