"""The class room under load: one server, its in-memory store, 1 teacher and 30 drawing students (protocol level).

    .venv/bin/python -m benchmarks.bench_room [--students 30] [--seconds 40]

Each student is a tab spoken as the browser speaks it (harness/st_protocol.py), as in bench_load:
it opens the page, then draws a digit in three strokes (the next one SECONDS_BETWEEN after the
last one's reconstructions arrived), lets the page follow, looks for a few seconds, and again. The
same number of students run on one server, in rounds of two kinds that take turns (``PAIRS`` of each):

1. **without a room**: the plain app;
2. **in one room**: the teacher pressed "Start a class room" (``room_start``); the students open
   ``?room=CODE``, so every stroke also shares the input (``ui.room.share_current``) and their
   page reruns its poll fragment every ``ui.room.POLL_CHECK_S``, as the browser does; the teacher's
   page reruns its panel fragment every ``ui.room.PANEL_REFRESH_S`` and reads the room map's stars.

Each round draws with seeds of its own: a round that replayed an earlier round's strokes would find
their pictures in the server's ladder cache and cost less than the first. Taking turns spreads what
the machine does meanwhile (it is shared) over both kinds; a round's p95 on two loaded cores moves
by a fifth from one round to the next.

Figures: the students' stroke latency (BackMsg sent to the run's script_finished) p50 / p95 of each
kind's strokes pooled, and their ratio (the issue's target: within 10 %); the teacher's map staleness, from
a stroke's BackMsg until the teacher's panel shows that member's star with that stroke's input or
a later one (the star's data carries the time the store took it) p50 / p95 (target <= 2 s); and
drawings lost: students whose last input is not on the teacher's panel a few seconds after they stop.

Then the hall: deploy/replicas.sh 3 (3 replicas, HAProxy, Redis), 1 teacher and 100 students in one room,
with the same figures, and the CPU each part used (the replicas, HAProxy, Redis, and this process, the load
generator, which shares the machine): which part limits. Where the hall misses a target, a room of half as
many says how far it goes.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import numpy as np
import psutil

from harness.browser import REPO_ROOT, streamlit_process
from harness.report import Figure, machine
from harness.st_protocol import ProtocolSession, random_strokes

from .bench_load import _first_visit, pct, wait_until_idle

SECONDS_BETWEEN = 0.8   # from a stroke's reconstructions to the next stroke
LOOK_S = 3.0            # looking at the whole page after a digit
STROKES_PER_DIGIT = 3
TARGET_STALENESS_S = 2.0
TARGET_STROKE_RATIO = 1.10
SETTLE_S = 5.0          # the teacher keeps looking this long after the students stop
PAIRS = 2               # rounds of each kind (without a room, in one room), taking turns


@dataclass
class Round:
    strokes: list[float] = field(default_factory=list)
    sent: list[tuple[str, float]] = field(default_factory=list)      # (member, wall-clock time a stroke was sent)
    last_sent: dict[str, float] = field(default_factory=dict)        # member -> their last stroke's wall-clock time
    seen: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # member -> [(star's time, seen at)]
    errors: list[str] = field(default_factory=list)
    panel_runs: list[float] = field(default_factory=list)


def _due_fragments(session: ProtocolSession, next_due: dict[str, float]) -> None:
    for fragment_id, interval in session.auto_reruns.items():
        next_due.setdefault(fragment_id, time.monotonic() + interval)


async def _pass_time(session: ProtocolSession, seconds: float, next_due: dict[str, float], result: Round) -> None:
    """Time passing in the browser: the page-follows timer fires when due, and fragments with run_every rerun."""
    end = time.monotonic() + seconds
    follow_at = None
    delay = session.timer_delay()
    if delay is not None:
        follow_at = time.monotonic() + delay
    while True:
        _due_fragments(session, next_due)
        events = [(at, fid) for fid, at in next_due.items()] + ([(follow_at, None)] if follow_at else [])
        at, what = min(events, default=(end, ""), key=lambda e: e[0])
        if at >= end:
            await asyncio.sleep(max(0.0, end - time.monotonic()))
            return
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        if what is None:
            follow_at = None
            run = await session.follow()
            if run is not None:
                result.errors += run.errors
        else:
            next_due[what] = time.monotonic() + session.auto_reruns.get(what, 1e9)
            run = await session.auto_rerun(what)
            result.errors += run.errors


async def student(url: str, query: str, seed: int, start: float, measure_from: float, stop: float,
                  result: Round) -> None:
    rng = np.random.default_rng(seed)
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    async with ProtocolSession(url) as session:
        session.query_string = query
        for run in await session.open_page():
            result.errors += run.errors
        member = parse_qs(session.query_string).get("member", [f"student-{seed}"])[0]
        next_due: dict[str, float] = {}
        while time.monotonic() < stop:
            session.clear_drawing()
            for points in random_strokes(rng, STROKES_PER_DIGIT):
                counted = measure_from <= time.monotonic() < stop
                sent = time.time()
                run = await session.stroke(points)
                result.errors += run.errors
                result.last_sent[member] = sent
                if counted:
                    result.strokes.append(run.seconds)
                    result.sent.append((member, sent))
                await _pass_time(session, SECONDS_BETWEEN * rng.uniform(0.7, 1.3), next_due, result)
            await _pass_time(session, LOOK_S * rng.uniform(0.7, 1.3), next_due, result)


def room_map_stars(session: ProtocolSession) -> list[tuple[str, float]]:
    """(member, the time the store took their input) of every star on the teacher's room map, as last sent."""
    element = session.element("room_map")
    if element is None:
        return []
    spec = json.loads(element.proto.spec or "{}")
    stars = []
    for trace in spec.get("data", []):
        if trace.get("marker", {}).get("symbol") == "star":
            stars += [(member, float(at)) for _, member, at in trace.get("customdata", [])]
    return stars


