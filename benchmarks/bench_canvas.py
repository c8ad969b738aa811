"""Stroke -> new reconstructions, in a real browser: the app against a floor page, in one run.

    .venv/bin/python benchmarks/bench_canvas.py [--strokes 12]

The floor (benchmarks/floor_app.py) has the same canvas and only echoes it as six images,
so it costs what Streamlit's round trip costs. Prints the medians and the ratios:
targets are app/floor <= 1.5 for a stroke and <= 2.0 for page open -> first images.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from e2e.browser import (REPO_ROOT, canvas_box, chromium_available, chromium_page, draw_stroke,  # noqa: E402
                         image_sources, streamlit_server, wait_for_change, wait_for_images)

STROKES = [[(0.2 + 0.05 * (i % 5), 0.2), (0.5, 0.3 + 0.04 * (i % 7)), (0.35 + 0.03 * (i % 4), 0.8)] for i in range(40)]


def measure(script: Path, n_images: int, strokes: int) -> tuple[float, list[float]]:
    """Seconds from navigation to the first images, and per stroke until every image changed."""
    with streamlit_server(script, warm_umap=False) as url, chromium_page() as page:
        page.goto(url)  # warm the server's caches the way a first visitor would, then measure a fresh page
        wait_for_images(page, "reconstructions", n_images)
        started = time.perf_counter()
        page.goto(url)
        wait_for_images(page, "reconstructions", n_images)
        first = time.perf_counter() - started
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
        return first, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=12)
    args = parser.parse_args()
    if not chromium_available():
        print("Chromium not found at /usr/bin/chromium: sudo apt-get install chromium", file=sys.stderr)
        return 1
    (REPO_ROOT / "artifacts").mkdir(exist_ok=True)
    floor_first, floor = measure(REPO_ROOT / "benchmarks" / "floor_app.py", 6, args.strokes)
    app_first, app = measure(REPO_ROOT / "app.py", 14, args.strokes)
    f_med, a_med = statistics.median(floor), statistics.median(app)
    print(f"strokes per page: {args.strokes}")
    print(f"stroke -> new images, median: floor {f_med * 1000:.0f} ms, app {a_med * 1000:.0f} ms, "
          f"ratio {a_med / f_med:.2f} (target <= 1.5)")
    print(f"page open -> first images:     floor {floor_first * 1000:.0f} ms, app {app_first * 1000:.0f} ms, "
          f"ratio {app_first / floor_first:.2f} (target <= 2.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
