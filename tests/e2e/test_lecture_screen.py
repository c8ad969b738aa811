"""A lecture on one screen: the canvas and the whole ladder in view together, the tour panel clear of the sidebar."""
from __future__ import annotations

import pytest

from harness.browser import (ARTIFACTS, HOW_TO_GET_CHROMIUM, chromium_available, chromium_page, wait_for_images,
                             wait_until_idle)

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not chromium_available(), reason=HOW_TO_GET_CHROMIUM)]

LADDER_TILES = 7  # the input and six sizes


def _inside(box: dict, width: int, height: int) -> bool:
    return (box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width
            and box["y"] + box["height"] <= height)


def _first_screen(page, width: int, height: int) -> tuple[dict, list[dict]]:
    """The canvas's box and the network row's tiles' boxes, as the page first shows them (nothing scrolled)."""
    wait_for_images(page, "reconstructions", 2 * LADDER_TILES)
    wait_until_idle(page)
    canvas = page.locator(".st-key-draw_canvas canvas").last
    canvas.wait_for(state="visible", timeout=60_000)
    tiles = page.evaluate("""() => [...document.querySelector('.st-key-reconstructions .ae-ladder').querySelectorAll('img')]
                                   .map(i => { const b = i.getBoundingClientRect();
                                               return {x: b.x, y: b.y, width: b.width, height: b.height}; })""")
    return canvas.bounding_box(), tiles


@pytest.mark.parametrize("width, height, query", [(1280, 720, "?present=1"), (1920, 1080, "?present=1"),
                                                  (1920, 1080, "")])
def test_the_canvas_and_the_whole_ladder_are_on_the_first_screen(app_url, width, height, query):
    with chromium_page(width, height) as page:
        page.goto(f"{app_url}/{query}")
        canvas, tiles = _first_screen(page, width, height)
        page.screenshot(path=str(ARTIFACTS / f"first-screen-{width}x{height}{query[1:].replace('=', '')}.png"))
        assert canvas["width"] >= 250 and _inside(canvas, width, height), canvas
        assert len(tiles) == LADDER_TILES and all(_inside(t, width, height) for t in tiles), tiles
        if query and width == 1920:  # the size asked for a projector, and the PCA row under it
            assert min(t["width"] for t in tiles) >= 200
            pca = page.evaluate("""() => [...document.querySelectorAll('.st-key-reconstructions .ae-ladder')[1]
                                      .querySelectorAll('img')].map(i => i.getBoundingClientRect().bottom)""")
            assert len(pca) == LADDER_TILES and max(pca) <= height
        if query:
            body = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.stApp p')).fontSize)")
            assert body >= 20


def test_the_tour_panel_sits_right_of_the_open_sidebar(app_url):
    with chromium_page(1920, 1080) as page:
        page.goto(f"{app_url}/?tour=1")
        page.wait_for_function("() => document.querySelector('.st-key-tour')?.innerText.includes('step 1 of')",
                               timeout=120_000)
        wait_until_idle(page)
        # the sidebar slides in, and the panel follows once the page's script for it has loaded
        page.wait_for_function("""() => document.querySelector('.st-key-tour').getBoundingClientRect().left
                                        >= document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right
                                        && document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right > 0""",
                               timeout=30_000)
        edges = page.evaluate("""() => ({
            sidebar: document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right,
            panel: document.querySelector('.st-key-tour').getBoundingClientRect().left,
            panelRight: document.querySelector('.st-key-tour').getBoundingClientRect().right})""")
        assert edges["sidebar"] >= 200  # open, as a wide window opens it
        assert edges["panel"] >= edges["sidebar"] and edges["panelRight"] <= 1920, edges


def test_the_input_flows_through_the_network_layer_by_layer_without_a_rerun(app_url):
    """Step, Back and Play light the layers one by one from pictures already in the page: the browser sends
    the server nothing meanwhile (no script rerun)."""
    with chromium_page(1600, 1000) as page:
        sent: list[int] = []
        page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(len(frame))))
        page.goto(f"{app_url}/?tour=1")  # the first step opens the network
        play = ".st-key-network_play .ae-play"
        page.wait_for_selector(f"{play} figure", timeout=120_000)
        wait_until_idle(page)
        layers = page.locator(f"{play} figure").count()
        assert layers >= 5
        shown = lambda: int(page.locator(play).get_attribute("data-shown"))  # noqa: E731
        before = len(sent)
        step = page.locator(f"{play} button[data-act=step]")
        for n in (1, 2, 3):
            step.click()
            assert shown() == n and page.locator(f"{play} figure.ae-lit").count() == n
        page.locator(f"{play} button[data-act=back]").click()
        assert shown() == 2
        page.locator(f"{play} button[data-act=play]").click()
        seen = [shown()]
        for _ in range(100):  # the component renders in a shadow root: read it through the locator, every 100 ms
            page.wait_for_timeout(100)
            seen.append(shown())
            if seen[-1] == layers:
                break
        assert seen[-1] == layers and seen == sorted(seen)  # lit one after another up to the last layer
        assert len(set(seen)) >= layers - 3                  # layer by layer, not all at once
        assert len(sent) == before, "the animation asked the server for a rerun"


def test_with_reduced_motion_play_shows_every_layer_at_once_in_the_visitors_language(app_url):
    """The browser's reduced-motion setting turns the network's animation off, not just its CSS fade: Play lights
    every layer in one step. Its buttons and its "k of n" line are in the page's language (here Chinese)."""
    with chromium_page(1600, 1000) as page:
        page.emulate_media(reduced_motion="reduce")
        page.goto(f"{app_url}/?tour=1&lang=zh")
        play = ".st-key-network_play .ae-play"
        page.wait_for_selector(f"{play} figure", timeout=120_000)
        wait_until_idle(page)
        layers = page.locator(f"{play} figure").count()
        assert page.locator(f"{play} button[data-act=play]").inner_text() == "▶ 播放"
        page.locator(f"{play} button[data-act=play]").click()
        assert int(page.locator(play).get_attribute("data-shown")) == layers
        assert page.locator(f"{play} figure.ae-lit").count() == layers
        assert page.locator(f"{play} .ae-play-where").inner_text().startswith(f"第 {layers} 层，共 {layers} 层：")