async def teacher(url: str, code: asyncio.Future, stop: float, result: Round) -> None:
    """Starts the room, hands its code to the students, then reruns its panel as the browser would."""
    async with ProtocolSession(url) as session:
        await session.open_page()
        await session.press("room_start")
        params = parse_qs(session.query_string)
        code.set_result(params["room"][0])
        panel = min(session.auto_reruns, key=session.auto_reruns.get)  # the panel: the shortest run_every
        interval = session.auto_reruns[panel]
        known: set[tuple[str, float]] = set()
        while time.monotonic() < stop:
            started = time.monotonic()
            run = await session.auto_rerun(panel)
            result.errors += run.errors
            result.panel_runs.append(run.seconds)
            now = time.time()
            for member, at in room_map_stars(session):
                if (member, at) not in known:
                    known.add((member, at))
                    result.seen.setdefault(member, []).append((at, now))
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


def staleness(result: Round) -> tuple[list[float], int]:
    """Seconds from each measured stroke to the first star of its member holding it or a later input; and how
    many students' last input never showed."""
    delays = []
    for member, sent in result.sent:
        shown = [seen for at, seen in result.seen.get(member, []) if at >= sent]
        if shown:
            delays.append(min(shown) - sent)
    lost = sum(1 for member, sent in result.last_sent.items()
               if not any(at >= sent for at, _ in result.seen.get(member, [])))
    return delays, lost


def one_round(url: str, students: int, seconds: float, with_room: bool, seed: int = 0) -> Round:
    result = Round()
    ramp = min(10.0, 0.2 * students + 2)

    async def everyone():
        now = time.monotonic()
        measure_from, stop = now + ramp + 5, now + ramp + 5 + seconds
        query = ""
        tasks = []
        if with_room:
            code = asyncio.get_running_loop().create_future()
            tasks.append(asyncio.create_task(teacher(url, code, stop + SETTLE_S, result)))
            query = f"room={await asyncio.wait_for(code, 120)}"
        tasks += [asyncio.create_task(student(url, query, seed * 1000 + i, now + ramp * i / max(1, students),
                                              measure_from, stop, result)) for i in range(students)]
        await asyncio.gather(*tasks)

    asyncio.run(everyone())
    return result


