"""Give back the memory of closed sessions without a full garbage collection after every run.

Streamlit can run ``gc.collect()`` after each script run (``runner.postScriptGC``); in this
server that walked every long-lived object (torch, Plotly, the models, the maps) and held the
GIL for a large part of a stroke after every one (the README's Speed section), so it is off in ``.streamlit/config.toml``. Without it, what
a closed session leaves in reference cycles waits for Python's rare full collections, and the
resident memory of a server that saw a class of twenty did not come back.

Instead: once the server has loaded what it shares, ``gc.freeze()`` moves those objects out of
the collector's sight for good, and a daemon thread runs a full collection every few seconds,
which then only walks what sessions made since. After each collection, glibc is asked to
hand the pages it holds free back to the system (``malloc_trim``): the freed objects of a class's
twenty sessions are scattered over the allocator's per-thread arenas, and without the trim the
resident size stayed up by a varying amount after they closed (tests/test_soak.py measures it).

Most of what a session takes is large, short-lived buffers: an uploaded photo's bytes, its decoded
pixels, the pictures a run encodes. glibc's malloc serves a block of 128 KB or more with its own
``mmap`` (given back to the system on ``free``), but raises that threshold to the size of each such
block freed, up to 32 MB (glibc's documented maximum on 64-bit systems); after a few photos, every later one was carved out of the heap between
small long-lived objects, and its pages stayed with the process after it was freed
(``malloc_trim`` cannot return a page that a live object shares). ``map_large_blocks_directly``
fixes the threshold at 1 MiB instead; tests/test_soak.py measures what a class of sessions with a
photo each takes and leaves (the README's memory paragraph has the figures).
This module does not import streamlit.
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
def _glibc(name: str):
    """The C library's function ``name`` (``malloc_trim``, ``mallopt``: glibc's), or None where it has none
    (macOS, musl)."""
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):
        return None


_M_MMAP_THRESHOLD = -3             # mallopt's parameter number, from glibc's <malloc.h>
LARGE_BLOCK_BYTES = 1 << 20        # blocks this large or larger get their own mapping


def map_large_blocks_directly(threshold_bytes: int = LARGE_BLOCK_BYTES) -> bool:
    """Make glibc serve every block of ``threshold_bytes`` or more with its own ``mmap``, so that freeing it
    gives its pages back to the system at once (and stop glibc from raising that threshold as it goes).
    Process-wide; call once, early. False where the C library has no ``mallopt`` (macOS, musl)."""
    mallopt = _glibc("mallopt")
    return mallopt is not None and bool(mallopt(_M_MMAP_THRESHOLD, threshold_bytes))


def give_back_free_memory() -> bool:
    """Return the C allocator's free pages to the system (glibc); False where that cannot be done.
    A ctypes call: it runs without the GIL."""
    trim = _glibc("malloc_trim")
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
