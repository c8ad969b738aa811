"""Watch it learn in a real browser: the loss curve grows as it trains; a second visitor is told it is busy."""
from __future__ import annotations

import pytest

from harness.browser import (HOW_TO_GET_CHROMIUM, CHROMIUM, CHROMIUM_FLAGS, chromium_available, wait_for_images)

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not chromium_available(), reason=HOW_TO_GET_CHROMIUM)]

_POINTS = """() => { const plot = document.querySelector('.st-key-learn_live_chart .js-plotly-plot');
                     return plot && plot.data && plot.data[0] ? plot.data[0].x.length : 0; }"""


def _open_demo(browser, url: str, ladder_images: int):
    page = browser.new_page(viewport={"width": 1600, "height": 1200})  # a context of its own: another visitor
    page.goto(f"{url}/?demo=learn_live")
    wait_for_images(page, "reconstructions", ladder_images)
    start = page.locator(".st-key-learn_live_start button")
    start.wait_for(state="visible", timeout=120_000)
    start.scroll_into_view_if_needed()
    return page, start


def test_the_loss_curve_grows_while_it_trains_and_a_second_visitor_is_told_it_is_busy(app_url, ladder_images):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            first, start = _open_demo(browser, app_url, ladder_images)
            # the second visitor's page opens before the training starts: opened during it, on a loaded machine,
            # it took long enough that the training (40 epochs or 2 minutes) could end before its click
            second, start_again = _open_demo(browser, app_url, ladder_images)
            start.click()
            chart = first.locator(".st-key-learn_live_chart")
            chart.wait_for(state="attached", timeout=120_000)
            chart.scroll_into_view_if_needed()  # Plotly draws a chart once it is on the screen
            # the first points come once the child has imported torch and trained an epoch (50 steps)
            first.wait_for_function(f"() => ({_POINTS})() >= 50", timeout=120_000)
            earlier = first.evaluate(_POINTS)
            first.wait_for_function(f"() => ({_POINTS})() > {earlier}", timeout=60_000)  # polled, no click
            assert first.evaluate(_POINTS) > earlier
            start_again.scroll_into_view_if_needed()
            start_again.click()
            second.wait_for_function("() => document.querySelector('.st-key-learn_live')?.innerText"
                                     ".includes('Busy: someone else is training')", timeout=60_000)
            assert "will be free in" in second.inner_text(".st-key-learn_live")
            first.locator(".st-key-learn_live_stop button").click()
            first.wait_for_function("() => /Stopped|Finished/.test(document.querySelector('.st-key-learn_live')"
                                    "?.innerText || '')", timeout=60_000)
        finally:
            browser.close()