def _report(one: Round, with_room: bool) -> None:
    """One round's figures, as it ends."""
    line = (f"  {'in one room:   ' if with_room else 'without a room:'} strokes {len(one.strokes)}: p50 "
            f"{pct(one.strokes, 50) * 1000:.0f} ms, p95 {pct(one.strokes, 95) * 1000:.0f} ms, errors {len(one.errors)}")
    if with_room:
        delays, lost = staleness(one)
        line += (f"; teacher's panel runs {len(one.panel_runs)}: p95 {pct(one.panel_runs, 95) * 1000:.0f} ms; "
                 f"staleness of {len(delays)} strokes p50 {pct(delays, 50):.2f} s, p95 {pct(delays, 95):.2f} s; "
                 f"{lost} of {len(one.last_sent)} students' last input not on the panel")
    print(line, flush=True)


def _pool(pooled: Round, one: Round, tag: str) -> None:
    """Add round ``one`` to ``pooled``, its members named with ``tag`` (each round's room names its own)."""
    pooled.strokes += one.strokes
    pooled.sent += [(tag + member, at) for member, at in one.sent]
    pooled.last_sent.update({tag + member: at for member, at in one.last_sent.items()})
    pooled.seen.update({tag + member: seen for member, seen in one.seen.items()})
    pooled.errors += one.errors
    pooled.panel_runs += one.panel_runs


def run(students: int = 30, seconds: float = 40, with_hall: bool = True) -> list[Figure]:
    """``PAIRS`` rounds of each kind on one server, then the hall (``with_hall``); prints as it goes, returns the
    figures."""
    print(f"bench_room: {psutil.cpu_count()} cores; {students} students ({STROKES_PER_DIGIT} strokes "
          f"{SECONDS_BETWEEN} s apart, the whole page after, {LOOK_S} s looking), {seconds:.0f} s measured per round; "
          f"{machine()}", flush=True)
    with streamlit_process(REPO_ROOT / "app.py", env={"REDIS_URL": ""}) as (url, process):
        server = [psutil.Process(process.pid)]
        asyncio.run(_first_visit(url))
        print(f"one server ({url}), in-memory store, after {wait_until_idle(server):.0f} s of its start-up work",
              flush=True)
        plain, room = Round(), Round()
        for pair in range(PAIRS):
            for with_room, pooled in ((False, plain), (True, room)):
                one = one_round(url, students, seconds, with_room=with_room, seed=2 * pair + with_room)
                _report(one, with_room)
                _pool(pooled, one, f"{pair}:")
        delays, lost = staleness(room)
        print(f"  pooled: without a room p95 {pct(plain.strokes, 95) * 1000:.0f} ms, in one room p95 "
              f"{pct(room.strokes, 95) * 1000:.0f} ms", flush=True)
    print(f"  at the end: {machine()}", flush=True)
    ratio = pct(room.strokes, 95) / pct(plain.strokes, 95)
    what = (f"class room, one server (in-memory store), 1 teacher + {students} students, {PAIRS} rounds without "
            f"and {PAIRS} in a room, taking turns")
    figures = [
        Figure(f"{what}: stroke p50 / p95 without a room, then in the room",
               f"{pct(plain.strokes, 50) * 1000:.0f} / {pct(plain.strokes, 95) * 1000:.0f} ms, then "
               f"{pct(room.strokes, 50) * 1000:.0f} / {pct(room.strokes, 95) * 1000:.0f} ms"),
        Figure(f"{what}: stroke p95 in the room against without", f"{ratio:.2f}x", f"<= {TARGET_STROKE_RATIO:.2f}x",
               bool(ratio <= TARGET_STROKE_RATIO) and not room.errors),
        Figure(f"{what}: teacher's map staleness p50 / p95 (a stroke until its star is on the teacher's panel)",
               f"{pct(delays, 50):.2f} / {pct(delays, 95):.2f} s", f"p95 <= {TARGET_STALENESS_S:.0f} s",
               bool(delays) and pct(delays, 95) <= TARGET_STALENESS_S),
        Figure(f"{what}: students whose last input is not on the teacher's panel {SETTLE_S:.0f} s after they stop",
               f"{lost} of {len(room.last_sent)}", "0", lost == 0),
    ]
    if with_hall:
        figures.append(hall())
    return figures


