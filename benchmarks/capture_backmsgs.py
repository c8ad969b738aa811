"""Capture what a real browser sends over Streamlit's websocket, as fixtures for the protocol client.

    .venv/bin/python benchmarks/capture_backmsgs.py    # writes benchmarks/fixtures/backmsgs.json

Drives `streamlit run app.py` in Chromium: opens the page, draws three strokes on the canvas,
uploads a picture and picks a random sample, and records every BackMsg the page sent (Playwright's
websocket frames, parsed with streamlit.proto.BackMsg_pb2). harness/st_protocol.py replays the
canvas value from them (with other strokes) and follows the same steps for uploads and samples.
Run it again when the page changes how it talks to the server (a new Streamlit, another canvas).
"""
from __future__ import annotations

import json
import sys

from google.protobuf.json_format import MessageToDict
from PIL import Image, ImageDraw

from harness.browser import (REPO_ROOT, canvas_box, chromium_page, draw_stroke, image_sources,  # noqa: E402
                             wait_for_main_map,
                         streamlit_server, wait_for_change, wait_for_images)

FIXTURES = REPO_ROOT / "benchmarks" / "fixtures" / "backmsgs.json"
STROKES = [[(0.3, 0.2), (0.7, 0.2)], [(0.7, 0.2), (0.45, 0.85)], [(0.35, 0.5), (0.65, 0.5)]]  # a crossed 7


def main() -> int:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    sent: list[bytes] = []
    marks: dict[str, tuple[int, int]] = {}
    (REPO_ROOT / "artifacts").mkdir(exist_ok=True)
    picture = REPO_ROOT / "artifacts" / "capture-upload.png"
    image = Image.new("L", (200, 260), 235)
    ImageDraw.Draw(image).ellipse((50, 40, 150, 220), outline=20, width=16)
    image.save(picture)
    with streamlit_server(REPO_ROOT / "app.py") as url, chromium_page() as page:
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
        page.goto(url)
        before = wait_for_images(page, "reconstructions", 14)
        wait_for_main_map(page, timeout=120)
        page.wait_for_timeout(1500)
        marks["open"] = (0, len(sent))
        box = canvas_box(page)
        for i, stroke in enumerate(STROKES):
            start = len(sent)
            draw_stroke(page, box, stroke)
            before = wait_for_change(page, "reconstructions", before)
            page.wait_for_timeout(300)
            marks[f"stroke{i}"] = (start, len(sent))
        start = len(sent)
        page.wait_for_timeout(3000)  # the page follows the drawing a second after the last stroke
        marks["follow"] = (start, len(sent))
        start = len(sent)
        page.get_by_role("tab", name="Upload").click()
        page.locator(".st-key-upload input[type=file]").set_input_files(str(picture))
        before = wait_for_change(page, "reconstructions", before)
        page.wait_for_timeout(3000)
        marks["upload"] = (start, len(sent))
        start = len(sent)
        page.get_by_role("tab", name="Samples").click()
        page.locator(".st-key-sample_random button").click()
        wait_for_change(page, "reconstructions", image_sources(page, "reconstructions"))
        page.wait_for_timeout(3000)
        marks["sample"] = (start, len(sent))

    def parsed(payload: bytes) -> dict:
        msg = BackMsg()
        msg.ParseFromString(payload)
        return MessageToDict(msg)

    out = {"about": "BackMsgs a real Chromium sent to `streamlit run app.py`, by step; see capture_backmsgs.py",
           "steps": {name: [parsed(p) for p in sent[a:b] if isinstance(p, bytes)] for name, (a, b) in marks.items()}}
    FIXTURES.parent.mkdir(parents=True, exist_ok=True)
    FIXTURES.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {FIXTURES}: " + ", ".join(f"{k} {len(v)}" for k, v in out["steps"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
