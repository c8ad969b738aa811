"""The one-graph ladder against its would-be replacements: eager, TorchScript, torch.compile, torch.export.

    .venv/bin/python -m benchmarks.bench_graph

The server runs each family's ladder as one frozen TorchScript graph (``inference.compile_ladder``)
because eager PyTorch gives up the GIL at each operator and a loaded server's other sessions make
each hand-over wait. TorchScript is deprecated; this measures what would take its place, the way
``gpu_check.ladder_figures`` measures the graph: the conv ladder z = 2…64 on MNIST, one image, one
torch thread per call, alone and beside a busy Python thread at the server's switch interval; plus
the time each needs before its first fast call, and its largest difference from the eager models.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import torch

from ae_demo.device import GIL_SWITCH_INTERVAL_S
from ae_demo.inference import _LadderModule, compile_ladder, load_family, run_ladder
from ae_demo.zoo import load_verified_reference

from .gpu_check import beside_a_busy_thread, timed


def _prepared(name: str, models, example: torch.Tensor):
    """(compiled ladder, seconds to make it and run its first calls) for one way of making a graph."""
    started = time.perf_counter()
    if name == "TorchScript (the server's)":
        compiled = compile_ladder(models)
    elif name == "torch.compile (inductor)":
        compiled = torch.compile(_LadderModule(models).eval(), dynamic=False)
    elif name == "torch.export (.module())":
        with torch.no_grad():
            compiled = torch.export.export(_LadderModule(models).eval(), (example,)).module()
    else:
        raise ValueError(name)
    with torch.inference_mode():
        for _ in range(3):
            compiled(example)
    return compiled, time.perf_counter() - started


def main() -> int:
    torch.set_num_threads(1)  # as the app serves
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    images = load_verified_reference("mnist").images[:1].numpy().astype(np.float32) / 255.0
    models = load_family("mnist", "conv", torch.device("cpu"))
    eager = run_ladder(models, images).reconstructions
    example = torch.from_numpy(images).unsqueeze(1)
    print(f"torch {torch.__version__}, 1 thread, switch interval {GIL_SWITCH_INTERVAL_S * 1000:g} ms, conv ladder on mnist, one image")
    print(f"{'eager':28s} ready at once     alone {timed(models, images) * 1000:6.1f} ms   "
          f"beside a busy thread {beside_a_busy_thread(models, images) * 1000:6.1f} ms")
    for name in ("TorchScript (the server's)", "torch.compile (inductor)", "torch.export (.module())"):
        try:
            compiled, ready_s = _prepared(name, models, example)
        except Exception as error:  # noqa: BLE001 - a way that fails here is a figure too
            print(f"{name:28s} failed: {type(error).__name__}: {str(error).splitlines()[0][:120]}")
            continue
        diff = float(np.abs(run_ladder(models, images, compiled).reconstructions - eager).max())
        print(f"{name:28s} ready in {ready_s:6.1f} s  alone {timed(models, images, compiled=compiled) * 1000:6.1f} ms   "
              f"beside a busy thread {beside_a_busy_thread(models, images, compiled) * 1000:6.1f} ms   max |Δ| {diff:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
