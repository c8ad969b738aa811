"""A replica that dies must not take the class with it: deploy/replicas.sh 2 under four students, two on each replica.

A replica killed (as by a crash or the kernel's OOM killer) or stopped and started again: its students' pages
come back by themselves, on the live replica (or on theirs, if it was up again first), within 15 s, with the view
their URL holds, and answer the next stroke; the other replica's students notice nothing; new and returning
browsers go to the live replica; the script logs the exit and starts the replica again, which then serves
browsers again.
"""
from __future__ import annotations

import re
import shutil
import signal
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psutil
import pytest

from harness.browser import (AFFINITY_COOKIE, HOW_TO_GET_CHROMIUM, canvas_box, chromium_available, chromium_browser,
                             cookie_replica, draw_stroke, image_sources, replica_set, sidebar_replica,
                             track_websockets, wait_for_change, wait_for_images, wait_for_reconnect, wait_healthy,
                             wait_until_idle)

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not chromium_available(), reason=HOW_TO_GET_CHROMIUM),
              pytest.mark.skipif(not Path(HAPROXY).exists() or not Path(REDIS).exists(),
                                 reason="HAProxy or Redis not found: `sudo apt-get install haproxy redis-server` "
                                        "(.ci/run does; deploy/replicas.sh would, but a test does not install)")]

BACK_WITHIN_S = 15                   # the promise: the page is back this soon after its replica died
NEVER_FROZEN_S = 60                  # what this test asserts: the page comes back by itself (the 15 s is printed)
LADDER_IMAGES = 14
# Two views on each replica: a dataset and a sample, and a tour step (which sets the dataset, model and input).
VIEWS = [("/?dataset=mnist&family=conv&sample=5", 0), ("/?tour=2", 0),
         ("/?dataset=fashion&family=conv&sample=3", 1), ("/?tour=5", 1)]


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """deploy/replicas.sh 2 on free loopback ports: (HAProxy's URL, the script's Popen, the replicas' ports, its log)."""
    log = tmp_path_factory.mktemp("replicas") / "replicas.log"
    with replica_set(2, log=log) as (url, script, ports):
        yield url, script, ports, log


def replica_process(script: psutil.Popen, port: int) -> psutil.Process:
    """The `streamlit run` the script started on ``port``."""
    found = [p for p in psutil.Process(script.pid).children(recursive=True)
             if "streamlit" in " ".join(p.cmdline()) and f"--server.port {port}" in " ".join(p.cmdline())]
    assert len(found) == 1, found
    return found[0]


def view_of(page) -> tuple[dict, str, str | None]:
    """What the page shows of its view: its URL's query, the dataset ticked in the sidebar, the tour step's title."""
    dataset = page.evaluate("() => { const r = document.querySelector('[data-testid=stSidebar] input[type=radio]:checked');"
                            " return r ? r.closest('label').innerText.trim() : ''; }")
    tour = re.search(r"step \d+ of \d+: [^\n]+", page.locator(".st-key-tour").inner_text())
    return parse_qs(urlsplit(page.url).query), dataset, tour.group(0) if tour else None


def open_students(browser, url: str, ports: list[int]) -> tuple[list, list[list[float]]]:
    """One browser per view, each on the replica its view names (by HAProxy's affinity cookie), the page drawn;
    the pages, and for each the times it opens a websocket (harness.browser.track_websockets)."""
    pages = []
    for path, replica in VIEWS:
        context = browser.new_context(viewport={"width": 1400, "height": 1600})
        context.add_cookies([{"name": AFFINITY_COOKIE, "value": str(ports[replica]), "url": url}])
        page = context.new_page()
        pages.append(page)
        page.goto(url + path, timeout=120_000)
        wait_for_images(page, "reconstructions", LADDER_IMAGES)
    websockets = [track_websockets(page) for page in pages]
    for page, (_, replica) in zip(pages, VIEWS):
        wait_until_idle(page, quiet_ms=2000)
        assert sidebar_replica(page) == str(ports[replica])
    return pages, websockets


def answers_a_stroke(page) -> None:
    """A stroke on the canvas changes the ladder: the page is not frozen."""
    before = image_sources(page, "reconstructions")
    # mid-window: clear of the tour's bar, which is fixed along the bottom of the window
    page.locator(".st-key-draw_canvas canvas").last.evaluate("e => e.scrollIntoView({block: 'center'})")
    draw_stroke(page, canvas_box(page), [(0.3, 0.2), (0.7, 0.25), (0.4, 0.85)])
    wait_for_change(page, "reconstructions", before, timeout=30)


