"""The pretrained zoo: weights in safetensors, one card (``pretrained/manifest.json``), checksums.

A model is one ``<name>-<sha256 prefix>.safetensors`` file; its card entry holds the name,
dataset, family, architecture config, ``latent_dim``, file, full sha256, parameter count,
training recipe and held-out metrics. Loading verifies the sha256 first and names the file
when it does not match, as torchvision's weights registry does.

Run ``python -m ae_demo.zoo check [--dir DIR]`` to verify every file and load every model.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .data import DATASETS, PRETRAINED_DIR, Split, load_reference, load_split, reference_paths, sha256_of, write_idx
from .models import Autoencoder, ModelConfig, build_model, count_parameters

MANIFEST_NAME = "manifest.json"
FAMILIES = {  # family -> what the app calls it; a family is an architecture plus a training regime
    "conv": "Convolutional",
    "dense": "Dense (fully connected)",
    "vae": "Variational (VAE)",
    "dae": "Denoising (conv)",
    "pca": "PCA (linear baseline)",
    "sparse": "Sparse (UFLDL, 1 hidden layer)",
    "nosparse": "Same net, no sparsity (β = 0)",
}
# The UFLDL lesson's one-hidden-layer sigmoid nets (196 or 1,000 hidden units): not a step of
# the bottleneck ladder, so no PCA twin of their size and no latent map.
LESSON_FAMILIES = ("sparse", "nosparse")
# The bottleneck networks: each has a PCA model of its latent size and a default latent map.
LADDER_FAMILIES = tuple(f for f in FAMILIES if f != "pca" and f not in LESSON_FAMILIES)


class ZooError(Exception):
    """A pretrained file is missing, altered or unreadable; the message names the file."""


@dataclass(frozen=True)
class ModelCard:
    """One manifest entry, read-only."""

    name: str
    dataset: str
    family: str
    config: ModelConfig
    file: str
    sha256: str
    parameters: int
    recipe: dict
    training: dict
    metrics: dict

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @classmethod
    def from_entry(cls, entry: dict) -> "ModelCard":
        return cls(name=entry["name"], dataset=entry["dataset"], family=entry["family"],
                   config=ModelConfig.from_dict(entry["config"]), file=entry["file"], sha256=entry["sha256"],
                   parameters=entry["parameters"], recipe=entry.get("recipe", {}),
                   training=entry.get("training", {}), metrics=entry.get("metrics", {}))


def model_name(family: str, latent_dim: int, dataset: str) -> str:
    return f"{family}_z{latent_dim}_{dataset}"


def read_manifest(directory: Path = PRETRAINED_DIR) -> dict:
    path = Path(directory) / MANIFEST_NAME
    if not path.exists():
        return {"models": {}, "samples": {}}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ZooError(f"{path} is not valid JSON ({error})") from error


def write_manifest(manifest: dict, directory: Path = PRETRAINED_DIR) -> None:
    path = Path(directory) / MANIFEST_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)  # atomic: a reader never sees half a card


@contextlib.contextmanager
def editing_manifest(directory: Path = PRETRAINED_DIR):
    """Read, change and write the card under an exclusive lock, so two writers (training and
    map-making, say) never lose each other's entries."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".manifest.lock", "w") as lock:
        try:
            import fcntl  # POSIX; elsewhere one writer at a time is up to the user

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:
            pass
        manifest = read_manifest(directory)
        manifest.setdefault("models", {})
        manifest.setdefault("samples", {})
        manifest.setdefault("maps", {})
        yield manifest
        write_manifest(manifest, directory)


def cards(dataset: str | None = None, directory: Path = PRETRAINED_DIR) -> list[ModelCard]:
    """Every model card, optionally of one dataset, ordered by family then latent size."""
    found = [ModelCard.from_entry(e) for e in read_manifest(directory)["models"].values()]
    found = [c for c in found if dataset is None or c.dataset == dataset]
    return sorted(found, key=lambda c: (c.dataset, list(FAMILIES).index(c.family), c.latent_dim))


def verify_file(path: Path, sha256: str) -> None:
    """Raise ZooError naming ``path`` when it is missing or its sha256 differs from the card's."""
    if not path.exists():
        raise ZooError(f"{path}: file missing (the manifest lists it)")
    actual = sha256_of(path)
    if actual != sha256:
        raise ZooError(f"{path}: sha256 {actual[:12]}… does not match the manifest's {sha256[:12]}…")


def load_model(name: str, directory: Path = PRETRAINED_DIR, device: torch.device | str = "cpu") -> Autoencoder:
    """Rebuild the named pretrained model from its card, check its file, load its weights, eval mode."""
    entry = read_manifest(directory)["models"].get(name)
    if entry is None:
        raise ZooError(f"{Path(directory) / MANIFEST_NAME}: no model named {name!r}")
    card = ModelCard.from_entry(entry)
    path = Path(directory) / card.file
    verify_file(path, card.sha256)
    model = build_model(card.config)
    try:
        model.load_state_dict(load_file(path))
    except Exception as error:  # safetensors raises several types for a damaged file
        raise ZooError(f"{path}: cannot load weights ({error})") from error
    return model.to(device).eval()


