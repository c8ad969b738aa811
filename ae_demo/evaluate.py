"""Held-out reconstruction error of every pretrained model of a dataset, beside PCA of the same size.

    python -m ae_demo.evaluate --dataset mnist [--data-dir DIR] [--json] [--copying]

The lesson's sparse nets (``zoo.LESSON_FAMILIES``) have no PCA of their size (196, 1,000):
their rows give their error beside the ladder's, no ratio, and their mean hidden activation.

The held-out images are the 2,000 digits of mnist-10k's fixed split (i % 5 == 0) or the
10,000 Fashion-MNIST test images: from ``--data-dir`` when given, else from the known offline
folders, else from the identical copies bundled in ``pretrained/samples``.

``--copying`` adds the unconstrained net's test (``identity.copy_errors``): the SSE of the
unconstrained 1,000-unit net, the z = 32 bottleneck and the sparse 1,000-unit net on the
held-out images and on each kind of non-member (drawn letters, pure noise, the other dataset).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from .data import PRETRAINED_DIR, Split, load_split, to_unit
from .datasets import names
from .identity import PROBE_KINDS, copy_errors
from .maps import load_map, placement_accuracy
from .metrics import heldout_errors, mean_activation, sse_per_image
from .models import SparseAutoencoder
from .zoo import LADDER_FAMILIES, ZooError, cards, load_model, load_verified_reference, model_name, read_zoo


def heldout_split(dataset: str, data_dir: Path | None = None, directory: Path = PRETRAINED_DIR) -> Split:
    """The held-out split: ``data_dir``, else an offline folder, else the bundled sample."""
    try:
        return load_split(dataset, "test", data_dir, download=False)
    except FileNotFoundError:
        if data_dir is not None:
            raise
        return load_verified_reference(dataset, directory)


def map_placement_accuracy(name: str, directory: Path = PRETRAINED_DIR) -> float | None:
    """Leave-one-out placement accuracy on the model's default map (see maps.placement_accuracy); None: no map."""
    has_map = name in read_zoo(directory).maps
    return round(placement_accuracy(load_map(name, directory)), 4) if has_map else None


@torch.inference_mode()
def evaluate(dataset: str, images: torch.Tensor, directory: Path = PRETRAINED_DIR,
             limit: int | None = None, with_maps: bool = True) -> list[dict]:
    """One row per network of ``dataset``: its held-out SSE and PSNR beside PCA's at the same size.

    images: (N, 28, 28) uint8; ``limit`` keeps the first N (quick checks). With ``with_maps``,
    also the share of the map's reference images that land among their own class
    (``placement_accuracy``, on the bundled reference sample). Rows of the lesson's sparse
    nets hold None for PCA's figures and the map's, and their ``mean_activation``.
    """
    x = to_unit(images[:limit])
    rows, pca_cache = [], {}
    for card in cards(dataset, directory):
        if card.family == "pca":
            continue
        model = load_model(card.name, directory)
        sse, mean_psnr = heldout_errors(model, x)
        row = {"model": card.name, "family": card.family, "dataset": dataset, "latent_dim": card.latent_dim,
               "n_images": len(x), "sse_per_image": round(sse, 4), "psnr_db": round(mean_psnr, 2),
               "pca_sse_per_image": None, "ratio_to_pca": None, "parameters": card.parameters}
        ladder = card.family in LADDER_FAMILIES
        if ladder:
            pca = model_name("pca", card.latent_dim, dataset)
            if pca not in pca_cache:
                pca_cache[pca] = sse_per_image(load_model(pca, directory), x)
            row.update(pca_sse_per_image=round(pca_cache[pca], 4), ratio_to_pca=round(sse / pca_cache[pca], 4))
        if isinstance(model, SparseAutoencoder):
            row["mean_activation"] = round(mean_activation(model, x), 4)
        if with_maps:
            row["placement_accuracy"] = map_placement_accuracy(card.name, directory) if ladder else None
        rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    """The rows as a text table; a figure a row does not have (PCA's for the sparse nets) is "-"."""
    header = (f"{'model':21s} {'latent':>6s} {'images':>7s} {'SSE/image':>10s} {'PCA SSE':>9s} {'ratio':>6s} "
              f"{'PSNR dB':>8s} {'map kNN':>8s} {'mean act':>8s}")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r['model']:21s} {r['latent_dim']:6d} {r['n_images']:7d} {r['sse_per_image']:10.3f} "
                     f"{_number(r['pca_sse_per_image'], '9.3f')} {_number(r['ratio_to_pca'], '6.3f')} "
                     f"{r['psnr_db']:8.2f} {_percent(r.get('placement_accuracy')):>8s} "
                     f"{_number(r.get('mean_activation'), '8.4f')}")
    return "\n".join(lines)


def format_copying_table(rows: list[dict]) -> str:
    """``copy_errors`` rows (``CopyErrors.as_row``) as a text table of mean SSE per image."""
    header = f"{'model':21s} {'held-out':>9s} " + " ".join(f"{kind:>9s}" for kind in PROBE_KINDS)
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r['model']:21s} {r['heldout_sse']:9.2f} "
                     + " ".join(f"{r[f'{kind}_sse']:9.2f}" for kind in PROBE_KINDS))
    counts = rows[0] if rows else {}
    lines.append(f"(mean SSE per image; held-out: {counts.get('n_heldout')} images, "
                 + ", ".join(f"{kind}: {counts.get(f'n_{kind}')}" for kind in PROBE_KINDS) + ")")
    return "\n".join(lines)


def _number(value: float | None, spec: str) -> str:
    return f"{'-':>{spec.split('.')[0]}s}" if value is None else format(value, spec)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ae_demo.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=names(), required=True)
    parser.add_argument("--data-dir", type=Path, help="folder of IDX .gz files holding the held-out split")
    parser.add_argument("--dir", type=Path, default=PRETRAINED_DIR, help="folder holding manifest.json")
    parser.add_argument("--limit", type=int, help="evaluate only the first N held-out images")
    parser.add_argument("--json", action="store_true", help="print one JSON list, one object per model")
    parser.add_argument("--no-maps", action="store_true", help="skip the map placement figure")
    parser.add_argument("--copying", action="store_true",
                        help="only the unconstrained net's test: its SSE and two constrained nets' on held-out "
                             "images, drawn letters, pure noise and the other dataset")
    args = parser.parse_args(argv)
    try:
        split = heldout_split(args.dataset, args.data_dir, args.dir)
        if args.copying:
            rows = [e.as_row() for e in copy_errors(args.dataset, split.images[:args.limit], args.dir)]
        else:
            rows = evaluate(args.dataset, split.images, args.dir, args.limit, with_maps=not args.no_maps)
    except (ZooError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(f"{args.dataset}: held-out images from {split.source}")
        print((format_copying_table if args.copying else format_table)(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
