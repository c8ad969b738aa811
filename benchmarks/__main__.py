"""Every benchmark in one run, then one table of the figures.

    .venv/bin/python -m benchmarks            # the full run (about 40 minutes on 2 cores)
    .venv/bin/python -m benchmarks --quick    # fewer load levels and strokes (about 20 minutes)

In turn: inference per ladder (CPU, and GPU when there is one: benchmarks/gpu_check.py), stroke
latency and page opens against the floor page on a fresh and a warm server (bench_canvas.py),
placement, map recompute and the map after the first reconstructions (bench_maps.py), and
capacity at the protocol level on one server and through HAProxy (bench_load.py), a class room of
30 students and its teacher on one server (bench_room.py), and a teacher's own pictures trained into
a dataset while another session draws (bench_own_data.py). Each prints
its own details as it goes; the table at the end, in Markdown with the date, the machine and
the command, is what the README's performance section shows.
"""
from __future__ import annotations

import argparse
import datetime
import signal
import sys

from harness.report import Figure, machine, markdown_table

from . import bench_canvas, bench_load, bench_maps, bench_own_data, bench_room, gpu_check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="load levels 1,10,20,30,40 for 25 s, 2 replicas, 6 strokes")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a SIGTERM stops the servers it started, as Ctrl-C does
    started = datetime.datetime.now(datetime.timezone.utc)
    at_start = machine()
    figures: list[Figure] = []
    sections = [("inference", gpu_check.ladder_figures),
                ("canvas", lambda: bench_canvas.run(strokes=6 if args.quick else 12)),
                ("maps", bench_maps.run),
                ("load", lambda: bench_load.run([1, 10, 20, 30, 40] if args.quick else [1, 5, 10, 20, 30, 50],
                                                25 if args.quick else 40, [2] if args.quick else [1, 2])),
                ("room", lambda: bench_room.run(30, 25 if args.quick else 40)),
                ("own data", lambda: bench_own_data.run(stroke_seconds=25 if args.quick else 40))]
    for name, measure in sections:
        print(f"\n=== {name} ===", flush=True)
        figures += measure()
    command = "python -m benchmarks" + (" --quick" if args.quick else "")
    print(f"\n{command}: {started:%Y-%m-%d %H:%M} UTC, {at_start} at the start, {machine()} at the end, "
          f"{(datetime.datetime.now(datetime.timezone.utc) - started).total_seconds() / 60:.0f} minutes\n")
    print(markdown_table(figures))
    return 0 if all(f.met is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
