"""Students' phones: a touch stroke on the canvas updates the ladder, and the page fits a narrow screen."""
from __future__ import annotations

import pytest

from harness.browser import (ARTIFACTS, HOW_TO_GET_CHROMIUM, canvas_box, chromium_available, phone_page,
                             touch_stroke, wait_for_change, wait_for_images)

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not chromium_available(), reason=HOW_TO_GET_CHROMIUM)]


def test_a_finger_draws_and_the_page_stacks_into_one_column(app_url, ladder_images):
    with phone_page() as page:
        page.goto(app_url)
        before = wait_for_images(page, "reconstructions", ladder_images)
        touch_stroke(page, canvas_box(page), [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)])
        after = wait_for_change(page, "reconstructions", before)
        assert len(after) == ladder_images
        layout = page.evaluate("""() => {
            const tiles = [...document.querySelectorAll('.st-key-reconstructions .ae-ladder img')]
                .map(i => i.getBoundingClientRect());
            return {page: document.documentElement.scrollWidth, window: window.innerWidth,
                    rows: new Set(tiles.map(t => Math.round(t.top))).size,
                    narrowest: Math.min(...tiles.map(t => t.width))}; }""")
        assert layout["page"] <= layout["window"]  # no sideways scrolling of the page
        assert layout["rows"] >= 4 and layout["narrowest"] >= 80  # the ladder wraps instead of shrinking
        assert "Traceback" not in page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=False)
