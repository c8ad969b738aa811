"""Capacity: how many drawing students one server holds, at the protocol level (no browsers).

    .venv/bin/python benchmarks/bench_load.py [--levels 1,5,10,20,30,50] [--seconds 40] [--balanced 1,2]
                                              [--py-spy 20]

Each session is one student's tab, spoken as the browser speaks it (harness/st_protocol.py: the
websocket messages, with the canvas value captured from Chromium and other strokes drawn in): it
opens the page, then round after round draws a digit in three strokes (a new stroke SECONDS_BETWEEN
after the last one's reconstructions arrived), lets the page follow (the page's timer fires a second
after the last stroke: the whole page), looks for a few seconds, and every few rounds picks a
sample or uploads a photo. A stroke's latency is from sending its BackMsg to receiving the
script_finished of its run, whose deltas carry the new ladder (checked on every stroke).

Prints first what one interaction costs the server (CPU time of a stroke, of the whole page after a
drawing, of a sample pick; one session alone), then, for each number of active sessions, p50/p95
stroke latency, and the same for the whole page that follows and for uploads; then the most sessions one server holds with p95 <= 1.5 s (the
largest level that does, refined between it and the next), and the same through HAProxy
(deploy/replicas.sh) with 1 and 2 replicas. The load generator runs on the same cores as the
server: its own CPU share is printed too. --py-spy N records the single server for N seconds at
20 sessions (py-spy must be installed: pip install py-spy) into artifacts/bench_load-py-spy.txt.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

from harness.browser import REPO_ROOT, replica_set, streamlit_process
from harness.report import Figure
from harness.st_protocol import ProtocolSession, paper_png, random_strokes

TARGET_P95_S = 1.5
SECONDS_BETWEEN = 0.8   # from a stroke's reconstructions to the next stroke (drawing it takes about that)
LOOK_S = 3.0            # looking at the whole page after a digit, before the next
STROKES_PER_DIGIT = 3


@dataclass
class Tally:
    strokes: list[float] = field(default_factory=list)
    follows: list[float] = field(default_factory=list)
    uploads: list[float] = field(default_factory=list)
    picks: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing_ladder: int = 0


async def student(url: str, seed: int, start: float, measure_from: float, stop: float, tally: Tally) -> None:
    """One tab: open the page at ``start``, then draw, follow, look, pick or upload until ``stop``."""
    rng = np.random.default_rng(seed)
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    counting = lambda: measure_from <= time.monotonic() < stop  # noqa: E731

    async def wait(seconds: float, session: ProtocolSession) -> None:
        """Time passing in the browser: the page's own timer fires when it is due within it."""
        delay = session.timer_delay()
        if delay is not None and delay <= seconds:
            await asyncio.sleep(delay)
            seconds -= delay
            sent = time.monotonic()
            run = await session.follow()
            if run is not None and counting() and sent >= measure_from:
                tally.follows.append(run.seconds)
                tally.errors += run.errors
        await asyncio.sleep(seconds)

    async with ProtocolSession(url) as session:
        for run in await session.open_page():
            tally.errors += run.errors
        rounds = 0
        while time.monotonic() < stop:
            session.clear_drawing()
            for points in random_strokes(rng, STROKES_PER_DIGIT):
                counted = counting()
                run = await session.stroke(points)
                if counted:
                    tally.strokes.append(run.seconds)
                    tally.missing_ladder += not run.ladder
                tally.errors += run.errors
                await wait(SECONDS_BETWEEN * rng.uniform(0.7, 1.3), session)
            await wait(LOOK_S * rng.uniform(0.7, 1.3), session)
            rounds += 1
            if rounds % 3 == 0:
                counted = counting()
                run = await session.pick_sample()
                (tally.picks.append(run.seconds) if counted else None)
                await wait(LOOK_S * rng.uniform(0.7, 1.3), session)
            if rounds % 4 == 0:
                counted = counting()
                run = await session.upload(paper_png(rng), f"photo-{seed}-{rounds}.png")
                (tally.uploads.append(run.seconds) if counted else None)
                tally.errors += run.errors
                await wait(LOOK_S * rng.uniform(0.7, 1.3), session)


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
            total += t.user + t.system
            for child in p.children(recursive=True):
                ct = child.cpu_times()
                total += ct.user + ct.system
        except psutil.NoSuchProcess:
            pass
    return total


