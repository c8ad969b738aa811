"""ae_demo.memory: what the server shares is frozen once; what sessions leave in cycles is collected in the background."""
from __future__ import annotations

import gc
import time
import weakref

from ae_demo.memory import freeze_and_collect


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
    import platform

    import psutil

    from ae_demo.memory import give_back_free_memory

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        assert give_back_free_memory() in (True, False)
        return
    blocks = [bytearray(64 * 1024) for _ in range(4000)]  # ~250 MB in blocks below mmap's threshold: the heap
    held = psutil.Process().memory_info().rss
    del blocks[:-1]  # the newest block stays on top of the heap, so the heap cannot shrink by itself
    assert give_back_free_memory()
    assert psutil.Process().memory_info().rss < held - 100 * 2**20
