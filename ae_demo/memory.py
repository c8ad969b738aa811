"""Give back the memory of closed sessions without a full garbage collection after every run.

Streamlit can run ``gc.collect()`` after each script run (``runner.postScriptGC``); in this
server that walked ~290,000 long-lived objects (torch, Plotly, the models, the maps) and held the
GIL for ~0.25 s after every stroke, so it is off in ``.streamlit/config.toml``. Without it, what
a closed session leaves in reference cycles waits for Python's rare full collections, and the
resident memory of a server that saw a class of twenty did not come back.

Instead: once the server has loaded what it shares, ``gc.freeze()`` moves those objects out of
the collector's sight for good, and a daemon thread runs a full collection every few seconds,
which then only walks what sessions made since (~15 ms). After each collection, glibc is asked to
hand the pages it holds free back to the system (``malloc_trim``): the freed objects of a class's
twenty sessions are scattered over the allocator's per-thread arenas, and without the trim the
resident size stayed up by a varying 100-400 MB after they closed. This module does not import
streamlit.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import threading
import time
from dataclasses import dataclass, field

COLLECT_EVERY_S = 10.0


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def give_back_free_memory() -> bool:
    """Return the C allocator's free pages to the system (glibc); False where that cannot be done.
    A ctypes call: it runs without the GIL."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@dataclass
class Collector:
    """A running collector; ``collections`` counts its full collections, ``last_ms`` the latest one's time."""

    every_s: float
    frozen: int = 0
    collections: int = 0
    last_ms: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def run(self) -> None:
        while not self._stop.wait(self.every_s):
            started = time.perf_counter()
            gc.collect()
            give_back_free_memory()
            self.last_ms = (time.perf_counter() - started) * 1000
            self.collections += 1

    def stop(self) -> None:
        self._stop.set()


def freeze_and_collect(every_s: float = COLLECT_EVERY_S) -> Collector:
    """Collect once, freeze every object alive now (the server's shared, long-lived ones), then collect
    fully every ``every_s`` seconds in a daemon thread. Call once per process, after the shared loads."""
    gc.collect()
    gc.freeze()
    collector = Collector(every_s, frozen=gc.get_freeze_count())
    threading.Thread(target=collector.run, name="ae-demo-gc", daemon=True).start()
    return collector
