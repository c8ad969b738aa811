"""The classroom demos' figures: live training, denoising, and how unusual an input is.

    .venv/bin/python benchmarks/bench_demos.py                 # all three
    .venv/bin/python benchmarks/bench_demos.py live denoise    # some

live:    seconds from Start until the 8 fixed unseen reconstructions reach a mean SSE of 20
         at z = 32 (the child process on one torch thread at nice 10, start-up included), three
         seeds, with the child's CPU time; and one stroke's ladder pass in this process (torch on
         one thread, as the app serves), idle and while a live run trains, alternating, three rounds.
denoise: held-out SSE against the clean digits of conv_z32_mnist and dae_z32_mnist at
         σ = 0.1 … 0.5 (the first 200 held-out digits, as the page computes it).
anomaly: on the digits models, the median percentile of held-out digits never in the
         reference (expected near 50) and of each generated non-digit category, and the
         ROC AUC of every conv size, recomputed from the weights; for contrast, the AUC when
         the reference errors are those of raw held-out digits, not preprocessed like the inputs.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ae_demo.anomaly import CHECK_IMAGES, QUANTILE_LEVELS, UNUSUAL_PERCENTILE, reconstruction_errors  # noqa: E402
from ae_demo.anomaly_builder import compute_references, non_member_images, roc_auc  # noqa: E402
from ae_demo.corruption import denoising_curve  # noqa: E402
from ae_demo.inference import load_family, run_ladder  # noqa: E402
from ae_demo.live_training import LiveTrainer  # noqa: E402
from ae_demo.zoo import load_model, load_verified_reference, model_name  # noqa: E402

TARGET_SSE = 20.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _time_to_target(trainer: LiveTrainer, seed: int) -> tuple[float, float, int, float]:
    """One live run at z = 32 until the 8 shown images' mean SSE <= TARGET_SSE, then stopped: seconds
    from Start to the first snapshot, seconds from Start to the target, epochs, and the CPU seconds
    the child had used by then (read within 50 ms of the epoch's end)."""
    run = trainer.start(32, seed=seed)
    first = None
    while True:
        snapshot = trainer.snapshot()
        if snapshot.epoch_times is not None and first is None:
            first = snapshot.epoch_times[0] - run.started_at
        if snapshot.shown_sse is not None and (snapshot.shown_sse <= TARGET_SSE).any():
            cpu = _cpu_seconds(run.pid)
            epoch = int(np.argmax(snapshot.shown_sse <= TARGET_SSE))
            trainer.stop()
            return first, snapshot.epoch_times[epoch] - run.started_at, epoch, cpu
        if not snapshot.running:
            raise RuntimeError(f"the run ended ({snapshot.state}) before SSE {TARGET_SSE}: {snapshot.error}")
        time.sleep(0.05)


def _stroke_ms(models, image: np.ndarray, repeats: int = 40) -> float:
    times = [run_ladder(models, image).seconds for _ in range(repeats)]
    return statistics.median(times) * 1000


def live() -> None:
    trainer = LiveTrainer()
    rows = [_time_to_target(trainer, seed) for seed in (0, 1, 2)]
    print(f"live z=32 (machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    for seed, (first, target, epochs, cpu) in enumerate(rows):
        print(f"  seed {seed}: first snapshot {first:.1f} s after Start (process start, torch import, data); "
              f"SSE <= {TARGET_SSE:g} after epoch {epochs}, {target:.1f} s after Start; the child's CPU time by "
              f"then {cpu:.1f} s")
    print(f"  median {statistics.median(r[1] for r in rows):.1f} s from Start to the 8 reconstructions at "
          f"SSE <= {TARGET_SSE:g} ({statistics.median(r[1] - r[0] for r in rows):.1f} s of it training); "
          f"median CPU time {statistics.median(r[3] for r in rows):.1f} s, about what it takes on a free core")

    torch.set_num_threads(1)
    models = load_family("mnist", "conv", torch.device("cpu"))
    image = load_verified_reference("mnist").images[:1].numpy().astype(np.float32) / 255.0
    _stroke_ms(models, image, 5)
    idle, busy = [], []
    for seed in range(3):   # alternating, so the machine's other load drifts over both alike
        idle.append(_stroke_ms(models, image))
        trainer.start(32, seed=10 + seed)
        while trainer.snapshot().epoch < 1:     # training proper, not the child's import
            time.sleep(0.05)
        busy.append(_stroke_ms(models, image))
        still_training = trainer.snapshot().state == "training"
        trainer.close()
        if not still_training:
            print("  (the run ended before the strokes were timed: the figure below is not while training)")
    print(f"stroke (conv ladder, one image, one thread, median of 40, three rounds): idle "
          f"{' / '.join(f'{ms:.1f}' for ms in idle)} ms, while a live run trains "
          f"{' / '.join(f'{ms:.1f}' for ms in busy)} ms")


def denoise() -> None:
    started = time.perf_counter()
    torch.set_num_threads(1)
    curve = denoising_curve("mnist")
    seconds = time.perf_counter() - started
    print(f"denoising, mnist, first {curve.n_images} held-out digits, SSE against the clean image "
          f"(computed in {seconds:.1f} s on one thread):")
    print(f"{'sigma':>6s} {'noisy input':>12s} {'conv_z32':>9s} {'dae_z32':>8s}")
    for sigma, noisy, plain, denoised in zip(curve.sigmas, curve.corrupted_sse, curve.plain_sse, curve.denoised_sse):
        print(f"{sigma:6.1f} {noisy:12.2f} {plain:9.2f} {denoised:8.2f}")


def anomaly() -> None:
    torch.set_num_threads(1)
    fresh = compute_references("mnist", progress=lambda line: None)
    best = fresh["default_latent_dim"]
    chosen = fresh["models"][str(best)]
    print(f"anomaly, digits: default z = {best} (best mean AUC {chosen['auc']:.3f}); held-out digits never in the "
          f"reference ({fresh['check']}): median percentile {chosen['check_median_percentile']:.1f}")
    generated = non_member_images("mnist")
    default_model = load_model(model_name("conv", best, "mnist"))
    errors = np.concatenate([reconstruction_errors(default_model, images)[1] for images in generated.values()])
    pooled = np.interp(errors, chosen["quantiles"], QUANTILE_LEVELS)
    print(f"  non-digits ({sum(fresh['non_members'].values())} generated: {fresh['non_members']}): median percentile "
          f"{np.median(pooled):.1f}, {100 * np.mean(pooled >= UNUSUAL_PERCENTILE):.0f} % of them at or above "
          f"{UNUSUAL_PERCENTILE:g}; per category {chosen['non_member_median_percentile']}")
    print(f"{'z':>3s} {'AUC':>6s} {'letters':>8s} {'faces':>6s} {'noise':>6s} {'fashion':>8s} {'held-out median':>16s}"
          f" {'AUC vs raw':>11s}")
    raw = load_verified_reference("mnist").images.numpy()[1::2][:CHECK_IMAGES].astype(np.float32) / 255.0
    for z, entry in fresh["models"].items():
        model = load_model(model_name("conv", int(z), "mnist"))
        raw_sse = reconstruction_errors(model, raw)[1]
        raw_auc = np.mean([roc_auc(raw_sse, reconstruction_errors(model, images)[1]) for images in generated.values()])
        auc = entry["category_auc"]
        print(f"{z:>3s} {entry['auc']:6.3f} {auc['letters']:8.3f} {auc['faces']:6.3f} {auc['noise']:6.3f} "
              f"{auc['fashion']:8.3f} {entry['check_median_percentile']:16.1f} {raw_auc:11.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    demos = {"live": live, "denoise": denoise, "anomaly": anomaly}
    parser.add_argument("demos", nargs="*", help=f"some of {', '.join(demos)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.demos) - set(demos)
    if unknown:   # not argparse's choices: with nargs="*" it refuses an empty list
        parser.error(f"unknown demo(s) {', '.join(sorted(unknown))}; choose from {', '.join(demos)}")
    for name in args.demos or demos:
        demos[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
