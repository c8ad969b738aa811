"""The one place that chooses where models run: CUDA, then Apple MPS, then the CPU."""
from __future__ import annotations

import functools
import platform
import sys

import torch

from .messages import Message


@functools.cache
def pick_device() -> torch.device:
    """The best available device, chosen once per process."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device) -> Message:
    """A name for people: the GPU's model name, 'Apple MPS', or the CPU and its thread count (a ``Message``: the
    page shows it in the visitor's language)."""
    if device.type == "cuda":
        return Message("CUDA · {name}", name=torch.cuda.get_device_name(device))
    if device.type == "mps":
        return Message("Apple MPS")
    threads = torch.get_num_threads()
    if threads == 1:
        return Message("CPU · {machine} · 1 thread per call", machine=platform.machine())
    return Message("CPU · {machine} · {threads} threads per call", machine=platform.machine(), threads=threads)


def use_one_cpu_thread_per_call() -> None:
    """For serving: one intra-op thread per inference call.

    The app runs batches of a handful of images; with several threads per call, OpenMP's
    workers spin against each other and against other sessions' calls, and a ladder pass on a
    busy machine took far longer on two threads than on one. Parallelism comes from serving
    several sessions at once instead.
    """
    if pick_device().type == "cpu":
        torch.set_num_threads(1)


GIL_SWITCH_INTERVAL_S = 0.001  # Python's default is 0.005


def shorten_gil_switch_interval() -> None:
    """For serving: a thread that gave up the GIL gets it back within 1 ms instead of 5 ms.

    Each session's script runs in its own thread, and the server's event loop in another.
    Every call that gives up the GIL (a torch operator, hashing or compressing a picture, a
    socket send) must win it back from whichever thread is running Python, and waits up to
    the switch interval to do so; under a class's load those waits were most of a stroke's
    latency (``benchmarks/bench_load.py`` measures it; the README's Speed section has the figures).
    """
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
