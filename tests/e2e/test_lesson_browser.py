"""The lesson in a real browser: the tour by the arrow keys, and presentation mode's sizes."""
from __future__ import annotations

import pytest

from harness.browser import (HOW_TO_GET_CHROMIUM, chromium_available, chromium_page, wait_for_images, wait_until_idle)
from ui.tour import STEPS

FEATURES_STEP = [s.section for s in STEPS].index("features") + 1

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not chromium_available(), reason=HOW_TO_GET_CHROMIUM)]


def _tour_text(page) -> str:
    return page.inner_text(".st-key-tour")


def test_the_arrow_keys_step_through_the_tour(app_url, ladder_images):
    with chromium_page(1920, 1080) as page:
        page.goto(f"{app_url}/?tour=1")
        wait_for_images(page, "reconstructions", ladder_images)
        page.wait_for_function("() => document.querySelector('.st-key-tour')?.innerText.includes('step 1 of')",
                               timeout=60_000)
        page.mouse.click(5, 300)  # focus the page, not a widget
        for number in (2, 3):
            wait_until_idle(page)  # a key pressed mid-run could reach the previous run's Next button
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"() => location.search.includes('tour={number}')", timeout=30_000)
            page.wait_for_function(f"() => document.querySelector('.st-key-tour').innerText.includes('step {number} of')",
                                   timeout=30_000)
        wait_until_idle(page)
        page.keyboard.press("ArrowLeft")
        page.wait_for_function("() => location.search.includes('tour=2')", timeout=30_000)
        # the URL changes at the start of the run, the panel when the run gets to it
        page.wait_for_function("() => document.querySelector('.st-key-tour').innerText.includes('step 2 of')",
                               timeout=30_000)
        assert "step 2 of" in _tour_text(page) and "Traceback" not in page.inner_text("body")


def test_a_tour_link_in_presentation_mode_shows_the_features_at_projector_size(app_url, ladder_images):
    with chromium_page(1920, 1080) as page:
        page.goto(f"{app_url}/?tour={FEATURES_STEP}&present=1")
        show = page.locator(".st-key-predict_show_features button")  # the step asks first; Show reveals the section
        show.wait_for(timeout=120_000)
        show.click()
        wait_for_images(page, "reconstructions", ladder_images)
        grid = page.locator(".st-key-features img").first
        grid.wait_for(state="visible", timeout=120_000)
        page.wait_for_timeout(1500)  # the step scrolls to the section
        box = grid.bounding_box()
        assert box["width"] >= 600  # 196 tiles of 28 px at twice their size, or more
        assert 0 <= box["y"] < 1080  # scrolled into view
        sizes = page.evaluate("""() => ({
            body: parseFloat(getComputedStyle(document.querySelector('.stApp p')).fontSize),
            tile: Math.min(...[...document.querySelectorAll('.ae-ladder img')].map(i => i.getBoundingClientRect().width)),
            toolbar: [...document.querySelectorAll('[data-testid=stToolbar], [data-testid=stAppDeployButton]')]
                     .filter(e => e.offsetParent !== null).length,
            sidebar: document.querySelector('[data-testid=stSidebar]')?.getAttribute('aria-expanded')})""")
        assert sizes["body"] >= 20 and sizes["tile"] >= 200 and sizes["toolbar"] == 0
        assert sizes["sidebar"] != "true"
        assert f"step {FEATURES_STEP} of" in _tour_text(page)
