"""Stroke -> new reconstructions and page open -> first reconstructions, in a real browser:
the app against a floor page, in one run, each served as a user serves it.

    .venv/bin/python benchmarks/bench_canvas.py [--strokes 12]

Both pages run under `streamlit run` with the shipped config and nothing switched off: the
app's map fitter warms UMAP up in its worker process during the server's first minute, as
it does for a real class. The floor (benchmarks/floor_app.py) has the same canvas and only
echoes it as six images, so it costs what Streamlit's round trip costs.

For each page, on a server started for the measurement:
- a fresh server's first visit: navigation -> first images, in a fresh browser profile (a new
  visitor: nothing cached);
- strokes in the server's first minute, then strokes after it (median of each);
- page opens by new visitors (a fresh profile each) and reloads (same tab, bundles cached),
  median of OPENS each, on the warm server.
For the app also: page open -> the main map drawn, and a lone stroke -> its star on the main map
(and how long after the ladder it came).
Targets: app/floor <= 1.5 for a stroke and <= 2.0 for page open.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from harness.report import Figure
from harness.browser import (REPO_ROOT, canvas_box, chart_stars, chromium_available, chromium_browser, draw_stroke,
                             image_sources, streamlit_server, wait_for_change, wait_for_images, wait_for_stars_to_move)

STROKES_PER_CANVAS = 8  # then a fresh canvas (a reload): the page's cost does not grow with the ink
# Stroke i crosses the canvas in band i % 8, which no earlier stroke on that canvas touched (bands 0.1 of the
# canvas apart, the pen 0.08 wide), so every stroke changes the 28x28 input and so every picture: strokes that
# overlapped could leave the input as it was, and the wait for new pictures then never ended. The bands stay in
# the canvas's top 0.8, the part the floor echoes (its top-left 224 px).
STROKES = [[(0.12 + 0.03 * (i // STROKES_PER_CANVAS % 4), 0.06 + 0.1 * (i % STROKES_PER_CANVAS)),
            (0.5, 0.08 + 0.1 * (i % STROKES_PER_CANVAS)),
            (0.88, 0.06 + 0.1 * (i % STROKES_PER_CANVAS))] for i in range(40)]
OPENS = 5               # page opens per kind, for the median
FIRST_MINUTE_S = 60.0   # what "the server's first minute" means here
FOLLOWS = "latent_map"  # the main map: the costliest part of the page that shows the current input
VIEWPORT = {"width": 1600, "height": 1200}


STROKE_WAIT_S = 60      # a stroke whose pictures have not all changed by then is counted lost


def _stroke(page, box, i: int, n_images: int, lost: list[int]) -> tuple[float | None, dict]:
    """Seconds from a stroke to every image changed (None: lost, its index appended to ``lost`` and the page
    saved as artifacts/bench_canvas_lost_<i>.png); the canvas's box (new after a fresh canvas)."""
    if i and i % STROKES_PER_CANVAS == 0:
        page.reload()
        wait_for_images(page, "reconstructions", n_images)
        box = canvas_box(page)
    before = image_sources(page, "reconstructions")
    started = time.perf_counter()
    draw_stroke(page, box, STROKES[i % len(STROKES)])
    try:
        wait_for_change(page, "reconstructions", before, timeout=STROKE_WAIT_S)
    except PlaywrightTimeout:
        # a figure, not a crash: the run goes on with a fresh canvas and the table says how many were lost
        lost.append(i)
        page.screenshot(path=str(REPO_ROOT / "artifacts" / f"bench_canvas_lost_{i}.png"), full_page=True)
        page.reload()
        wait_for_images(page, "reconstructions", n_images)
        return None, canvas_box(page)
    return time.perf_counter() - started, box


def _open(page, url: str, n_images: int, follows: bool) -> tuple[float, float | None]:
    started = time.perf_counter()
    page.goto(url)
    wait_for_images(page, "reconstructions", n_images)
    first = time.perf_counter() - started
    whole = None
    if follows:
        wait_for_stars_to_move(page, FOLLOWS, None, timeout=120)
        whole = time.perf_counter() - started
    page.wait_for_timeout(2000)  # what is still drawing must not spill into the next measurement
    return first, whole


