"""The page through Streamlit's AppTest: every input path, the switches, bad input; never an exception."""
from __future__ import annotations

import html
import io
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from ae_demo.zoo import read_zoo
from harness.apptest import has_container

LADDER = read_zoo().latent_dims("mnist", "conv")  # the default view's bottleneck sizes


def png_bytes(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def digit_one() -> bytes:
    """A dark "1" on white paper, as a photo of a written digit would be."""
    image = Image.new("L", (120, 160), 235)
    ImageDraw.Draw(image).line([(60, 20), (60, 140)], fill=20, width=14)
    return png_bytes(image)


def images_in(at: AppTest, key: str) -> int:
    """How many images sit inside the container with ``key``: st.image elements and <img> tags of st.html."""
    return len(image_alts(at, key))


def image_alts(at: AppTest, key: str) -> list[str]:
    """The alt text of every image in the container with ``key``, as the browser reads it ("" for an st.image)."""
    block = at.get_by_key(key)
    alts: list[str] = []
    for element in block.html:
        alts += [html.unescape(alt) for alt in re.findall(r'<img [^>]*alt="([^"]*)"', element.value)]
    return alts + [""] * len(block.image)


def timer_data(at: AppTest, key: str) -> dict | None:
    """What the rerun timer with ``key`` was mounted with, or None when it is not on the page."""
    import json

    for node in at.get("bidi_component"):
        if str(node.proto.id).endswith(f"-{key}"):
            return json.loads(node.proto.json)
    return None


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.fixture(scope="module")
def default_page(open_page):
    return open_page()


class TestDefaultPage:
    def test_runs_without_exception(self, default_page):
        assert not default_page.exception

    def test_starts_with_a_sample_and_the_whole_ladder(self, default_page):
        assert default_page.selectbox(key="input_choice").value == "sample"
        # the input and six reconstructions, then the input and PCA at six sizes
        assert images_in(default_page, "reconstructions") == 2 * (len(LADDER) + 1)
        alts = image_alts(default_page, "reconstructions")
        name = "Sample #0 (0)"   # the default input: held-out image 0
        assert alts[0] == alts[len(LADDER) + 1] == f"the input, {name}: 28×28"
        for row, family in enumerate(("Convolutional", "PCA")):   # each says what it shows and its error
            for z, alt in zip(LADDER, alts[row * (len(LADDER) + 1) + 1:(row + 1) * (len(LADDER) + 1)]):
                assert re.fullmatch(rf"{family} reconstruction of {re.escape(name)} at z = {z}, "
                                    r"SSE \d+\.\d, PSNR -?\d+\.\d dB", alt), alt

    def test_sidebar_names_the_device_and_timing(self, default_page):
        text = " ".join(c.value for c in default_page.sidebar.caption)
        assert "CPU" in text or "CUDA" in text or "MPS" in text
        assert "Last inference" in text and " ms" in text

    def test_the_url_carries_the_view(self, default_page):
        assert default_page.query_params["dataset"] == "mnist"
        assert default_page.query_params["family"] == "conv"


def test_url_opens_the_view_it_names(open_page):
    at = open_page(dataset="fashion", family="vae", sample="17")
    assert not at.exception
    assert at.radio(key="dataset").value == "fashion" and at.selectbox(key="family").value == "vae"
    assert "Sample #17" in at.selectbox(key="input_choice").format_func("sample")
    assert images_in(at, "reconstructions") == 2 * (len(read_zoo().latent_dims("fashion", "vae")) + 1)


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
@pytest.mark.parametrize("family", ["conv", "dense", "vae", "dae"])
def test_every_dataset_and_family(dataset, family, open_page):
    at = open_page()
    at.radio(key="dataset").set_value(dataset).run()
    at.selectbox(key="family").set_value(family).run()
    assert not at.exception
    assert images_in(at, "reconstructions") == 2 * (len(read_zoo().latent_dims(dataset, family)) + 1)


def test_upload_becomes_the_current_input(open_page, ladder_images):
    at = open_page()
    at.file_uploader(key="upload").set_value(("one.png", digit_one(), "image/png")).run()
    assert not at.exception
    choice = at.selectbox(key="input_choice")
    assert choice.value.startswith("upload:") and choice.format_func(choice.value) == "one.png"
    assert images_in(at, "reconstructions") == ladder_images


def test_several_uploads_each_get_a_result_and_the_newest_is_current(open_page):
    at = open_page()
    files = [("first.png", digit_one(), "image/png"), ("second.png", digit_one()[:len(digit_one()) // 2], "image/png"),
             ("third.jpg", png_bytes(Image.open(io.BytesIO(digit_one())).convert("RGB"), "JPEG"), "image/jpeg")]
    at.file_uploader(key="upload").set_value(files).run()
    assert not at.exception
    names = at.selectbox(key="input_choice").options  # AppTest lists the labels the user sees
    assert {"first.png", "third.jpg"} <= set(names)
    assert at.selectbox(key="input_choice").format_func(at.selectbox(key="input_choice").value) == "third.jpg"
    # the damaged second file gets a message naming it, the others their results
    assert any("second.png" in e.value for e in at.error)
    assert images_in(at, "upload_results") >= 2 * (1 + len(LADDER))


def test_picking_another_input(open_page):
    at = open_page()
    at.file_uploader(key="upload").set_value(("one.png", digit_one(), "image/png")).run()
    at.selectbox(key="input_choice").set_value("sample").run()
    assert not at.exception and at.selectbox(key="input_choice").value == "sample"


def test_random_sample_of_a_class(open_page):
    at = open_page()
    at.selectbox(key="sample_class").set_value("7").run()
    at.button(key="sample_random").click().run()
    assert not at.exception
    name = at.selectbox(key="input_choice").format_func("sample")
    assert name.endswith("(7)")
    assert at.query_params["sample"] == name.split("#")[1].split()[0]


def test_camera_photo_goes_through_the_same_path(open_page):
    at = open_page()
    photo = png_bytes(Image.open(io.BytesIO(digit_one())).convert("RGB"), "JPEG")
    at.camera_input(key="camera").set_value(("photo.jpg", photo, "image/jpeg")).run()
    assert not at.exception
    assert at.selectbox(key="input_choice").value == "camera"


def test_error_heatmaps_toggle(open_page, ladder_images):
    at = open_page()
    at.toggle(key="error_heatmaps").set_value(True).run()
    assert not at.exception and images_in(at, "reconstructions") == ladder_images


BAD_UPLOADS = {
    "empty.png": b"",
    "text.png": b"this is not a picture\n",
    "truncated.png": digit_one()[:len(digit_one()) // 2],
    "tiny.png": png_bytes(Image.new("L", (1, 1), 255)),
    "white.png": png_bytes(Image.new("L", (64, 64), 255)),
    "black.png": png_bytes(Image.new("L", (64, 64), 0)),
    "drawing.svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4"/></svg>',
}


@pytest.mark.parametrize("name", sorted(BAD_UPLOADS))
def test_bad_upload_gets_a_message_and_the_page_keeps_working(name, open_page, ladder_images):
    at = open_page()
    at.file_uploader(key="upload").set_value((name, BAD_UPLOADS[name], "image/png")).run()
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any(name in m for m in messages), messages
    assert at.selectbox(key="input_choice").value == "sample"  # the page still shows the last good input
    assert images_in(at, "reconstructions") == ladder_images
    at.file_uploader(key="upload").set_value(("one.png", digit_one(), "image/png")).run()
    assert not at.exception and at.selectbox(key="input_choice").value.startswith("upload:")


def test_the_first_run_shows_the_ladder_and_asks_for_the_rest(fresh_page, ladder_images):
    """The charts cost the browser seconds to draw, so a visit's first run leaves them out and
    mounts a timer that asks for the whole page; the next run draws it."""
    at = fresh_page().run()
    assert not at.exception
    assert images_in(at, "reconstructions") == ladder_images
    assert not at.get("plotly_chart") and not has_container(at, "small_map_32")
    assert timer_data(at, "first_paint") == {"token": "whole page", "delay_ms": 0}
    assert timer_data(at, "page_follows")["token"] is None  # the page shows the current input: nothing to follow
    at.run()
    assert not at.exception and at.get("plotly_chart") and has_container(at, "small_map_32")
    assert timer_data(at, "first_paint") is None


# --- the latent space (issue 4) ---------------------------------------------------------------

def _chart_specs(at: AppTest, key_part: str) -> list[dict]:
    """The plotly figures (as dicts) of charts whose element id contains ``key_part``."""
    import json

    return [json.loads(node.proto.spec) for node in at.get("plotly_chart") if key_part in str(node.proto.id)]


def _map_stars(at: AppTest) -> str:
    """The alt text of the main map picture's star overlay: the inputs it stars, the current one last."""
    (html_block,) = [h.value for h in at.get_by_key("latent_map").html]
    return html.unescape(re.search(r'class="ae-stars" src="data:image/svg\+xml;base64,[^"]+" alt="([^"]*)"',
                                   html_block).group(1))


def test_main_map_is_a_picture_with_the_input_starred(default_page):
    assert _map_stars(default_page) == "your input · Sample #0 (0)"
    assert image_alts(default_page, "latent_map")[0].startswith("z = 32 map of the held-out images")
    assert not _chart_specs(default_page, "map_chart_")   # the interactive chart only when switched on


def test_the_interactive_map_has_one_trace_per_class_and_the_input_as_a_star(open_page):
    at = open_page()
    at.toggle(key="map_interactive").set_value(True).run()
    (spec,) = _chart_specs(at, "map_chart_mnist_conv_32")
    names = [trace["name"] for trace in spec["data"]]
    assert names[:10] == [str(d) for d in range(10)]
    stars = [t for t in spec["data"] if "your input" in t["name"]]
    assert len(stars) == 1 and stars[0]["marker"]["symbol"] == "star"
    assert images_in(at, "latent_map") == 0  # the map container holds the chart alone


def test_uploads_are_placed_on_the_map_by_file_name(open_page):
    at = open_page()
    at.file_uploader(key="upload").set_value([("one.png", digit_one(), "image/png"),
                                              ("also-one.png", digit_one(), "image/png")]).run()
    starred = _map_stars(at).split("; ")
    assert starred[-1] == "your input · also-one.png"   # the newest upload is current: its star is drawn last
    assert "your input · one.png" in starred and any("Sample" in s for s in starred)
    at.toggle(key="map_interactive").set_value(True).run()
    (spec,) = _chart_specs(at, "map_chart_mnist_conv_32")
    names = [t["name"] for t in spec["data"] if "your input" in t["name"]]
    assert any("one.png" in n for n in names) and any("also-one.png" in n for n in names)


def test_small_maps_for_three_bottleneck_sizes(default_page):
    for z in (2, 8, 32):  # each a picture of its own with the star laid over it, outside the main map's container
        assert image_alts(default_page, f"small_map_{z}") == [f"z = {z} map of the held-out images", "your input's star"]
    assert not default_page.exception


def test_two_dimensional_latent_shows_the_raw_code_and_a_decoded_grid(open_page):
    at = open_page()
    at.select_slider(key="map_latent").set_value(2).run()
    assert not at.exception
    at.toggle(key="map_interactive").set_value(True).run()
    (spec,) = _chart_specs(at, "map_chart_mnist_conv_2")
    assert any(t["name"] == "decode here" for t in spec["data"])
    captions = [caption for image in at.get("image") for caption in image.captions]
    assert sum("Decoded manifold" in c for c in captions) == 2  # beside the main map and in the small maps


def test_the_playground_opens_on_the_morph_and_runs_only_the_open_tab(default_page):
    assert images_in(default_page, "morph") == 1
    assert not [s for s in default_page.slider if s.key and s.key.startswith("nudge_")]


def test_nudging_a_code_changes_the_decoded_image(open_page):
    at = open_page(playground="Nudge the code")  # the tab, as a link to it opens it
    assert not has_container(at, "morph")
    sliders = [s for s in at.slider if s.key and s.key.startswith("nudge_mnist_conv_16_")]
    assert len(sliders) == 16
    before = _decoded_pictures(at)
    assert len(before) == 2 and before[0] == before[1]  # nothing nudged yet: the same picture twice
    sliders[0].set_value(sliders[0].max).run()
    assert not at.exception
    after = _decoded_pictures(at)
    assert after[0] == before[0] and after[1] != before[1]  # the input's decoding stays, the nudged one changes


def _decoded_pictures(at: AppTest) -> list[str]:
    """The nudge tab's two pictures (their media URLs, which follow their content)."""
    return [image.value[0] for image in at.get("image") if any("decoded from the" in c for c in image.captions)]


def test_morph_offers_png_and_gif(open_page):
    at = open_page()
    assert images_in(at, "morph") == 1
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download PNG strip" in labels and "Download GIF" in labels


def test_recompute_the_map_with_pca(open_page):
    at = open_page()
    at.radio(key="map_method").set_value("pca")
    at.button(key="FormSubmitter:map_form-Recompute").click().run()
    assert not at.exception
    assert any("PCA projection" in c.value for c in at.caption)


def _odd_but_valid() -> dict[str, bytes]:
    """Uploads in unusual forms that still hold a digit: each must give a result."""
    from test_preprocess import draw, encode

    seven = draw()                                            # white "7" on black, 280x280, mode L
    sixteen = Image.fromarray((np.asarray(seven, np.uint16) * 257)).convert("I;16")
    alpha_only = Image.new("RGBA", seven.size, (0, 0, 0, 0))
    alpha_only.putalpha(seven)
    frames = [draw(), Image.new("L", (280, 280), 0)]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    exif = Image.Exif()
    exif[0x0112] = 6                                          # "rotate 90° clockwise to display"
    rotated = io.BytesIO()
    seven.transpose(Image.Transpose.ROTATE_90).convert("RGB").save(rotated, format="JPEG", exif=exif)
    return {
        "sixteen-bit.png": encode(sixteen),
        "cmyk.jpg": encode(seven.convert("CMYK"), "JPEG"),
        "alpha-only.png": encode(alpha_only),
        "animated.gif": gif.getvalue(),
        "exif-rotated.jpg": rotated.getvalue(),
        "photo.webp": encode(Image.open(io.BytesIO(digit_one())).convert("RGB"), "WEBP"),
        "scan.tiff": encode(Image.open(io.BytesIO(digit_one())), "TIFF"),
        "paint.bmp": encode(Image.open(io.BytesIO(digit_one())), "BMP"),
    }


ODD_BUT_VALID = _odd_but_valid()


@pytest.mark.parametrize("name", sorted(ODD_BUT_VALID))
def test_unusual_uploads_still_give_a_result(name, open_page, ladder_images):
    at = open_page()
    at.file_uploader(key="upload").set_value((name, ODD_BUT_VALID[name], "application/octet-stream")).run()
    assert not at.exception and not at.error
    choice = at.selectbox(key="input_choice")
    assert choice.format_func(choice.value) == name
    assert images_in(at, "reconstructions") == ladder_images


def test_decompression_bomb_and_a_thin_strip_are_refused_politely(open_page):
    from test_preprocess import bomb_png

    at = open_page()
    at.file_uploader(key="upload").set_value([("bomb.png", bomb_png(30000, 30000), "image/png"),
                                              ("strip.png", png_bytes(Image.new("L", (1, 20000), 0)), "image/png")])
    at.run()
    assert not at.exception
    messages = " ".join(e.value for e in at.error)
    assert "bomb.png" in messages and "strip.png" in messages
    assert at.selectbox(key="input_choice").value == "sample"


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
def test_the_first_page_never_imports_umap(app_file):
    """`import umap` costs seconds (numba): the page must be out before anything needs it."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from streamlit.testing.v1 import AppTest\n"
            f"at = AppTest.from_file({str(app_file)!r}, default_timeout=120).run().run()\n"
            "assert not at.exception, at.exception\n"
            "print('umap' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_after_a_whole_page_the_ladders_it_ran_become_one_graph_each(open_page):
    """The app serves eager models at first (a first visit does not wait) and compiles its ladders in the
    background after the first whole page (resources.compile_ladders): then strokes give up the GIL once."""
    import time

    from ui import resources

    at = open_page()
    assert not at.exception
    caches = [resources._ladder_cache("mnist", "conv"), resources._pca_ladder_cache("mnist", "conv")]
    deadline = time.monotonic() + 60
    while any(cache.compiled is None for cache in caches) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(cache.compiled is not None for cache in caches)