def check_the_class_survives(browser, hall, students: tuple[list, list[list[float]]], down: int, how) -> list[float]:
    """Take replica ``ports[down]`` away with ``how`` (a callable given its process), then check everything the
    issue asks of ``students`` (open_students's pages and websockets); return the seconds each of its students
    waited for the page to come back."""
    url, script, ports, log = hall
    live = ports[1 - down]
    pages, websockets = students
    views = [view_of(page) for page in pages]
    victims = [(page, opened) for page, opened, (_, replica) in zip(pages, websockets, VIEWS) if replica == down]
    how(replica_process(script, ports[down]))
    gone_at = time.monotonic()

    # at once, while it is away (it takes seconds to start again), new and returning browsers go to the live one;
    # closed once HAProxy has answered, so that their pages add no load while the students come back
    for cookie in (None, str(ports[down])):
        context = browser.new_context()
        if cookie:
            context.add_cookies([{"name": AFFINITY_COOKIE, "value": cookie, "url": url}])
        context.new_page().goto(url, wait_until="commit")
        assert cookie_replica(context) == str(live), f"a browser with cookie {cookie} went to the replica away"
        context.close()

    # back by itself (no reload), or the test fails: never silently frozen. On the live replica, unless the script
    # had the other up again before the page asked (HAProxy then sends it back by its cookie): either serves it
    back_after, back_on = [], {}
    for page, opened in victims:
        back_on[page], back_s = wait_for_reconnect(page, opened, gone_at, NEVER_FROZEN_S, log)
        back_after.append(back_s)
        assert back_on[page] in {str(live), str(ports[down])} and cookie_replica(page.context) == back_on[page]
    # speed is a printed figure (a loaded machine can pass 15 s): within BACK_WITHIN_S or not, it says which
    print(f"back after {[f'{s:.1f}' for s in back_after]} s: "
          f"{'within' if max(back_after) <= BACK_WITHIN_S else 'NOT within'} the issue's {BACK_WITHIN_S} s")
    print(f"back on {['the live replica' if r == str(live) else 'the one started again' for r in back_on.values()]}")
    assert [view_of(page) for page in pages] == views, "a page came back with another view than its URL's"
    for page in pages:  # every student's page answers a stroke, the dead replica's and the others'
        answers_a_stroke(page)
        assert "Traceback" not in page.inner_text("body")
    for page, (_, replica) in zip(pages, VIEWS):
        assert sidebar_replica(page) == back_on.get(page, str(ports[replica]))
    return back_after


def back_again(url: str, script, ports: list[int], down: int, log: Path, browser) -> None:
    """The script started the replica again and logged it; a browser that asks for it is served by it."""
    wait_healthy(f"http://127.0.0.1:{ports[down]}", 180)
    assert script.poll() is None, "the script stopped"
    assert re.search(rf"replica {ports[down]} exited \(.*\) after \d+ s; starting it again", log.read_text())
    context = browser.new_context()
    page = context.new_page()
    deadline = time.monotonic() + 30  # HAProxy's health check marks it up within a couple of seconds
    while True:
        # Each try asks for the restarted replica afresh: a try HAProxy answered while it still held the
        # replica down was redispatched to the live one, and its Set-Cookie replaced the browser's cookie.
        context.clear_cookies()
        context.add_cookies([{"name": AFFINITY_COOKIE, "value": str(ports[down]), "url": url}])
        page.goto(url)
        wait_for_images(page, "reconstructions", LADDER_IMAGES)
        if sidebar_replica(page) == str(ports[down]) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert sidebar_replica(page) == str(ports[down])
    context.close()


def test_a_killed_replica_is_started_again_and_its_students_are_back_within_15_s(hall):
    url, script, ports, log = hall
    with chromium_browser() as browser:
        students = open_students(browser, url, ports)
        back_after = check_the_class_survives(browser, hall, students, down=0,
                                              how=lambda replica: replica.send_signal(signal.SIGKILL))
        print(f"killed replica's students back after {[f'{s:.1f}' for s in back_after]} s")
        back_again(url, script, ports, 0, log, browser)
        assert "killed by signal 9" in log.read_text()


def test_a_replica_stopped_and_started_again_keeps_its_students(hall):
    url, script, ports, log = hall
    for port in ports:  # the previous test's replica is back
        wait_healthy(f"http://127.0.0.1:{port}", 180)
    with chromium_browser() as browser:
        students = open_students(browser, url, ports)
        back_after = check_the_class_survives(browser, hall, students, down=1,
                                              how=lambda replica: replica.send_signal(signal.SIGTERM))
        print(f"stopped replica's students back after {[f'{s:.1f}' for s in back_after]} s")
        back_again(url, script, ports, 1, log, browser)
        assert urllib.request.urlopen(f"{url}/_stcore/health", timeout=5).status == 200