def measure(script: Path, n_images: int, strokes: int, follows: int = 0) -> dict:
    found: dict = {}
    with streamlit_server(script) as url, chromium_browser() as browser:
        up = time.monotonic()  # the health endpoint answered: the server is up
        page = browser.new_page(viewport=VIEWPORT)
        found["first_visit"], _ = _open(page, url, n_images, follows=False)
        box = canvas_box(page)
        found["early"], found["late"], found["lost"] = [], [], []
        i = 0
        while time.monotonic() - up < FIRST_MINUTE_S:
            seconds, box = _stroke(page, box, i, n_images, found["lost"])
            if seconds is not None:
                found["early"].append(seconds)
            i += 1
        for _ in range(strokes):
            seconds, box = _stroke(page, box, i, n_images, found["lost"])
            if seconds is not None:
                found["late"].append(seconds)
            i += 1
        page.close()
        visits, reloads, whole = [], [], []
        for _ in range(OPENS):  # a new visitor each: a fresh profile, Streamlit's and Plotly's bundles not cached
            context = browser.new_context(viewport=VIEWPORT)
            first, drawn = _open(context.new_page(), url, n_images, follows=bool(follows))
            visits.append(first)
            if drawn is not None:
                whole.append(drawn)
            context.close()
        page = browser.new_page(viewport=VIEWPORT)
        _open(page, url, n_images, follows=False)
        for _ in range(OPENS):  # the same tab again: a reload, bundles cached
            reloads.append(_open(page, url, n_images, follows=False)[0])
        found.update(visit=statistics.median(visits), reload=statistics.median(reloads))
        if follows:
            found["open_page"] = statistics.median(whole)
            wait_for_stars_to_move(page, FOLLOWS, None, timeout=120)
            box = canvas_box(page)
            found["follow"], found["after_ladder"] = [], []
            for k in range(follows + 1):  # the first stroke warms the path
                page.wait_for_timeout(3000)  # let the page settle: a lone stroke, not one of a burst
                before, ladder = chart_stars(page, FOLLOWS), image_sources(page, "reconstructions")
                started = time.perf_counter()
                draw_stroke(page, box, STROKES[7 * k])
                wait_for_change(page, "reconstructions", ladder)
                ladder_s = time.perf_counter() - started
                wait_for_stars_to_move(page, FOLLOWS, before, timeout=120)
                if k:
                    found["follow"].append(time.perf_counter() - started)
                    found["after_ladder"].append(time.perf_counter() - started - ladder_s)
    return found


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=12, help="strokes after the server's first minute")
    args = parser.parse_args()
    if not chromium_available():
        print("Chromium not found at /usr/bin/chromium: sudo apt-get install chromium", file=sys.stderr)
        return 1
    run(args.strokes)
    return 0


def run(strokes: int = 12) -> list[Figure]:
    """Measure the floor and the app, print the table, return its figures."""
    (REPO_ROOT / "artifacts").mkdir(exist_ok=True)
    floor = measure(REPO_ROOT / "benchmarks" / "floor_app.py", 6, strokes)
    app = measure(REPO_ROOT / "app.py", 14, strokes, follows=3)
    rows = [("fresh server, first visit -> first images", floor["first_visit"], app["first_visit"], 2.0),
            (f"stroke in the server's first minute (median of {len(floor['early'])} / {len(app['early'])})",
             statistics.median(floor["early"]), statistics.median(app["early"]), 1.5),
            (f"stroke after the first minute (median of {strokes})",
             statistics.median(floor["late"]), statistics.median(app["late"]), 1.5),
            (f"new visitor, page open -> first images (median of {OPENS})", floor["visit"], app["visit"], 2.0),
            (f"reload, page open -> first images (median of {OPENS})", floor["reload"], app["reload"], 2.0)]
    print("map fitter's UMAP warm-up on, shipped config; floor = benchmarks/floor_app.py in the same run")
    print(f"{'what':64s} {'floor':>8s} {'app':>8s} {'ratio':>6s} target")
    for what, f, a, target in rows:
        print(f"{what:64s} {_ms(f):>8s} {_ms(a):>8s} {a / f:6.2f} <= {target}")
    print(f"app, whole page: new visitor's open -> main map drawn {_ms(app['open_page'])} (median of {OPENS}); "
          f"lone stroke -> its star on the main map {_ms(statistics.median(app['follow']))} (median of "
          f"{len(app['follow'])}), {_ms(statistics.median(app['after_ladder']))} after the ladder (target <= 1 s)")
    figures = [Figure(f"{what}: app / floor (floor {_ms(f)}, app {_ms(a)})", f"{a / f:.2f}", f"<= {target}", a / f <= target)
               for what, f, a, target in rows]
    lost = {name: len(found["lost"]) for name, found in (("floor", floor), ("app", app))}
    print(f"strokes whose pictures did not all change within {STROKE_WAIT_S} s: floor {lost['floor']}, app "
          f"{lost['app']} (of {len(app['early']) + len(app['late']) + lost['app']})")
    figures.append(Figure(f"app strokes lost (pictures unchanged {STROKE_WAIT_S} s after the stroke)",
                          str(lost["app"]), "0", lost["app"] == 0))
    figures.append(Figure(f"new visitor's page open -> main map drawn (median of {OPENS})", _ms(app["open_page"])))
    after = statistics.median(app["after_ladder"])
    return figures + [Figure(f"lone stroke -> its star on the main map (median of {len(app['follow'])})",
                             f"{_ms(statistics.median(app['follow']))}, {_ms(after)} after the ladder",
                             "<= 1 s after the ladder", after <= 1.0)]


if __name__ == "__main__":
    sys.exit(main())
