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

from .data import PRETRAINED_DIR, Split, load_reference, load_split, reference_paths, sha256_of, write_idx
from .datasets import dataset as dataset_entry, names
from .models import Autoencoder, ModelConfig, build_model, count_parameters
from .projection import MapSettings
from .messages import N_

MANIFEST_NAME = "manifest.json"
FAMILIES = {  # family -> what the app calls it; a family is an architecture plus a training regime
    "conv": N_("Convolutional"),
    "dense": N_("Dense (fully connected)"),
    "vae": N_("Variational (VAE)"),
    "dae": N_("Denoising (conv)"),
    "pca": N_("PCA (linear baseline)"),
    "sparse": N_("Sparse (UFLDL, 1 hidden layer)"),
    "nosparse": N_("Same net, no sparsity (β = 0)"),
    "identity": N_("Unconstrained (1,000 wide, no sparsity, no weight decay)"),
}
# The UFLDL lesson's one-hidden-layer sigmoid nets (196 or 1,000 hidden units): not a step of
# the bottleneck ladder, so no PCA twin of their size and no latent map.
LESSON_FAMILIES = ("sparse", "nosparse", "identity")
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


@dataclass(frozen=True)
class MapCard:
    """The card entry of one model's precomputed default map (``pretrained/maps``)."""

    model: str
    file: str
    sha256: str
    model_sha256: str        # the weights whose codes the file stores
    settings: MapSettings
    n_points: int
    seconds: float           # how long making it took
    placement_accuracy: float | None

    @property
    def projection(self) -> str:
        """How the map is drawn: "umap", "pca", or "identity" (a 2-D code as it is; see projection.settings_for)."""
        return self.settings.method

    @classmethod
    def from_entry(cls, model: str, entry: dict) -> "MapCard":
        return cls(model=model, file=entry["file"], sha256=entry["sha256"], model_sha256=entry["model_sha256"],
                   settings=MapSettings(**entry["settings"]), n_points=entry["n_points"],
                   seconds=entry.get("seconds", 0.0), placement_accuracy=entry.get("placement_accuracy"))


@dataclass(frozen=True)
class SampleCard:
    """The card entry of a dataset's bundled held-out images (``pretrained/samples``)."""

    dataset: str
    n_images: int
    images_sha256: str
    labels_sha256: str
    source: str

    @classmethod
    def from_entry(cls, dataset: str, entry: dict) -> "SampleCard":
        return cls(dataset=dataset, n_images=entry["n_images"], images_sha256=entry["images_sha256"],
                   labels_sha256=entry["labels_sha256"], source=entry.get("source", ""))


@dataclass(frozen=True)
class Zoo:
    """The card, read once: every model, map and sample entry as a typed, read-only card."""

    directory: Path
    models: dict[str, ModelCard]
    maps: dict[str, MapCard]
    samples: dict[str, SampleCard]

    def cards(self, dataset: str | None = None, family: str | None = None) -> list[ModelCard]:
        """Model cards, optionally of one dataset and family, ordered by dataset, family, latent size."""
        found = [c for c in self.models.values()
                 if (dataset is None or c.dataset == dataset) and (family is None or c.family == family)]
        order = list(FAMILIES)
        return sorted(found, key=lambda c: (c.dataset, order.index(c.family) if c.family in order else len(order),
                                            c.latent_dim))

    def card(self, dataset: str, family: str, latent_dim: int) -> ModelCard:
        name = model_name(family, latent_dim, dataset)
        if name not in self.models:
            raise ZooError(f"{self.directory / MANIFEST_NAME}: no model {name!r} "
                           f"({family} has {self.latent_dims(dataset, family) or 'no sizes'} for {dataset})")
        return self.models[name]

    def latent_dims(self, dataset: str, family: str) -> tuple[int, ...]:
        """The latent sizes the zoo has for ``family`` on ``dataset``, ascending."""
        return tuple(c.latent_dim for c in self.cards(dataset, family))

    def ladder_families(self, dataset: str) -> tuple[str, ...]:
        """The network families of ``dataset`` that the page's picker offers, in FAMILIES order."""
        return tuple(f for f in LADDER_FAMILIES if self.latent_dims(dataset, f))

    def default_card(self, dataset: str) -> ModelCard:
        """The card of the model ``dataset`` opens on (its registry entry's ``default_model``)."""
        default = dataset_entry(dataset).default_model
        return self.card(dataset, default.family, default.latent_dim)

    def map_card(self, model: str) -> MapCard:
        if model not in self.maps:
            raise ZooError(f"{self.directory / MANIFEST_NAME}: no map for {model}; run python -m ae_demo.maps {model}")
        return self.maps[model]


_ZOO_CACHE: dict[Path, tuple[tuple[int, int], Zoo]] = {}


def read_zoo(directory: Path = PRETRAINED_DIR) -> Zoo:
    """The card of ``directory`` as a ``Zoo``; parsed once, and again only when the file changes
    (training and map-making write it while a server may be running)."""
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    stamp = (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else (0, 0)
    cached = _ZOO_CACHE.get(directory)
    if cached and cached[0] == stamp:
        return cached[1]
    manifest = read_manifest(directory)
    zoo = Zoo(directory=directory,
              models={name: ModelCard.from_entry(e) for name, e in manifest.get("models", {}).items()},
              maps={name: MapCard.from_entry(name, e) for name, e in manifest.get("maps", {}).items()},
              samples={name: SampleCard.from_entry(name, e) for name, e in manifest.get("samples", {}).items()})
    _ZOO_CACHE[directory] = (stamp, zoo)
    return zoo


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
    return read_zoo(directory).cards(dataset)


def verify_file(path: Path, sha256: str) -> None:
    """Raise ZooError naming ``path`` when it is missing or its sha256 differs from the card's."""
    if not path.exists():
        raise ZooError(f"{path}: file missing (the manifest lists it)")
    actual = sha256_of(path)
    if actual != sha256:
        raise ZooError(f"{path}: sha256 {actual[:12]}… does not match the manifest's {sha256[:12]}…")


def load_model(name: str, directory: Path = PRETRAINED_DIR, device: torch.device | str = "cpu") -> Autoencoder:
    """Rebuild the named pretrained model from its card, check its file, load its weights, eval mode."""
    card = read_zoo(directory).models.get(name)
    if card is None:
        raise ZooError(f"{Path(directory) / MANIFEST_NAME}: no model named {name!r}")
    path = Path(directory) / card.file
    verify_file(path, card.sha256)  # from here on the file is the one the card names
    model = build_model(card.config)
    # A mismatch now is this code's bug (the architecture changed under the weights), not a damaged
    # file, so load_state_dict's own error goes up as it is.
    model.load_state_dict(load_file(path))
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
    sample = read_zoo(directory).samples.get(dataset)
    if sample is None:
        raise ZooError(f"{Path(directory) / MANIFEST_NAME}: no reference sample for {dataset!r}")
    samples_dir = Path(directory) / "samples"
    for path, sha256 in zip(reference_paths(dataset, samples_dir), (sample.images_sha256, sample.labels_sha256)):
        verify_file(path, sha256)
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
             "source": split.source, "attribution": dataset_entry(dataset).source.attribution}
    with editing_manifest(directory) as manifest:
        manifest["samples"][dataset] = entry
    return entry


def check(directory: Path = PRETRAINED_DIR) -> list[str]:
    """Verify every checksum and load every model; return one line per thing checked."""
    directory = Path(directory)
    lines = []
    for dataset in sorted(read_zoo(directory).samples):
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
    bundle_parser.add_argument("--dataset", choices=names(), required=True)
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
