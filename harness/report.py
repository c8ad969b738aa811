"""One row per measured figure, shared by the benchmarks and ``python -m benchmarks``'s one table."""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """A measured figure: what it is (and on which data), its value with its unit, the target, whether met."""

    what: str
    value: str
    target: str = ""
    met: bool | None = None     # None: a figure with no target


def markdown_table(figures: list[Figure]) -> str:
    """The figures as a Markdown table (the README's performance section is one)."""
    mark = {True: "yes", False: "**no**", None: ""}
    lines = ["| what | measured | target | met |", "|---|---|---|---|"]
    lines += [f"| {f.what} | {f.value} | {f.target} | {mark[f.met]} |" for f in figures]
    return "\n".join(lines)


def machine() -> str:
    """Cores, CPU model and the load average now: the figures mean little without them."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), load average {os.getloadavg()[0]:.1f}"
