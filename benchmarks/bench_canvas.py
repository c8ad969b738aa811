"""Stroke -> new reconstructions, in a real browser: the app against a floor page, in one run.

    .venv/bin/python benchmarks/bench_canvas.py [--strokes 12]

The floor (benchmarks/floor_app.py) has the same canvas and only echoes it as six images,
so it costs what Streamlit's round trip costs. Prints the medians and the ratios:
targets are app/floor <= 1.5 for a stroke and <= 2.0 for page open -> first images.

The app's ladder comes first and the rest of its page follows (at once on opening, a second
after the last stroke when drawing), so it also prints how long the whole page takes to follow:
page open -> the main map drawn, and a lone stroke -> the main map's star moved.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from e2e.browser import (REPO_ROOT, canvas_box, chromium_available, chromium_page, draw_stroke,  # noqa: E402
                         chart_stars, image_sources, streamlit_server, wait_for_change, wait_for_images,
                         wait_for_stars_to_move)

STROKES = [[(0.2 + 0.05 * (i % 5), 0.2), (0.5, 0.3 + 0.04 * (i % 7)), (0.35 + 0.03 * (i % 4), 0.8)] for i in range(40)]


OPENS = 5  # page opens per page, for the median
FOLLOWS = "latent_map"  # the main map: the costliest part of the page that shows the current input


def measure(script: Path, n_images: int, strokes: int, follows: int = 0) -> dict[str, float | list[float]]:
    """Seconds from navigation to the first images ("open", the median of OPENS), and per stroke until every image
    changed ("strokes"). With ``follows``: also navigation to the whole page ("open_page") and,
    for that many lone strokes, the stroke until the whole page shows it ("follow")."""
    found: dict[str, float | list[float]] = {}
    with streamlit_server(script, warm_umap=False) as url, chromium_page() as page:
        page.goto(url)  # warm the server's caches the way a first visitor would, then measure a fresh page
        wait_for_images(page, "reconstructions", n_images)
        if follows:
            wait_for_stars_to_move(page, FOLLOWS, None, timeout=120)
        opens, whole = [], []
        for _ in range(OPENS):  # each a fresh session, as a new visitor's; the median, as for strokes
            started = time.perf_counter()
            page.goto(url)
            wait_for_images(page, "reconstructions", n_images)
            opens.append(time.perf_counter() - started)
            if follows:
                wait_for_stars_to_move(page, FOLLOWS, None, timeout=120)
                whole.append(time.perf_counter() - started)
            page.wait_for_timeout(2000)  # what is still drawing must not spill into the next open
        found["open"] = statistics.median(opens)
        if follows:
            found["open_page"] = statistics.median(whole)
        box = canvas_box(page)
        draw_stroke(page, box, STROKES[-1])  # one stroke to warm the drawing path
        before = wait_for_change(page, "reconstructions", image_sources(page, "reconstructions"))
        times = []
        for i in range(strokes):
            before = image_sources(page, "reconstructions")
            started = time.perf_counter()
            draw_stroke(page, box, STROKES[i % len(STROKES)])
            wait_for_change(page, "reconstructions", before)
            times.append(time.perf_counter() - started)
        found["strokes"] = times
        found["follow"] = []
        if not follows:
            return found
        page.reload()  # a fresh canvas: more strokes on a full one may leave the 28x28 input as it was
        wait_for_stars_to_move(page, FOLLOWS, None, timeout=120)
        box = canvas_box(page)
        for i in range(follows + 1):  # the first stroke warms the path, as above
            page.wait_for_timeout(3000)  # let the page settle: a lone stroke, not one of a burst
            before = chart_stars(page, FOLLOWS)
            started = time.perf_counter()
            draw_stroke(page, box, STROKES[7 * i])
            wait_for_stars_to_move(page, FOLLOWS, before, timeout=120)
            if i:
                found["follow"].append(time.perf_counter() - started)
        return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=12)
    args = parser.parse_args()
    if not chromium_available():
        print("Chromium not found at /usr/bin/chromium: sudo apt-get install chromium", file=sys.stderr)
        return 1
    (REPO_ROOT / "artifacts").mkdir(exist_ok=True)
    floor = measure(REPO_ROOT / "benchmarks" / "floor_app.py", 6, args.strokes)
    app = measure(REPO_ROOT / "app.py", 14, args.strokes, follows=3)
    f_med, a_med = statistics.median(floor["strokes"]), statistics.median(app["strokes"])
    print(f"strokes per page: {args.strokes}")
    print(f"stroke -> new images, median: floor {f_med * 1000:.0f} ms, app {a_med * 1000:.0f} ms, "
          f"ratio {a_med / f_med:.2f} (target <= 1.5)")
    print(f"page open -> first images, median of {OPENS}: floor {floor['open'] * 1000:.0f} ms, app {app['open'] * 1000:.0f} ms, "
          f"ratio {app['open'] / floor['open']:.2f} (target <= 2.0)")
    print(f"app, whole page: open -> main map drawn {app['open_page'] * 1000:.0f} ms; lone stroke -> its star on "
          f"the main map, median of {len(app['follow'])}: {statistics.median(app['follow']) * 1000:.0f} ms "
          "(including the app's wait for a next stroke, ui.PAGE_FOLLOWS_DRAWING_MS)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
