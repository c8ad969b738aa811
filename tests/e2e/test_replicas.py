"""deploy/replicas.sh: browsers through HAProxy reach both replicas, each stays on its own, and a signal stops all.

Each page names its replica in the sidebar (`Served by replica <id>`: AE_DEMO_REPLICA, which the script
sets to the replica's port); HAProxy's affinity cookie holds the same port, and both must agree.
"""
from __future__ import annotations

import re
import shutil
import signal
import socket
from pathlib import Path

import psutil
import pytest
from PIL import Image, ImageDraw

from harness.browser import (HOW_TO_GET_CHROMIUM, chromium_available, chromium_browser, replica_set,
                             replica_set_redis_port, wait_for_change, wait_for_images)

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not chromium_available(), reason=HOW_TO_GET_CHROMIUM),
              pytest.mark.skipif(not Path(HAPROXY).exists(),
                                 reason="HAProxy not found: install it with `sudo apt-get install haproxy` "
                                        "(.ci/run does; deploy/replicas.sh would, but a test does not install)")]

LADDER_IMAGES = 14
SESSIONS = 8
AFFINITY_COOKIE = "AE_DEMO_REPLICA"  # deploy/haproxy.cfg.template: its value is the replica's port


def upload_picture(path: Path, i: int) -> Path:
    """A dark ring on light paper, a little different for every session."""
    picture = Image.new("L", (200, 260), 235)
    ImageDraw.Draw(picture).ellipse((40 + 3 * i, 40, 160 - 2 * i, 220), outline=20, width=14 + i)
    picture.save(path)
    return path


def sidebar_replica(page) -> str | None:
    """The id after `replica ` in the sidebar, None when the page shows none."""
    found = re.search(r"\breplica (\S+)", page.locator("[data-testid='stSidebar']").inner_text())
    return found.group(1) if found else None


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def gone(process: psutil.Process) -> bool:
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_eight_browsers_through_the_balancer_use_both_replicas_and_sigterm_stops_everything(tmp_path):
    with replica_set(2) as (url, script, ports), chromium_browser() as browser:
        children = descendants(script.pid)
        replicas = [c for c in children if "streamlit" in " ".join(c.cmdline())]
        assert len(replicas) == 2
        assert any("haproxy" in c.name() for c in children)
        redis_port = replica_set_redis_port(url, ports)
        assert [c for c in children if c.name() == "redis-server" and f":{redis_port}" in " ".join(c.cmdline())]
        assert {r.environ().get("REDIS_URL") for r in replicas} == {f"redis://127.0.0.1:{redis_port}/0"}

        contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(SESSIONS)]
        pages, ladders, cookie_replicas = [], [], []
        for context in contexts:  # every session open at once, each with its own cookie jar
            page = context.new_page()
            page.goto(url)
            ladders.append(wait_for_images(page, "reconstructions", LADDER_IMAGES))
            cookie = {c["name"]: c["value"] for c in context.cookies()}.get(AFFINITY_COOKIE)
            assert cookie in {str(p) for p in ports}, f"no affinity cookie for a replica: {context.cookies()}"
            pages.append(page)
            cookie_replicas.append(cookie)
        assert set(cookie_replicas) == {str(p) for p in ports}, f"one replica served every session: {cookie_replicas}"

        for i, page in enumerate(pages):
            name = f"session-{i}.png"
            page.get_by_role("tab", name="Upload").click()
            page.locator(".st-key-upload input[type=file]").set_input_files(str(upload_picture(tmp_path / name, i)))
            uploaded = wait_for_change(page, "reconstructions", ladders[i])
            assert len(uploaded) == LADDER_IMAGES
            page.wait_for_function("n => document.body.innerText.includes(n)", arg=name, timeout=30_000)

            page.get_by_role("tab", name="Samples").click()  # a rerun: a button press runs the script again
            page.locator(".st-key-sample_random button").click()
            picked = wait_for_change(page, "reconstructions", uploaded)
            assert len(picked) == LADDER_IMAGES
            ladders[i] = picked

        for i, page in enumerate(pages):
            text = page.inner_text("body")
            assert "Traceback" not in text
            others = [f"session-{j}.png" for j in range(SESSIONS) if j != i]
            assert not [o for o in others if o in text], f"session {i} shows another session's upload"
            cookie = {c["name"]: c["value"] for c in contexts[i].cookies()}[AFFINITY_COOKIE]
            assert cookie == cookie_replicas[i], "a session moved to another replica"
        shown = [sidebar_replica(page) for page in pages]
        assert shown == cookie_replicas, "the sidebar names another replica than the one HAProxy chose"
        for context in contexts:
            context.close()

        children = descendants(script.pid)
        script.send_signal(signal.SIGTERM)
        assert script.wait(30) == 143
        left = [c for c in children if not gone(c)]
        assert not left, f"still running after SIGTERM: {[(c.pid, c.cmdline()) for c in left]}"
        assert not [p for p in [*ports, int(url.rsplit(':', 1)[1]), redis_port] if accepts(p)]



def test_ctrl_c_stops_every_replica_and_haproxy():
    with replica_set(1) as (url, script, ports):
        children = descendants(script.pid)
        assert len(children) >= 2
        script.send_signal(signal.SIGINT)
        assert script.wait(90) == 130  # a loaded machine: the replicas get 10 s to exit, then SIGKILL
        left = [c for c in children if not gone(c)]
        assert not left, f"still running after SIGINT: {[(c.pid, c.cmdline()) for c in left]}"

