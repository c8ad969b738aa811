"""The one place that chooses where models run: CUDA, then Apple MPS, then the CPU."""
from __future__ import annotations

import functools
import platform

import torch


@functools.cache
def pick_device() -> torch.device:
    """The best available device, chosen once per process."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device) -> str:
    """A name for people: the GPU's model name, 'Apple MPS', or the CPU and its thread count."""
    if device.type == "cuda":
        return f"CUDA · {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU · {platform.machine()} · {torch.get_num_threads()} threads"
