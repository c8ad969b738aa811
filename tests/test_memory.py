"""ae_demo.memory: what the server shares is frozen once; what sessions leave in cycles is collected in the background."""
from __future__ import annotations

import gc
import platform
import time
import weakref

import pytest

from ae_demo.memory import freeze_and_collect

ON_GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"  # the allocator these tests are about


class _Node:
    def __init__(self):
        self.other = self


def test_objects_made_before_are_frozen_and_cycles_made_after_are_collected():
    before = _Node()
    collector = freeze_and_collect(every_s=0.05)
    try:
        # a frozen object that loses its last reference is still freed (and leaves the count), so the count
        # may have dropped by the few that other threads let go of since
        assert collector.frozen > 1000 and 0.99 * collector.frozen <= gc.get_freeze_count() <= collector.frozen
        frozen_ref = weakref.ref(before)
        del before
        gc.disable()   # only the collector's full collections may free the cycle below
        try:
            cycle = _Node()
            later_ref = weakref.ref(cycle)
            del cycle
            deadline = time.monotonic() + 5
            while later_ref() is not None and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            gc.enable()
        assert later_ref() is None and collector.collections >= 1   # made after the freeze: collected
        assert frozen_ref() is not None                              # frozen: never looked at again
    finally:
        collector.stop()
        gc.unfreeze()


def test_free_pages_go_back_to_the_system_where_glibc_can():
    import psutil

    from ae_demo.memory import give_back_free_memory

    if not ON_GLIBC:
        assert give_back_free_memory() in (True, False)
        return
    blocks = [bytearray(64 * 1024) for _ in range(4000)]  # ~250 MB in blocks below mmap's threshold: the heap
    held = psutil.Process().memory_info().rss
    del blocks[:-1]  # the newest block stays on top of the heap, so the heap cannot shrink by itself
    assert give_back_free_memory()
    assert psutil.Process().memory_info().rss < held - 100 * 2**20


# Photos and pictures freed between small objects that stay: how much of them goes back to the system at once.
_FREED_BETWEEN_KEPT_OBJECTS = """
import sys
import psutil
if sys.argv[1] == "served":
    import ui.server; ui.server.configure_process()  # what the warm start does: the allocator set up for serving
del_me = bytearray(8 * 2**20); del del_me  # as after the first photo: glibc's own threshold now exceeds 2 MB
large, kept = [], []
for _ in range(100):
    large.append(bytearray(2 * 2**20))   # a photo's bytes, a decoded picture
    kept.append(bytearray(2000))         # what the run keeps: a cache entry, a session's state
held = psutil.Process().memory_info().rss
del large
print((held - psutil.Process().memory_info().rss) / 2**20)
"""


def _returned_mb(how: str) -> float:
    import subprocess
    import sys

    return float(subprocess.run([sys.executable, "-c", _FREED_BETWEEN_KEPT_OBJECTS, how], capture_output=True,
                                text=True, check=True, timeout=120).stdout)


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
def test_the_served_app_gives_large_freed_blocks_back_at_once():
    """The server's set-up (ui.server.configure_process) fixes glibc's mmap threshold at 1 MiB (memory.map_large_blocks_directly): 200 MB of 2 MB
    blocks, freed while small objects made between them stay, go back to the system without a trim; in a
    process left to glibc's sliding threshold they stay with it (which is what kept a closed class's memory)."""
    if not ON_GLIBC:
        pytest.skip("glibc's allocator only")
    assert _returned_mb("served") > 180
    assert _returned_mb("plain") < 50
