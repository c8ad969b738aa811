"""Open the app in headless Chromium, draw a digit, and save a screenshot of the whole page.

    .venv/bin/python benchmarks/screenshot.py [--out docs/screenshot.png] [--query "dataset=fashion"]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.browser import (REPO_ROOT, canvas_box, chromium_page, draw_stroke, image_sources, streamlit_server,
                             wait_for_change, wait_for_images, wait_for_main_map, wait_for_map_star)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshot.png")
    parser.add_argument("--query", default="", help="URL query, e.g. dataset=fashion&family=vae")
    parser.add_argument("--no-draw", action="store_true", help="keep the default sample as the input")
    parser.add_argument("--full", action="store_true", help="a window tall enough for the whole page")
    parser.add_argument("--images", type=int, default=14, help="images the ladder shows (input + sizes, twice)")
    args = parser.parse_args()
    (REPO_ROOT / "artifacts").mkdir(exist_ok=True)
    with streamlit_server(REPO_ROOT / "app.py") as url, chromium_page(1920, 4200 if args.full else 1080) as page:
        page.goto(f"{url}/?{args.query}" if args.query else url)
        before = wait_for_images(page, "reconstructions", args.images)
        if not args.no_draw:  # a "4": down-left stroke, across, then the long down stroke
            box = canvas_box(page)
            draw_stroke(page, box, [(0.45, 0.15), (0.25, 0.55), (0.75, 0.55)])
            before = wait_for_change(page, "reconstructions", before)
            draw_stroke(page, box, [(0.6, 0.25), (0.6, 0.9)])
            wait_for_change(page, "reconstructions", image_sources(page, "reconstructions"))
        wait_for_main_map(page, timeout=60)
        if not args.no_draw:  # the rest of the page follows the drawing a second after the last stroke
            wait_for_map_star(page, "Drawing")
        page.wait_for_selector(".st-key-morph img", timeout=120_000)  # the last section: the page is complete
        page.wait_for_timeout(1000)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
