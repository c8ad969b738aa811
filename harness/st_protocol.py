"""A Streamlit session without a browser: the page's own websocket messages, for load and soak tests.

Speaks what the browser speaks on ``/_stcore/stream`` (BackMsg / ForwardMsg, the protobufs that
streamlit ships): a rerun with widget states, a fragment rerun, the file-upload handshake, and the
two things the page's JavaScript does by itself: the drawable canvas's value (JSON with the PNG of
the drawing, taken from benchmarks/fixtures/backmsgs.json, captured from Chromium, with the
drawing replaced) and ``ui.rerun_timer``'s firing (a component v2 whose data holds a token and a
delay: the browser sends the token back after the delay, unless a newer run replaced it).

Widget ids and fragment ids are read from the session's own deltas by user key, as the browser
learns them, so the client follows the page when its code changes.

    async with ProtocolSession(url) as s:
        await s.open_page()                 # first run, and the whole page that follows it
        run = await s.stroke(drawing_png)   # a fragment run: latency to its script_finished
        await s.follow()                    # the page's timer: the whole page a second later
        await s.upload(png_bytes, "x.png")
        await s.pick_sample()
"""
from __future__ import annotations

import asyncio
import base64
import copy
import io
import json
import re
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import websockets
from PIL import Image, ImageDraw
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

REPO_ROOT = Path(__file__).resolve().parents[1]  # the checkout this package sits in
FIXTURES = REPO_ROOT / "benchmarks" / "fixtures" / "backmsgs.json"
CANVAS_PX = 280
_ID = re.compile(r"^\$\$ID-[0-9a-f]{32}-(.+)$")
_DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
         ForwardMsg.FINISHED_WITH_COMPILE_ERROR}


@dataclass
class Run:
    """One script run as the client saw it: from sending the BackMsg to its script_finished."""
    seconds: float
    status: int
    ladder: bool          # a delta carried the bottleneck ladder's HTML (``ae-ladder``)
    errors: list[str]     # exception elements the run sent (a Traceback on the page)
    bytes_received: int


@dataclass
class _Element:
    id: str
    fragment_id: str
    kind: str
    proto: object


@dataclass
class _Pending:
    sent: float
    ladder: bool = False
    errors: list[str] = field(default_factory=list)
    received: int = 0
    done: asyncio.Future | None = None


def canvas_template() -> dict:
    """The canvas's JSON value from the captured first stroke: {"drawing": {"raw": fabric.js JSON, "data": PNG URL}}."""
    steps = json.loads(FIXTURES.read_text())["steps"]
    for widget in steps["stroke0"][0]["rerunScript"]["widgetStates"]["widgets"]:
        if widget["id"].endswith("-canvas"):
            return json.loads(widget["jsonValue"])
    raise LookupError(f"no canvas value in {FIXTURES}")


def drawing_png(strokes: list[list[tuple[float, float]]], width: int = 22) -> bytes:
    """A CANVAS_PX square PNG, white strokes on black as the canvas draws them; points are fractions of the side."""
    image = Image.new("RGBA", (CANVAS_PX, CANVAS_PX), (0, 0, 0, 255))
    draw = ImageDraw.Draw(image)
    for points in strokes:
        xy = [(x * CANVAS_PX, y * CANVAS_PX) for x, y in points]
        draw.line(xy, fill=(255, 255, 255, 255), width=width, joint="curve")
        for x, y in (xy[0], xy[-1]):
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def random_strokes(rng: np.random.Generator, count: int) -> list[list[tuple[float, float]]]:
    """``count`` strokes of 3-5 points each, somewhere in the middle of the canvas."""
    return [[(float(x), float(y)) for x, y in rng.uniform(0.15, 0.85, size=(int(rng.integers(3, 6)), 2))]
            for _ in range(count)]


