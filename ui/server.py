"""The server process itself: its process-wide settings, made once and on purpose, and which replica it is.

``configure_process`` runs first in the warm start (``ui.warm_start``, app.py's lifespan), before
the first visitor, and first in every page run (a no-op after the first call), so that a page run
without the lifespan (Streamlit's AppTest, a server started another way) serves the same way.
Importing a ``ui`` module changes nothing in the process.
"""
from __future__ import annotations

import functools
import os

import streamlit as st

from ae_demo.device import shorten_gil_switch_interval, use_one_cpu_thread_per_call
from ae_demo.memory import map_large_blocks_directly


@functools.cache
def configure_process() -> None:
    """Once per process: torch on one thread per call, a 1 ms GIL switch interval, and glibc's large blocks
    mapped on their own so that sessions' photos and pictures go back to the system when freed
    (``ae_demo.device``, ``ae_demo.memory`` say why and which benchmark measured each)."""
    use_one_cpu_thread_per_call()
    shorten_gil_switch_interval()
    map_large_blocks_directly()


def replica_id() -> str:
    """Which server process serves this page: ``AE_DEMO_REPLICA`` (set by deploy/replicas.sh), else its port."""
    return os.environ.get("AE_DEMO_REPLICA") or str(st.get_option("server.port"))