STORAGE_DTYPE = torch.float16  # halves the repository; the models compute in float32 after loading


def round_to_storage_precision(model: Autoencoder) -> Autoencoder:
    """Round ``model``'s float weights, in place, to what ``save_model`` stores, so it equals its reload."""
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(tensor.to(STORAGE_DTYPE))
    return model


def save_model(model: Autoencoder, name: str, dataset: str, family: str, recipe: dict, training: dict,
               metrics: dict, directory: Path = PRETRAINED_DIR) -> ModelCard:
    """Write the weights (float tensors as float16) and their card entry; remove this name's old file."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f"{name}.safetensors.tmp"
    state = {k: (v.to(STORAGE_DTYPE) if v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in model.state_dict().items()}
    save_file(state, tmp, metadata={"config": model.config.to_json(), "name": name})
    sha = sha256_of(tmp)
    file = f"{name}-{sha[:8]}.safetensors"
    tmp.replace(directory / file)
    entry = {"name": name, "dataset": dataset, "family": family, "architecture": model.config.architecture,
             "config": json.loads(model.config.to_json()), "latent_dim": model.config.latent_dim,
             "file": file, "sha256": sha, "file_bytes": (directory / file).stat().st_size,
             "parameters": count_parameters(model), "recipe": recipe, "training": training, "metrics": metrics}
    with editing_manifest(directory) as manifest:
        old = manifest["models"].get(name)
        if old and old["file"] != file and (directory / old["file"]).exists():
            (directory / old["file"]).unlink()
        manifest["models"][name] = entry
    return ModelCard.from_entry(entry)


def load_verified_reference(dataset: str, directory: Path = PRETRAINED_DIR) -> Split:
    """The bundled held-out sample of ``dataset``, after checking its files against the card."""
    sample = read_manifest(directory)["samples"].get(dataset)
    if sample is None:
        raise ZooError(f"{Path(directory) / MANIFEST_NAME}: no reference sample for {dataset!r}")
    samples_dir = Path(directory) / "samples"
    for path, key in zip(reference_paths(dataset, samples_dir), ("images_sha256", "labels_sha256")):
        verify_file(path, sample[key])
    return load_reference(dataset, samples_dir)


def bundle_reference(dataset: str, data_dir: Path | None = None, directory: Path = PRETRAINED_DIR) -> dict:
    """Copy ``dataset``'s whole held-out split into ``<directory>/samples`` as IDX .gz and card it."""
    split = load_split(dataset, "test", data_dir, download=False)
    samples_dir = Path(directory) / "samples"
    samples_dir.mkdir(parents=True, exist_ok=True)
    images_path, labels_path = reference_paths(dataset, samples_dir)
    write_idx(images_path, split.images.numpy())
    write_idx(labels_path, split.labels.numpy())
    entry = {"images": images_path.name, "labels": labels_path.name, "n_images": len(split.labels),
             "images_sha256": sha256_of(images_path), "labels_sha256": sha256_of(labels_path),
             "source": split.source, "attribution": DATASETS[dataset].attribution}
    with editing_manifest(directory) as manifest:
        manifest["samples"][dataset] = entry
    return entry


def check(directory: Path = PRETRAINED_DIR) -> list[str]:
    """Verify every checksum and load every model; return one line per thing checked."""
    directory = Path(directory)
    lines = []
    manifest = read_manifest(directory)
    for dataset in sorted(manifest["samples"]):
        split = load_verified_reference(dataset, directory)
        lines.append(f"ok  sample {dataset}: {len(split.labels)} images")
    for card in cards(directory=directory):
        model = load_model(card.name, directory)
        if count_parameters(model) != card.parameters:
            raise ZooError(f"{directory / card.file}: {count_parameters(model)} parameters, card says {card.parameters}")
        lines.append(f"ok  {card.name}: {card.file}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ae_demo.zoo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check_parser = sub.add_parser("check", help="verify every checksum and load every model")
    check_parser.add_argument("--dir", type=Path, default=PRETRAINED_DIR, help="folder holding manifest.json")
    bundle_parser = sub.add_parser("bundle", help="copy a dataset's held-out split into pretrained/samples")
    bundle_parser.add_argument("--dataset", choices=sorted(DATASETS), required=True)
    bundle_parser.add_argument("--data-dir", type=Path, help="folder of IDX .gz files (default: known folders)")
    bundle_parser.add_argument("--dir", type=Path, default=PRETRAINED_DIR, help="folder holding manifest.json")
    args = parser.parse_args(argv)
    if args.command == "bundle":
        entry = bundle_reference(args.dataset, args.data_dir, args.dir)
        print(f"bundled {entry['n_images']} {args.dataset} images from {entry['source']}")
        return 0
    if not (args.dir / MANIFEST_NAME).exists():
        print(f"error: {args.dir / MANIFEST_NAME}: file missing", file=sys.stderr)
        return 1
    try:
        for line in check(args.dir):
            print(line)
    except ZooError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("all checksums match and every model loads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
