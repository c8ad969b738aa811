"""The real thing: `streamlit run app.py` with the shipped config and nothing switched off, in headless Chromium."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageDraw

from harness.browser import (ARTIFACTS, HOW_TO_GET_CHROMIUM, chromium_available, chromium_page, canvas_box,
                             draw_stroke, record_requests, wait_for_change, wait_for_images, wait_for_main_map,
                             wait_for_map_star, wait_until_idle)

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not chromium_available(), reason=HOW_TO_GET_CHROMIUM)]


def test_draw_then_upload(app_url, tmp_path, ladder_images):
    with chromium_page() as page:
        page.goto(app_url)
        first = wait_for_images(page, "reconstructions", ladder_images)
        wait_for_main_map(page, timeout=60)

        # a "7" drawn on the canvas replaces the sample; the ladder updates
        box = canvas_box(page)
        draw_stroke(page, box, [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)])
        drawn = wait_for_change(page, "reconstructions", first)
        assert len(drawn) == ladder_images
        page.wait_for_function("() => document.body.innerText.includes('Drawing')", timeout=30_000)
        # the rest of the page follows the drawing once the strokes pause: its star on the main map
        wait_for_map_star(page, "Drawing")

        # an upload becomes the current input, named by its file
        picture = Image.new("L", (200, 260), 240)
        ImageDraw.Draw(picture).ellipse((50, 40, 150, 220), outline=15, width=18)
        path = tmp_path / "zero-on-paper.png"
        picture.save(path)
        page.get_by_role("tab", name="Upload").click()
        page.locator(".st-key-upload input[type=file]").set_input_files(str(path))
        uploaded = wait_for_change(page, "reconstructions", drawn)
        assert len(uploaded) == ladder_images
        page.wait_for_function("() => document.body.innerText.includes('zero-on-paper.png')", timeout=30_000)

        # the star for the upload is on the main map
        wait_for_map_star(page, "zero-on-paper.png")
        assert "Traceback" not in page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "e2e-screenshot.png"), full_page=True)


def test_the_playground_tabs_run_only_the_open_one_and_live_in_the_url(app_url):
    with chromium_page() as page:
        page.goto(app_url)
        page.wait_for_selector(".st-key-morph img", timeout=120_000)  # the morph is the open tab at first
        assert page.locator("[class*='st-key-nudge_']").count() == 0
        tab = page.get_by_role("tab", name="Nudge the code")
        tab.scroll_into_view_if_needed()
        tab.click()
        page.wait_for_selector("[class*='st-key-nudge_mnist_conv_16_0']", timeout=60_000)
        # the morph goes when the run that drew the sliders ends (Streamlit keeps a previous run's elements,
        # faded, until the new run has finished): it must go, not be redrawn
        page.wait_for_selector(".st-key-morph", state="detached", timeout=60_000)
        page.wait_for_function("() => location.search.includes('playground=Nudge')", timeout=10_000)
        link = page.url
        page.goto(link)  # a link to the tab opens it
        page.wait_for_selector("[class*='st-key-nudge_mnist_conv_16_0']", timeout=120_000)
        assert "Traceback" not in page.inner_text("body")


def test_the_page_asks_no_other_host_for_anything(app_url):
    """Offline it must work, and online no third party learns of a school's visitors: icon, fonts, scripts, all local."""
    with chromium_page() as page:
        requests = record_requests(page)
        page.goto(app_url)
        page.wait_for_selector(".st-key-morph img", timeout=120_000)  # the last section: the whole page is out
        page.wait_for_timeout(1000)
        server = urlsplit(app_url).netloc
        foreign = [url for url in requests if urlsplit(url).scheme not in ("data", "blob")
                   and urlsplit(url).netloc != server]
        assert requests and not foreign, foreign


def test_recomputing_a_umap_map_shows_the_new_map(app_url):
    """Under `streamlit run`, the worker process fits it: no traceback, the map says its new settings."""
    with chromium_page() as page:
        page.goto(app_url)
        wait_for_main_map(page, timeout=120)
        wait_until_idle(page)  # the whole page's run is over: a click does not land in a run that is still drawing
        page.get_by_text("Recompute the map with other settings").click()
        slider = page.locator(".st-key-map_n_neighbors input[type=range]")
        slider.focus()
        for _ in range(5):
            slider.press("ArrowRight")  # n_neighbors 15 -> 20
        page.wait_for_function("() => document.querySelector('.st-key-map_n_neighbors').innerText.includes('20')",
                               timeout=10_000)
        wait_until_idle(page)
        page.get_by_role("button", name="Recompute").click()
        # the first fit after the server starts may wait for the worker's UMAP compile
        page.wait_for_function("() => document.body.innerText.includes('UMAP · n_neighbors 20')", timeout=480_000)
        wait_for_main_map(page, timeout=60)
        body = page.inner_text("body")
        assert "Traceback" not in body and "BrokenProcessPool" not in body
        assert page.locator("[data-testid=stException]").count() == 0


def test_a_download_is_made_when_pressed_and_holds_the_view(app_url, tmp_path, ladder_images):
    """The files are made on the click (deferred downloads): the sidebar's zip of the view and the morph's GIF."""
    import json
    import zipfile

    with chromium_page() as page:
        page.goto(app_url)
        wait_for_images(page, "reconstructions", ladder_images)
        page.wait_for_selector(".st-key-morph img", timeout=120_000)  # the whole page is out
        wait_until_idle(page)  # and its run is over: the button pressed is the one the last run registered
        with page.expect_download(timeout=60_000) as download:
            page.locator(".st-key-view_zip").get_by_role("button", name="Download this view (zip)").click()
        path = tmp_path / "view.zip"
        download.value.save_as(path)
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            settings = json.loads(archive.read(next(n for n in names if n.endswith(".json"))))
        assert any(n.endswith(".png") for n in names) and settings["settings"]["dataset"] == "mnist"
        assert "dataset=mnist" in settings["url"]
        with page.expect_download(timeout=60_000) as download:
            page.locator(".st-key-morph_gif").get_by_role("button", name="Download GIF").click()
        gif = tmp_path / "morph.gif"
        download.value.save_as(gif)
        with Image.open(gif) as animation:
            assert animation.format == "GIF" and animation.n_frames > 3
        assert "Traceback" not in page.inner_text("body")
