"""Run the app and drive it in Chromium, both in the caller's network namespace; print what the page fetched.

    unshare -n sh -c 'ip link set lo up && exec python tests/e2e/offline_driver.py'

Used by test_offline_page.py, which runs it in a namespace with only loopback: nothing can be
reached but this machine's own loopback, so a page that needs anything from outside fails here.
Prints one JSON object: the server's URL, every request URL the page made, and what it found.
"""
from __future__ import annotations

import json
import sys

from harness.browser import (REPO_ROOT, chromium_browser, record_requests, streamlit_server, wait_for_main_map,
                             wait_for_images)

LADDER_IMAGES = 14


def main() -> int:
    failed: list[str] = []
    found: dict = {}
    with streamlit_server(REPO_ROOT / "app.py") as url, chromium_browser() as browser:
        context = browser.new_context(viewport={"width": 1600, "height": 1200})
        context.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
        page = context.new_page()
        requests = record_requests(page)
        page.goto(url)
        found["ladder"] = len(wait_for_images(page, "reconstructions", LADDER_IMAGES))
        wait_for_main_map(page, timeout=120)
        found["map"] = True
        page.wait_for_timeout(3000)  # whatever the page fetches after drawing the map
        found["traceback"] = "Traceback" in page.inner_text("body")
        context.close()
    print(json.dumps({"url": url, "requests": requests, "failed": failed, **found}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