def hall() -> Figure:
    """3 replicas + HAProxy + Redis, 100 students: needs deploy/replicas.sh to start Redis for its replicas."""
    script = (REPO_ROOT / "deploy" / "replicas.sh").read_text()
    what = "a hall: 3 replicas + HAProxy + Redis, 1 teacher + 100 students in one room"
    if "redis-server" not in script:
        print(f"  {what}: not measured (deploy/replicas.sh does not start Redis yet)", flush=True)
        return Figure(what, "not measured (deploy/replicas.sh starts no Redis yet)",
                      "staleness p95 <= 2 s, nothing lost, stroke p95 <= 1.5 s")
    return _hall(what)


def _cpu_seconds(processes: dict[str, list[psutil.Process]]) -> dict[str, float]:
    """Part -> CPU seconds (user + system) its processes have used so far; a process gone counts 0."""
    used = {}
    for part, found in processes.items():
        used[part] = 0.0
        for process in found:
            try:
                times = process.cpu_times()
                used[part] += times.user + times.system
            except psutil.NoSuchProcess:
                pass
    return used


def _hall_parts(script_pid: int) -> dict[str, list[psutil.Process]]:
    """The hall's processes by part: the replicas (their servers and workers), HAProxy, Redis."""
    parts: dict[str, list[psutil.Process]] = {"replicas": [], "HAProxy": [], "Redis": []}
    for process in psutil.Process(script_pid).children(recursive=True):
        command = " ".join(process.cmdline())
        part = "HAProxy" if "haproxy" in command else "Redis" if "redis-server" in command else \
            "replicas" if "python" in command else None
        if part:
            parts[part].append(process)
    return parts


def _hall_round(students: int, seconds: float) -> tuple[Round, dict[str, float], float]:
    """One room of ``students`` through 3 replicas: the round, each part's CPU seconds and the load generator's
    (this process), and the round's wall-clock seconds."""
    from harness.browser import replica_set

    with replica_set(3) as (url, script, _ports):
        parts = _hall_parts(script.pid)
        for _ in range(3):
            asyncio.run(_first_visit(url))
        wait_until_idle([p for found in parts.values() for p in found])
        parts = _hall_parts(script.pid)  # the map fitters the first visits started
        parts["load generator (this process)"] = [psutil.Process()]
        before, started = _cpu_seconds(parts), time.monotonic()
        result = one_round(url, students, seconds, with_room=True)
        after, wall = _cpu_seconds(parts), time.monotonic() - started
    return result, {part: after[part] - before[part] for part in after}, wall


HALL_STEPS = (100, 50)  # students: the hall, then half of it where the hall misses


def _hall(what: str, seconds: float = 40) -> Figure:
    """The hall at 100 students; where it misses, the CPU each part used says which limits, and smaller rooms
    say how far it goes."""
    cores = psutil.cpu_count()
    figure = None
    for students in HALL_STEPS:
        result, cpu, wall = _hall_round(students, seconds)
        delays, lost = staleness(result)
        met = bool(delays) and pct(delays, 95) <= TARGET_STALENESS_S and lost == 0 and pct(result.strokes, 95) <= 1.5
        value = (f"staleness p50 / p95 {pct(delays, 50):.2f} / {pct(delays, 95):.2f} s, {lost} of "
                 f"{len(result.last_sent)} last inputs missing, stroke p95 {pct(result.strokes, 95) * 1000:.0f} ms")
        busy = ", ".join(f"{part} {used / wall:.2f}" for part, used in cpu.items())
        print(f"  the hall with {students} students: {value}; cores busy on average ({cores} in all): {busy}",
              flush=True)
        if figure is None:
            figure = Figure(f"{what.replace('100 students', f'{students} students')}; cores busy on average "
                            f"(of {cores}): {busy}", value, "staleness p95 <= 2 s, nothing lost, stroke p95 <= 1.5 s",
                            met)
        if met:
            if students != HALL_STEPS[0]:
                figure = Figure(figure.what, f"{figure.value}; {students} students meet the targets: {value}",
                                figure.target, False)
            break
    return figure


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=40, help="measured seconds per round (after a ramp)")
    parser.add_argument("--no-hall", action="store_true", help="one server only: no 3 replicas and 100 students")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a SIGTERM stops the server it started, as Ctrl-C does
    from harness.report import markdown_table

    print(markdown_table(run(args.students, args.seconds, not args.no_hall)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