def paper_png(rng: np.random.Generator) -> bytes:
    """A photo-like upload: a dark ring on light paper, each a little different."""
    image = Image.new("L", (200, 260), int(rng.integers(215, 245)))
    a, b = rng.integers(30, 70, size=2)
    ImageDraw.Draw(image).ellipse((int(a), int(b), 200 - int(a), 260 - int(b)), outline=20, width=int(rng.integers(10, 20)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class ProtocolSession:
    """One browser tab's worth of Streamlit session, over one websocket."""

    def __init__(self, url: str, canvas: dict | None = None):
        self.url = url.rstrip("/")
        self.canvas = canvas or canvas_template()
        self.session_id = ""
        self.page_script_hash = ""
        self.query_string = ""
        self.elements: dict[str, _Element] = {}   # by user key
        self.widgets: dict[str, WidgetState] = {}  # values this client set, sent with every rerun, as the browser does
        self.errors: list[str] = []
        self.timer_fired: dict[str, str] = {}
        self.auto_reruns: dict[str, float] = {}    # fragment id -> seconds: fragments with run_every, as announced
        self.strokes: list[list[tuple[float, float]]] = []
        self._pending: _Pending | None = None
        self._file_urls: dict[str, asyncio.Future] = {}
        self._uploaded: list = []
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._cookies = CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self._cookies))

    # --- connection ---------------------------------------------------------------------------

    async def __aenter__(self) -> ProtocolSession:
        for path in ("/", "/_stcore/health"):  # as the browser: the page, then the health check that sets the XSRF cookie
            await asyncio.to_thread(lambda: self._opener.open(self.url + path, None, 30).read())
        cookies = {c.name: c.value for c in self._cookies}
        parts = urlsplit(self.url)
        self._ws = await websockets.connect(
            f"ws://{parts.netloc}/_stcore/stream",
            subprotocols=["streamlit", cookies["_streamlit_xsrf"]] if "_streamlit_xsrf" in cookies else ["streamlit"],
            additional_headers={"Origin": self.url, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
            max_size=None, open_timeout=30, ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        async for frame in self._ws:
            msg = ForwardMsg()
            msg.ParseFromString(frame)
            self._on_message(msg, len(frame))

    def _on_message(self, msg: ForwardMsg, size: int) -> None:
        kind = msg.WhichOneof("type")
        pending = self._pending
        if pending is not None:
            pending.received += size
        if kind == "new_session":
            self.session_id = msg.new_session.initialize.session_id
            self.page_script_hash = msg.new_session.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            what = element.WhichOneof("type")
            body = getattr(element, what)
            if what == "html" and "ae-ladder" in body.body and pending is not None:
                pending.ladder = True
            elif what == "exception":
                text = f"{body.type}: {body.message}"
                self.errors.append(text)
                if pending is not None:
                    pending.errors.append(text)
            widget_id = getattr(body, "id", "")  # widgets and components carry one; text elements none
            found = _ID.match(widget_id) if isinstance(widget_id, str) else None
            if found:
                self.elements[found.group(1)] = _Element(widget_id, msg.delta.fragment_id, what, body)
        elif kind == "auto_rerun":  # a fragment with run_every: the browser reruns it at that interval
            self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(fragment_id, None)
        elif kind == "file_urls_response":
            future = self._file_urls.pop(msg.file_urls_response.response_id, None)
            if future is not None and not future.done():
                future.set_result(msg.file_urls_response)
        elif kind == "script_finished" and pending is not None and msg.script_finished in _DONE:
            if pending.done is not None and not pending.done.done():
                pending.done.set_result(msg.script_finished)

    # --- runs ---------------------------------------------------------------------------------

    async def rerun(self, triggers: list[WidgetState] = (), fragment_id: str = "", timeout: float = 300) -> Run:
        """Send a rerun with every widget value set so far and these triggers; wait for its script_finished."""
        back = BackMsg()
        state = back.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        if fragment_id:
            state.fragment_id = fragment_id
        state.widget_states.widgets.extend([*self.widgets.values(), *triggers])
        state.context_info.timezone = "UTC"
        state.context_info.locale = "en-US"
        state.context_info.url = self.url + "/"
        loop = asyncio.get_running_loop()
        pending = _Pending(sent=time.perf_counter(), done=loop.create_future())
        self._pending = pending
        await self._ws.send(back.SerializeToString())
        status = await asyncio.wait_for(pending.done, timeout)
        self._pending = None
        return Run(time.perf_counter() - pending.sent, status, pending.ladder, pending.errors, pending.received)

    def _timer_trigger(self, key: str) -> tuple[WidgetState, str] | None:
        """ui.rerun_timer's firing, when the page shows a token it has not fired yet: (trigger, fragment id)."""
        element = self.elements.get(key)
        if element is None or element.kind != "bidi_component":
            return None
        data = json.loads(element.proto.json or "null") or {}
        token = data.get("token")
        if not token or self.timer_fired.get(key) == token:
            return None
        trigger = WidgetState(id=f"$$STREAMLIT_INTERNAL_KEY_{element.id}__events")
        trigger.json_trigger_value = json.dumps([{"event": "fired", "value": token}])
        return trigger, element.fragment_id

    def timer_delay(self, key: str = "page_follows") -> float | None:
        """Seconds until the page's timer would fire (None: no timer waiting)."""
        if self._timer_trigger(key) is None:
            return None
        return json.loads(self.elements[key].proto.json)["delay_ms"] / 1000

    async def fire_timer(self, key: str) -> Run | None:
        found = self._timer_trigger(key)
        if found is None:
            return None
        trigger, fragment_id = found
        self.timer_fired[key] = json.loads(trigger.json_trigger_value)[0]["value"]
        return await self.rerun([trigger], fragment_id)

    async def auto_rerun(self, fragment_id: str) -> Run:
        """What the browser does every ``auto_reruns[fragment_id]`` seconds: that fragment's run."""
        return await self.rerun(fragment_id=fragment_id)

    def element(self, key: str) -> _Element | None:
        """The last element the page sent with user key ``key`` (widgets and charts with an id)."""
        return self.elements.get(key)

    async def open_page(self) -> list[Run]:
        """The first run (inputs and ladder), then the whole page the first-paint timer asks for at once."""
        runs = [await self.rerun()]
        follow = await self.fire_timer("first_paint")
        return runs + ([follow] if follow else [])

    async def follow(self) -> Run | None:
        """What the page does a second after the last stroke (or at once after a pick): the whole page."""
        return await self.fire_timer("page_follows")

    # --- what a student does ------------------------------------------------------------------

    def _widget(self, key: str) -> _Element:
        element = self.elements.get(key)
        if element is None:
            raise LookupError(f"the page has no widget with key {key!r} (has {sorted(self.elements)})")
        return element

    async def stroke(self, points: list[tuple[float, float]]) -> Run:
        """One more stroke on the canvas: its value as the canvas sends it, the whole drawing so far."""
        self.strokes.append(points)
        return await self.draw(self.strokes)

    async def draw(self, strokes: list[list[tuple[float, float]]]) -> Run:
        canvas = self._widget("canvas")
        value = copy.deepcopy(self.canvas)
        template = value["drawing"]["raw"]["objects"][0]
        value["drawing"]["raw"]["objects"] = [
            {**template, "path": [["M", *(c * CANVAS_PX for c in s[0])], *[["L", *(c * CANVAS_PX for c in p)] for p in s[1:]]]}
            for s in strokes]
        value["drawing"]["data"] = "data:image/png;base64," + base64.b64encode(drawing_png(strokes)).decode()
        self.widgets[canvas.id] = WidgetState(id=canvas.id, json_value=json.dumps(value, separators=(",", ":")))
        return await self.rerun(fragment_id=canvas.fragment_id)

    def clear_drawing(self) -> None:
        """Forget the strokes (the canvas's clear button); the next stroke starts a new drawing."""
        self.strokes = []

    async def upload(self, data: bytes, name: str) -> Run:
        """Upload one file in place of the last (as a student removing a picture and adding another)."""
        uploader = self._widget("upload")
        request_id = str(uuid.uuid4())
        future = asyncio.get_running_loop().create_future()
        self._file_urls[request_id] = future
        back = BackMsg()
        back.file_urls_request.request_id = request_id
        back.file_urls_request.file_names.append(name)
        back.file_urls_request.session_id = self.session_id
        await self._ws.send(back.SerializeToString())
        urls = (await asyncio.wait_for(future, 60)).file_urls[0]
        await asyncio.to_thread(self._put, urls.upload_url, data, name)
        for old in self._uploaded:
            await asyncio.to_thread(self._http, "DELETE", old.file_urls.delete_url, None, {})
        state = WidgetState(id=uploader.id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, name, len(data)
        info.file_urls.CopyFrom(urls)
        self._uploaded = [info]
        self.widgets[uploader.id] = state
        return await self.rerun(fragment_id=uploader.fragment_id)

    def _put(self, path: str, data: bytes, name: str) -> None:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                "Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        self._http("PUT", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def _http(self, method: str, path: str, body: bytes | None, headers: dict) -> None:
        xsrf = next((c.value for c in self._cookies if c.name == "_streamlit_xsrf"), "")
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={**headers, "X-Xsrftoken": xsrf, "Origin": self.url})
        with self._opener.open(request, timeout=60) as response:
            response.read()

    async def pick_sample(self) -> Run:
        """The "Pick a random sample" button."""
        return await self.press("sample_random")

    async def press(self, key: str) -> Run:
        """A button."""
        button = self._widget(key)
        return await self.rerun([WidgetState(id=button.id, trigger_value=True)], button.fragment_id)

    async def toggle(self, key: str, on: bool) -> Run:
        widget = self._widget(key)
        self.widgets[widget.id] = WidgetState(id=widget.id, bool_value=on)
        return await self.rerun(fragment_id=widget.fragment_id)

    async def recompute_map(self, method: str) -> Run:
        """The main map's form: the projection (as shown: "UMAP", "PCA") and its Recompute button."""
        choice, submit = self._widget("map_method"), self._widget("FormSubmitter:map_form-Recompute")
        self.widgets[choice.id] = WidgetState(id=choice.id, string_value=method)
        return await self.rerun([WidgetState(id=submit.id, trigger_value=True)], submit.fragment_id)

    async def choose(self, key: str, option: str) -> Run:
        """Set a radio or selectbox (by its option as shown) and rerun the whole page."""
        widget = self._widget(key)
        self.widgets[widget.id] = WidgetState(id=widget.id, string_value=option)
        return await self.rerun(fragment_id=widget.fragment_id)

    def options(self, key: str) -> list[str]:
        return list(self._widget(key).proto.options)