def wait_until_idle(processes: list[psutil.Process], timeout: float = 240) -> float:
    """Wait out the servers' own start-up work (the map fitter's UMAP warm-up, at low priority): until they
    and their children use under a tenth of a core for 3 s. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = cpu_seconds(processes)
        time.sleep(3)
        if cpu_seconds(processes) - before < 0.3:
            break
    return time.monotonic() - started


def level(url: str, sessions: int, seconds: float, servers: list[psutil.Process], seed: int = 0,
          profile_s: float = 0) -> dict:
    """``sessions`` students for ``seconds`` after a ramp; returns the latencies and CPU shares.
    ``profile_s``: record the first server with py-spy for that long once the ramp is over."""
    tally = Tally()
    ramp = min(10.0, 0.2 * sessions + 2)
    now = time.monotonic()
    measure_from, stop = now + ramp + 5, now + ramp + 5 + seconds
    me = psutil.Process()
    server_cpu, own_cpu, wall = cpu_seconds(servers), sum(me.cpu_times()[:2]), time.monotonic()
    spy: list[subprocess.Popen] = []
    timer = threading.Timer(measure_from - now, lambda: spy.append(start_py_spy(servers[0].pid, profile_s)))
    if profile_s:
        timer.start()

    async def everyone():
        await asyncio.gather(*(student(url, seed * 1000 + i, now + ramp * i / max(1, sessions), measure_from, stop, tally)
                               for i in range(sessions)))

    asyncio.run(everyone())
    wall = time.monotonic() - wall
    for recording in spy:
        if recording is not None:
            recording.wait()
            print(f"  py-spy: {REPO_ROOT / 'artifacts' / 'bench_load-py-spy.txt'}", flush=True)
    return {"sessions": sessions, "tally": tally,
            "server_cores": (cpu_seconds(servers) - server_cpu) / wall, "client_cores": (sum(me.cpu_times()[:2]) - own_cpu) / wall}


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def describe(result: dict) -> str:
    t: Tally = result["tally"]
    ms = lambda v, q: f"{pct(v, q) * 1000:6.0f}"  # noqa: E731
    return (f"{result['sessions']:>4} sessions | strokes {len(t.strokes):>4}: p50 {ms(t.strokes, 50)} ms, p95 {ms(t.strokes, 95)} ms"
            f" | whole page {len(t.follows):>4}: p50 {ms(t.follows, 50)}, p95 {ms(t.follows, 95)}"
            f" | uploads {len(t.uploads):>3}: p95 {ms(t.uploads, 95)} | cores: server {result['server_cores']:.2f},"
            f" load generator {result['client_cores']:.2f} | errors {len(t.errors)}, strokes without ladder {t.missing_ladder}")


def holds(result: dict) -> bool:
    t: Tally = result["tally"]
    return bool(t.strokes) and pct(t.strokes, 95) <= TARGET_P95_S and not t.errors and not t.missing_ladder


def capacity(url: str, levels: list[int], seconds: float, servers: list[psutil.Process], label: str,
             refine: bool = True) -> int:
    """The most sessions with p95 <= target among ``levels``, then bisected once towards the first level that fails."""
    best, failed = 0, None
    for n in levels:
        result = level(url, n, seconds, servers)
        print(f"  {label} {describe(result)}", flush=True)
        if holds(result):
            best = n
        else:
            failed = n
            break
    if refine and failed is not None and failed - best > 2:
        mid = (best + failed) // 2
        result = level(url, mid, seconds, servers, seed=1)
        print(f"  {label} {describe(result)}", flush=True)
        if holds(result):
            best = mid
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,5,10,20,30,50")
    parser.add_argument("--seconds", type=float, default=40, help="measured seconds per level (after a ramp)")
    parser.add_argument("--balanced", default="1,2", help="replica counts to measure through HAProxy ('' for none)")
    parser.add_argument("--py-spy", type=float, default=0, dest="py_spy",
                        help="record the single server with py-spy for this many seconds at 20 sessions")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a SIGTERM stops the servers it started, as Ctrl-C does
    run([int(x) for x in args.levels.split(",")], args.seconds,
        [int(x) for x in args.balanced.split(",") if x], args.py_spy)
    return 0


def run(levels: list[int], seconds: float = 40, balanced: list[int] = (1, 2), py_spy: float = 0) -> list[Figure]:
    """Every level on one server, then capacity through HAProxy; prints as it goes, returns the figures."""
    (REPO_ROOT / "artifacts").mkdir(exist_ok=True)
    print(f"bench_load: {psutil.cpu_count()} cores; a student: {STROKES_PER_DIGIT} strokes "
          f"{SECONDS_BETWEEN} s apart, the whole page after, {LOOK_S} s looking, a pick every 3rd digit, "
          f"an upload every 4th; {seconds:.0f} s measured per level; target p95 <= {TARGET_P95_S} s", flush=True)
    figures: list[Figure] = []
    with streamlit_process(REPO_ROOT / "app.py") as (url, process):
        server = [psutil.Process(process.pid)]
        asyncio.run(_first_visit(url))  # as the first student does: the server's own start-up work begins
        print(f"one server ({url}), after {wait_until_idle(server):.0f} s of its start-up work", flush=True)
        costs = asyncio.run(interaction_costs(url, server[0]))
        for figure in costs:
            print(f"  {figure.what}: {figure.value}", flush=True)
        figures += costs
        print("every level:", flush=True)
        results = []
        for n in levels:
            results.append(level(url, n, seconds, server, profile_s=py_spy if n == 20 else 0))
            print(f"  {describe(results[-1])}", flush=True)
        passing = [r["sessions"] for r in results if holds(r)]
        single = max(passing, default=0)
        failing = [r["sessions"] for r in results if not holds(r) and r["sessions"] > single]
        if failing and failing[0] - single > 2:
            mid = (single + failing[0]) // 2
            result = level(url, mid, seconds, server, seed=1)
            results.append(result)
            print(f"  {describe(result)}", flush=True)
            single = mid if holds(result) else single
    print(f"one server holds {single} sessions with p95 <= {TARGET_P95_S} s", flush=True)
    for r in sorted(results, key=lambda r: r["sessions"]):
        t: Tally = r["tally"]
        figures.append(Figure(f"one server, {r['sessions']} active sessions: stroke -> new ladder p50 / p95 "
                              f"(whole page p95)", f"{pct(t.strokes, 50) * 1000:.0f} / {pct(t.strokes, 95) * 1000:.0f} ms "
                              f"({pct(t.follows, 95) * 1000:.0f} ms)"))
    figures.append(Figure("sessions one server holds at stroke p95 <= 1.5 s", str(single), ">= 30", single >= 30))

    for replicas in balanced:
        with replica_set(replicas) as (url, script, _ports):
            servers = psutil.Process(script.pid).children()  # the replicas and HAProxy (cpu_seconds adds their children)
            for _ in range(replicas):  # a first visit to each replica, round-robin for a new visitor
                asyncio.run(_first_visit(url))
            print(f"  HAProxy + {replicas}: waited {wait_until_idle(servers):.0f} s for the replicas' start-up work", flush=True)
            start = [n for n in levels if n >= max(1, single // 2)] if single else levels
            held = capacity(url, start, seconds, servers, f"HAProxy + {replicas}:")
        print(f"through HAProxy, {replicas} replica{'s' * (replicas > 1)}: {held} sessions with p95 <= {TARGET_P95_S} s",
              flush=True)
        figures.append(Figure(f"sessions HAProxy + {replicas} replica{'s' * (replicas > 1)} hold at stroke p95 <= 1.5 s",
                              str(held)))
    return figures


async def interaction_costs(url: str, server: psutil.Process, rounds: int = 30) -> list[Figure]:
    """One session alone, one thing at a time: the server's CPU time per stroke, per whole page after a
    drawing, and per sample pick (which runs the whole page at once). Medians; the process's CPU clock
    ticks in 10 ms, hence the rounds."""
    rng = np.random.default_rng(0)

    def cpu() -> float:
        times = server.cpu_times()
        return times.user + times.system

    strokes, pages, picks = [], [], []
    async with ProtocolSession(url) as session:
        await session.open_page()
        for points in random_strokes(rng, 3):  # the first strokes of a visit warm their caches
            await session.stroke(points)
        await session.follow()
        for i in range(rounds):
            if i % 4 == 0:
                session.clear_drawing()
            before = cpu()
            await session.stroke(random_strokes(rng, 1)[0])
            strokes.append(cpu() - before)
            before = cpu()
            if await session.follow() is not None:
                pages.append(cpu() - before)
            if i % 3 == 0:
                before = cpu()
                await session.pick_sample()
                picks.append(cpu() - before)
    ms = lambda values: f"{np.median(values) * 1000:.0f} ms (mean {np.mean(values) * 1000:.0f})"  # noqa: E731
    return [Figure("server CPU per stroke, one session alone (median of 30)", ms(strokes)),
            Figure(f"server CPU per whole page after a drawing (median of {len(pages)})", ms(pages)),
            Figure(f"server CPU per sample pick, the whole page included (median of {len(picks)})", ms(picks))]


async def _first_visit(url: str) -> None:
    """One page open: the app starts its own start-up work (the map fitter's warm-up) on its first visit."""
    async with ProtocolSession(url) as session:
        await session.open_page()


def start_py_spy(pid: int, seconds: float) -> subprocess.Popen | None:
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        print("  py-spy not installed (pip install py-spy): no profile", flush=True)
        return None
    out = REPO_ROOT / "artifacts" / "bench_load-py-spy.txt"
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "50",
                             "--format", "raw", "--gil", "--nonblocking", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    sys.exit(main())
