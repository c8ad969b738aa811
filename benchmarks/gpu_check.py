"""Prove the CUDA path: every model on the GPU, the same outputs as on the CPU, and timings.

    .venv/bin/python benchmarks/gpu_check.py

(``ladder_figures`` gives ``python -m benchmarks`` its inference rows, on the CPU and the GPU.)

Prints, per dataset and family, the max absolute difference between CPU and GPU
reconstructions of the bundled held-out images (target <= 1e-4) and the time of one
ladder pass for a single image and for a batch of 256, on each device.
"""
from __future__ import annotations

import statistics
import sys

import numpy as np
import torch

from ae_demo.device import describe_device, pick_device
from ae_demo.inference import load_family, run_ladder
from ae_demo.zoo import FAMILIES, load_verified_reference, read_zoo
from harness.report import Figure


def timed(models, images, repeats: int = 20) -> float:
    run_ladder(models, images)  # warm-up (CUDA context, kernels)
    return statistics.median(run_ladder(models, images).seconds for _ in range(repeats))


def main() -> int:
    gpu = pick_device()
    print(f"device chosen: {describe_device(gpu)}; torch {torch.__version__}")
    if gpu.type != "cuda":
        print("no CUDA GPU here: nothing to prove")
        return 1
    worst = 0.0
    for dataset in ("mnist", "fashion"):
        images = load_verified_reference(dataset).images[:256].numpy().astype(np.float32) / 255.0
        for family in FAMILIES:
            if not read_zoo().latent_dims(dataset, family):
                continue
            on_cpu, on_gpu = load_family(dataset, family, torch.device("cpu")), load_family(dataset, family, gpu)
            assert all(m.device.type == "cuda" for m in on_gpu.values())
            diff = float(np.abs(run_ladder(on_cpu, images).reconstructions
                                - run_ladder(on_gpu, images).reconstructions).max())
            worst = max(worst, diff)
            print(f"{dataset:8s} {family:6s} max |cpu - gpu| = {diff:.2e}   one image: cpu "
                  f"{timed(on_cpu, images[:1]) * 1000:6.2f} ms, gpu {timed(on_gpu, images[:1]) * 1000:6.2f} ms   "
                  f"256 images: cpu {timed(on_cpu, images, 5) * 1000:7.1f} ms, gpu {timed(on_gpu, images, 5) * 1000:6.1f} ms")
    print(f"worst difference {worst:.2e} (target <= 1e-4): {'ok' if worst <= 1e-4 else 'FAILED'}")
    return 0 if worst <= 1e-4 else 1


def ladder_figures() -> list[Figure]:
    """Inference per ladder: the conv family's six models reconstructing one image (a stroke) and
    256, on the CPU as the server runs it (one torch thread per call), and on the GPU when there is one."""
    images = load_verified_reference("mnist").images[:256].numpy().astype(np.float32) / 255.0
    devices = [torch.device("cpu")] + ([pick_device()] if pick_device().type == "cuda" else [])
    figures = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the app serves (ae_demo.device.use_one_cpu_thread_per_call)
    try:
        for device in devices:
            models = load_family("mnist", "conv", device)
            one, batch = timed(models, images[:1]), timed(models, images, 5)
            figures.append(Figure(f"inference, conv ladder z = 2…64 on mnist, {describe_device(device)}: one image / 256",
                                  f"{one * 1000:.1f} ms / {batch * 1000:.0f} ms"))
    finally:
        torch.set_num_threads(threads)
    if len(devices) == 1:
        figures.append(Figure("the same on a GPU", "no CUDA GPU on this machine"))
    return figures


if __name__ == "__main__":
    sys.exit(main())
