"""Prove the CUDA path: every model on the GPU, the same outputs as on the CPU, and timings.

    .venv/bin/python benchmarks/gpu_check.py

(``ladder_figures`` gives ``python -m benchmarks`` its inference rows, on the CPU and the GPU.)

Prints, per dataset and family, the max absolute difference between CPU and GPU
reconstructions of the bundled held-out images (target <= 1e-4) and the time of one
ladder pass for a single image and for a batch of 256, on each device; then a teacher's 1,000 colour
pictures at 32x32 trained into a dataset with the networks on the GPU (target <= 1 minute).
"""
from __future__ import annotations

import statistics
import sys
import threading
import time

import numpy as np
import torch

from ae_demo.device import GIL_SWITCH_INTERVAL_S, describe_device, pick_device
from ae_demo.inference import compile_ladder, load_family, run_ladder
from ae_demo.zoo import FAMILIES, load_verified_reference, read_zoo
from harness.report import Figure


def timed(models, images, repeats: int = 20, compiled=None) -> float:
    run_ladder(models, images, compiled)  # warm-up (CUDA context, kernels)
    return statistics.median(run_ladder(models, images, compiled).seconds for _ in range(repeats))


def beside_a_busy_thread(models, image, compiled=None, seconds: float = 3.0) -> float:
    """Seconds per ladder pass of one image while another thread keeps Python busy, as other sessions'
    page scripts keep a loaded server busy (the GIL hand-over each pass must wait for)."""
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            sum(range(1000))

    other = threading.Thread(target=busy, daemon=True)
    other.start()
    try:
        passes, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            run_ladder(models, image, compiled)
            passes += 1
    finally:
        stop.set()
        other.join()
    return seconds / passes


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
    own = own_data_figure()
    print(f"{own.what}: {own.value} (target {own.target})")
    return 0 if worst <= 1e-4 and own.met is not False else 1


def ladder_figures() -> list[Figure]:
    """Inference per ladder: the conv family's six models reconstructing one image (a stroke) and
    256, as the server runs them (one TorchScript graph, ``inference.compile_ladder``; on the CPU one
    torch thread per call), on the CPU and on the GPU when there is one; and one image's pass beside a
    busy Python thread, eager against the graph, at Python's default switch interval and the server's."""
    images = load_verified_reference("mnist").images[:256].numpy().astype(np.float32) / 255.0
    devices = [torch.device("cpu")] + ([pick_device()] if pick_device().type == "cuda" else [])
    figures = []
    threads, interval = torch.get_num_threads(), sys.getswitchinterval()
    torch.set_num_threads(1)  # as the app serves (ae_demo.device.use_one_cpu_thread_per_call)
    try:
        on_cpu = None
        for device in devices:
            models = load_family("mnist", "conv", device)
            compiled = compile_ladder(models)
            on_cpu = on_cpu or (models, compiled)  # the CPU comes first
            one, batch = timed(models, images[:1], compiled=compiled), timed(models, images, 5, compiled)
            figures.append(Figure(f"inference, conv ladder z = 2…64 on mnist, {describe_device(device)}: one image / 256",
                                  f"{one * 1000:.1f} ms / {batch * 1000:.0f} ms"))
        models, compiled = on_cpu
        for switch in (0.005, GIL_SWITCH_INTERVAL_S):
            sys.setswitchinterval(switch)
            eager, graph = beside_a_busy_thread(models, images[:1]), beside_a_busy_thread(models, images[:1], compiled)
            figures.append(Figure(f"one image's conv ladder beside a busy Python thread, switch interval {switch * 1000:g} ms:"
                                  " eager / one graph", f"{eager * 1000:.0f} ms / {graph * 1000:.1f} ms"))
    finally:
        torch.set_num_threads(threads)
        sys.setswitchinterval(interval)
    if len(devices) == 1:
        figures.append(Figure("the same on a GPU", "no CUDA GPU on this machine"))
    figures.append(own_data_figure())
    return figures


def own_data_figure() -> Figure:
    """A teacher's 1,000 colour pictures at 32x32 (bench_own_data's generated shapes) from the ZIP's bytes
    to a usable dataset with the networks on the GPU (PCA and UMAP on the CPU); target <= 1 minute."""
    import os
    import tempfile
    from pathlib import Path

    from ae_demo.image_sets import read_image_set
    from ae_demo.own_training import build_dataset
    from benchmarks.bench_own_data import shapes_zip

    what = "own data: 1,000 colour pictures at 32x32 -> usable dataset, networks on the GPU"
    if pick_device().type != "cuda":
        return Figure(what, "not measured: no CUDA GPU on this machine", "<= 60 s")
    data = shapes_zip(1000, grey=False)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        found = read_image_set([("shapes.zip", data)], size=32, colour=True)
        build_dataset(found.images, found.labels, found.classes, "gpu shapes", "key", directory=Path(folder),
                      device="cuda")
        seconds = time.perf_counter() - started
    print(f"{what}: {seconds:.0f} s (pid {os.getpid()})")
    return Figure(what, f"{seconds:.0f} s", "<= 60 s", seconds <= 60)


if __name__ == "__main__":
    sys.exit(main())
