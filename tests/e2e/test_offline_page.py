"""The whole page works with no network but loopback, and fetches nothing from any host but its server.

`streamlit run app.py` and Chromium run together in a new network namespace (`unshare -n`, loopback
only) through tests/e2e/offline_driver.py.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from harness.browser import HOW_TO_GET_CHROMIUM, REPO_ROOT, chromium_available

IP = shutil.which("ip") or "/usr/sbin/ip"


def namespace_refusal() -> str | None:
    """Why a loopback-only namespace cannot be made here (None when it can)."""
    if not shutil.which("unshare"):
        return "unshare not found (util-linux)"
    if not Path(IP).exists():
        return "ip not found: `sudo apt-get install iproute2`"
    probe = subprocess.run(["unshare", "-n", IP, "link", "set", "lo", "up"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"`unshare -n` not permitted here: {probe.stderr.strip()}"


REFUSAL = namespace_refusal()
pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not chromium_available(), reason=HOW_TO_GET_CHROMIUM),
              pytest.mark.skipif(REFUSAL is not None, reason=REFUSAL or "")]


def test_the_page_works_in_a_loopback_only_namespace_and_asks_only_its_server():
    driver = REPO_ROOT / "tests" / "e2e" / "offline_driver.py"
    run = subprocess.run(["unshare", "-n", "sh", "-c", f'"{IP}" link set lo up && exec "$0" "$1"',
                          sys.executable, str(driver)], capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["ladder"] >= 14 and found["map"] and not found["traceback"]

    server = urlsplit(found["url"]).netloc
    network = [u for u in found["requests"] if urlsplit(u).scheme not in ("data", "blob")]
    assert len(network) > 10, found["requests"]  # the page, its scripts, the websocket, the components
    elsewhere = sorted({u for u in network if urlsplit(u).netloc != server})
    assert not elsewhere, f"the page asked other hosts than its server {server}: {elsewhere}"
    assert not found["failed"], f"requests that failed: {found['failed']}"
