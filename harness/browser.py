"""Start `streamlit run` on a free port and drive Debian's Chromium with Playwright.

Shared by the browser tests, the benchmarks (which measure the app beside a floor page) and the
screenshot script; it drives the checkout this package sits in (REPO_ROOT holds app.py).
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]  # the checkout that holds app.py
ARTIFACTS = REPO_ROOT / "artifacts"  # servers' logs and the screenshots tests leave, when the folder exists
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
HOW_TO_GET_CHROMIUM = "Chromium not found at /usr/bin/chromium: install it with `sudo apt-get install chromium`"


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_run(count: int) -> int:
    """The first of ``count`` consecutive loopback ports that are free now (for deploy/replicas.sh)."""
    for _ in range(200):
        first = _free_port()
        if first + count > 65535:
            continue
        sockets = []
        try:
            for port in range(first, first + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no {count} consecutive free ports")


def wait_healthy(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Poll ``url``/_stcore/health until it answers 200; fail when ``process`` exits or at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return
        except OSError:
            pass
        if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up (exit {None if process is None else process.poll()})")
        time.sleep(0.3)


@contextlib.contextmanager
def streamlit_server(script: str | Path, timeout: float = 120, env: dict[str, str] | None = None):
    """Run ``streamlit run script`` on a free port, as a user does (the shipped config, nothing off); yield its URL.

    The app's own start-up work runs as it does for a user, the map fitter's UMAP warm-up
    included (a worker process compiling for half a minute to a minute at low priority).
    """
    with streamlit_process(script, timeout, env) as (url, _):
        yield url


@contextlib.contextmanager
def streamlit_process(script: str | Path, timeout: float = 120, env: dict[str, str] | None = None,
                      options: dict[str, object] | None = None):
    """As ``streamlit_server``, yielding (URL, the server's Popen); ``options``: Streamlit config options for the
    command line beside the shipped config, e.g. {"server.disconnectedSessionTTL": 2}."""
    port = _free_port()
    log = open(ARTIFACTS / f"streamlit-{Path(script).stem}-{port}.log", "w") \
        if ARTIFACTS.is_dir() else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                                *[arg for name, value in (options or {}).items() for arg in (f"--{name}", str(value))]],
                               cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, timeout, process)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def replica_set(replicas: int, timeout: float = 180, log: Path | None = None):
    """Run ``deploy/replicas.sh replicas PORT`` (HAProxy on 127.0.0.1:PORT); yield (its URL, the script's Popen,
    the replicas' ports). The script runs in its own process group and is stopped with SIGTERM, as by a person's
    Ctrl-C; the caller may stop it earlier and check what it left behind. Its Redis listens on
    ``replica_set_redis_port(url, ports)``. ``log``: where the script's output goes (default: artifacts/, when
    that folder exists)."""
    port = free_port_run(replicas + 2)  # HAProxy, the replicas, Redis
    ports = [port + i for i in range(1, replicas + 1)]
    log = open(log, "w") if log is not None else open(ARTIFACTS / f"replicas-{replicas}-{port}.log", "w") \
        if ARTIFACTS.is_dir() else subprocess.DEVNULL
    process = subprocess.Popen(
        ["bash", str(REPO_ROOT / "deploy" / "replicas.sh"), str(replicas), str(port)], cwd=REPO_ROOT,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        # Ctrl-C as in a terminal: a test run started in the background (`.ci/run &`) has SIGINT ignored, which
        # its children inherit, and bash cannot trap a signal that was ignored when it started
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        env={**os.environ, "AE_DEMO_PYTHON": sys.executable, "AE_DEMO_BIND": "127.0.0.1"})
    url = f"http://127.0.0.1:{port}"
    try:
        for replica in ports:
            wait_healthy(f"http://127.0.0.1:{replica}", timeout, process)
        wait_healthy(url, 30, process)
        yield url, process, ports
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)


AFFINITY_COOKIE = "AE_DEMO_REPLICA"  # deploy/haproxy.cfg.template: the affinity cookie, its value a replica's port


def sidebar_replica(page) -> str | None:
    """The id after `Served by replica ` in the sidebar (AE_DEMO_REPLICA, the replica's port), None when none shows."""
    found = re.search(r"Served by replica (\S+)", page.locator("[data-testid='stSidebar']").inner_text())
    return found.group(1) if found else None


def cookie_replica(context) -> str | None:
    """The replica HAProxy's affinity cookie sends this browser context to."""
    return {c["name"]: c["value"] for c in context.cookies()}.get(AFFINITY_COOKIE)


def track_websockets(page) -> list[float]:
    """The times (time.monotonic()) at which the page opens a websocket, from now on; the list grows as it opens more
    (Playwright adds to it while the test waits on the page)."""
    opened: list[float] = []
    page.on("websocket", lambda socket: opened.append(time.monotonic()))
    return opened


def wait_for_reconnect(page, opened: list[float], since: float, timeout: float = 60,
                       log: Path | None = None) -> tuple[str | None, float]:
    """Wait until a page whose replica went away at ``since`` (time.monotonic()) has opened a new websocket and its
    run on the replica it reached is over; return the replica its sidebar names then, and the seconds from
    ``since`` to the end of that run (the page back, drawn whole).

    Which replica that is, is HAProxy's choice: the live one, or the one that died if deploy/replicas.sh had it back
    up before the page asked. On timeout it fails with what the page shows, its websockets, its cookie and the tail
    of the replicas' ``log``: a frozen page in CI says why.
    """
    deadline = time.monotonic() + timeout
    try:
        while not any(t > since for t in opened):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no new websocket within {timeout:.0f} s")
            page.wait_for_timeout(200)  # lets Playwright deliver the page's websocket events
        page.evaluate("() => { window.__aeIdleSince = undefined; }")  # a quiet spell from before the death counts not
        wait_until_idle(page, timeout=max(5.0, deadline - time.monotonic()))
    except Exception as error:
        sidebar = page.locator("[data-testid='stSidebar']").inner_text(timeout=5000)[:400]
        status = page.evaluate("() => document.querySelector('[data-testid=stStatusWidget]')?.innerText ?? ''")
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log and log.exists() else "(no log)"
        raise AssertionError(
            f"the page did not come back by itself ({error}): websockets opened at "
            f"{[round(t - since, 1) for t in opened]} s from the replica's death; status widget {status!r}; "
            f"cookie {cookie_replica(page.context)!r}; sidebar {sidebar!r}\nreplicas' log:\n{tail}") from error
    quiet_s = page.evaluate("() => (performance.now() - window.__aeIdleSince) / 1000")  # idle since its run ended
    return sidebar_replica(page), time.monotonic() - quiet_s - since


def replica_set_redis_port(url: str, ports: list[int]) -> int:
    """The loopback port of the Redis that deploy/replicas.sh started for ``replica_set``'s replicas (PORT+N+1)."""
    return int(url.rsplit(":", 1)[1]) + len(ports) + 1


@contextlib.contextmanager
def chromium_browser():
    """Headless Debian Chromium; each ``new_page`` of it is a fresh profile (nothing cached), as a new visitor's."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def chromium_page(width: int = 1600, height: int = 1200):
    """A fresh headless Chromium page."""
    with chromium_browser() as browser:
        yield browser.new_page(viewport={"width": width, "height": height})


def record_requests(page) -> list[str]:
    """Every URL the page asks for from now on (documents, scripts, fonts, images, websockets)."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.on("websocket", lambda socket: urls.append(socket.url))
    return urls


def image_sources(page, container_key: str) -> list[str]:
    """The src of every <img> inside the element with key ``container_key``."""
    return page.eval_on_selector_all(f".st-key-{container_key} img", "els => els.map(e => e.src)")


def wait_for_images(page, container_key: str, count: int, timeout: float = 120) -> list[str]:
    """Wait until the container shows at least ``count`` loaded images; return their sources."""
    page.wait_for_function(
        """([key, n]) => { const imgs = [...document.querySelectorAll(`.st-key-${key} img`)];
                           return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0); }""",
        arg=[container_key, count], timeout=timeout * 1000)
    return image_sources(page, container_key)


def wait_until_idle(page, quiet_ms: int = 1500, timeout: float = 120) -> None:
    """Wait until the script has finished its run: no "Running…" icon and no stale element for ``quiet_ms``.

    A key or a click that arrives while a run is still drawing the page may reach a widget of the
    previous run; tests that press keys one after another wait for this between presses.
    """
    page.wait_for_function(
        """quiet => { const busy = document.querySelector('[data-testid=stStatusWidgetRunningIcon], [data-stale=true]');
                      const now = performance.now();
                      if (busy || window.__aeIdleSince === undefined) window.__aeIdleSince = now;
                      return now - window.__aeIdleSince >= quiet; }""",
        arg=quiet_ms, polling=100, timeout=timeout * 1000)


def wait_for_change(page, container_key: str, before: list[str], timeout: float = 60) -> list[str]:
    """Wait until every image in the container has a new source, loaded; return the new sources."""
    page.wait_for_function(
        """([key, old]) => { const imgs = [...document.querySelectorAll(`.st-key-${key} img`)];
                             return imgs.length >= old.length && imgs.every(i => !old.includes(i.src))
                                    && imgs.every(i => i.complete && i.naturalWidth > 0); }""",
        arg=[container_key, before[1:] if len(before) > 1 else before], timeout=timeout * 1000)
    return image_sources(page, container_key)


_STARS = """key => { const box = document.querySelector(`.st-key-${key}`);
                       if (!box) return null;
                       const overlay = box.querySelector('img.ae-stars');
                       if (overlay) return overlay.complete ? JSON.stringify([overlay.alt, overlay.src, overlay.dataset.input])
                                                            : null;
                       const plot = box.querySelector('.js-plotly-plot');
                       if (!plot || !plot.data) return null;
                       return JSON.stringify(plot.data.filter(t => String(t.name).startsWith('your input'))
                                                      .map(t => [t.name, t.x, t.y])); }"""


def chart_stars(page, container_key: str) -> str | None:
    """The "your input" stars of the map inside the container, as JSON: on a map picture the star overlay
    (the inputs it names, its picture, the digest of the current input it shows), on a Plotly chart its "your input" traces (name, x, y); None before
    either is drawn."""
    return page.evaluate(_STARS, container_key)


def wait_for_stars_to_move(page, container_key: str, before: str | None, timeout: float = 60) -> str:
    """Wait until the map in the container draws its "your input" stars elsewhere than ``before``."""
    page.wait_for_function(f"([key, old]) => {{ const now = ({_STARS})(key); return now !== null && now !== old; }}",
                           arg=[container_key, before], timeout=timeout * 1000)
    return chart_stars(page, container_key)


def wait_for_main_map(page, timeout: float = 60) -> None:
    """Wait until the main map is drawn: its picture with the stars (the default) or the interactive chart."""
    page.wait_for_selector(".st-key-latent_map img.ae-stars, .st-key-latent_map .main-svg", timeout=timeout * 1000)


def wait_for_map_star(page, name: str = "", timeout: float = 60) -> None:
    """Wait until the main map stars "your input · <name>…" (any input when name is ""): named in the picture's
    star overlay, or in the interactive chart's legend."""
    page.wait_for_function("text => [...document.querySelectorAll('.st-key-latent_map img.ae-stars')]"
                           ".some(i => i.complete && i.alt.includes(text)) || "
                           "[...document.querySelectorAll('.st-key-latent_map .legendtext')]"
                           ".some(t => t.textContent.includes(text))",
                           arg=f"your input · {name}" if name else "your input", timeout=timeout * 1000)


def canvas_box(page, container_key: str = "draw_canvas") -> dict:
    """Page coordinates of the drawing surface (the canvas component renders in the page, in a shadow root)."""
    surface = page.locator(f".st-key-{container_key} canvas").last  # fabric.js's top canvas takes the mouse
    surface.wait_for(state="visible", timeout=60_000)
    surface.scroll_into_view_if_needed()
    return surface.bounding_box()


def draw_stroke(page, box: dict, points: list[tuple[float, float]]) -> None:
    """Press, move through ``points`` (fractions of the canvas), release."""
    to_xy = lambda p: (box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"])  # noqa: E731
    page.mouse.move(*to_xy(points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*to_xy(point), steps=4)
    page.mouse.up()


@contextlib.contextmanager
def phone_page(width: int = 390, height: int = 844):
    """A fresh page in Playwright's phone emulation: a touch screen, a mobile viewport."""
    with chromium_browser() as browser:
        context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True, is_mobile=True,
                                      device_scale_factor=2)
        yield context.new_page()


def touch_stroke(page, box: dict, points: list[tuple[float, float]]) -> None:
    """A finger's stroke through ``points`` (fractions of ``box``): touch events, as a phone sends them."""
    session = page.context.new_cdp_session(page)
    to_xy = lambda p: {"x": box["x"] + p[0] * box["width"], "y": box["y"] + p[1] * box["height"]}  # noqa: E731
    path = [points[0]]
    for a, b in zip(points, points[1:]):
        path += [(a[0] + (b[0] - a[0]) * t / 6, a[1] + (b[1] - a[1]) * t / 6) for t in range(1, 7)]
    session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [to_xy(path[0])]})
    for point in path[1:]:
        session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [to_xy(point)]})
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    session.detach()
