"""Your own images in a real browser: upload a small ZIP, train it (the reduced recipe), open ?dataset=<id> in colour."""
from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from harness.browser import (ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, HOW_TO_GET_CHROMIUM, REPO_ROOT, chromium_available,
                             streamlit_server)

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not chromium_available(), reason=HOW_TO_GET_CHROMIUM)]


# the largest max - min of R, G, B over the pixels of the own ladder's pictures whose caption starts with the
# argument (-1 when there is none)
COLOUR_SPREAD = """async (caption) => {
            const imgs = [...document.querySelectorAll('.st-key-own_ladder img')].filter(img =>
                (img.closest('[data-testid="stElementContainer"]')?.innerText || img.alt || '')
                    .startsWith(caption));
            if (!imgs.length) return -1;
            let most = 0;
            for (const img of imgs) {
                await img.decode();
                const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
                const g = c.getContext('2d'); g.drawImage(img, 0, 0);
                const d = g.getImageData(0, 0, c.width, c.height).data;
                for (let i = 0; i < d.length; i += 4)
                    most = Math.max(most, Math.max(d[i], d[i+1], d[i+2]) - Math.min(d[i], d[i+1], d[i+2]));
            }
            return most; }"""


def squares_zip(per_class: int = 20) -> bytes:
    """Red, green and blue squares on dark noise, in one sub-folder per colour."""
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for k, name in enumerate(("red", "green", "blue")):
            for i in range(per_class):
                pixels = rng.integers(0, 50, (40, 40, 3)).astype(np.uint8)
                r, c = rng.integers(0, 20, 2)
                pixels[r:r + 20, c:c + 20, k] = 230
                png = io.BytesIO()
                Image.fromarray(pixels).save(png, "PNG")
                archive.writestr(f"squares/{name}/{i}.png", png.getvalue())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def own_app_url(tmp_path_factory):
    ARTIFACTS.mkdir(exist_ok=True)
    folder = tmp_path_factory.mktemp("own-data")
    with streamlit_server(REPO_ROOT / "app.py", env={"AE_DATA_DIR": str(folder), "AE_OWN_RECIPE": "reduced"}) as url:
        yield url


def test_upload_train_and_open_in_colour(own_app_url, tmp_path):
    from playwright.sync_api import sync_playwright

    archive = tmp_path / "squares.zip"
    archive.write_bytes(squares_zip())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.goto(f"{own_app_url}/?dataset=own")
            panel = page.locator(".st-key-own_data")
            panel.wait_for(state="visible", timeout=120_000)
            page.locator(".st-key-own_data_upload input[type=file]").set_input_files(str(archive))
            page.wait_for_function("() => document.querySelector('.st-key-own_data')?.innerText.includes('60 pictures')",
                                   timeout=120_000)
            page.locator(".st-key-own_data_name input").fill("Squares")
            page.locator(".st-key-own_data_name input").press("Enter")
            page.locator(".st-key-own_data_colour").get_by_text("colour", exact=True).click()
            page.wait_for_function("() => document.querySelectorAll('.st-key-own_data img').length >= 48",
                                   timeout=60_000)
            page.locator(".st-key-own_data_train button").click()
            page.wait_for_function("() => document.querySelector('.st-key-own_data')?.innerText.includes('Done: open it')",
                                   timeout=300_000)
            text = page.inner_text(".st-key-own_data")
            assert "Owner key, shown only now" in text
            dataset_id = re.search(r"\?dataset=([A-Za-z0-9]{16})", text).group(1)
            page.screenshot(path=str(ARTIFACTS / "own_data_trained.png"))

            page.goto(f"{own_app_url}/?dataset={dataset_id}")
            page.wait_for_function("() => document.querySelectorAll('.st-key-own_ladder img').length >= 10",
                                   timeout=120_000)
            ladder = page.locator(".st-key-own_ladder")
            assert "conv z=32" in ladder.inner_text()
            # the ladder's pictures are in colour: a grey picture has R = G = B at every pixel (the page repeats
            # a grey channel three times), so any spread between the channels is colour; the input is vivid, and
            # the barely trained z = 32 net of the reduced recipe (12 steps) already gives back tinted pictures
            spread = page.evaluate(COLOUR_SPREAD, "conv z=32")
            assert spread > 5
            assert page.evaluate(COLOUR_SPREAD, "input") > 100
            page.screenshot(path=str(ARTIFACTS / "own_data_lab.png"), full_page=True)
        finally:
            browser.close()
