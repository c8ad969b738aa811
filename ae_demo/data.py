"""Reading a registered dataset's images (``ae_demo.datasets``) as uint8 tensors, offline first.

Images are returned as ``(N, 28, 28)`` uint8 (white ink on black, 0-255) with
``(N,)`` int64 labels; ``to_unit`` turns them into the models' input,
``(N, 1, 28, 28)`` float32 in [0, 1].

Where the images come from, in order:
1. ``data_dir`` when given: a folder of IDX ``.gz`` files, either the four official
   files (``train-images-idx3-ubyte.gz`` …, as Debian's ``dataset-fashion-mnist``
   ships them) or the ``mnist-10k`` layout (``images-idx3-ubyte.gz`` and
   ``labels-idx1-ubyte.gz``, with the fixed split ``i % 5 == 0`` held out);
2. the offline folders of its registry entry (``ImageSource.offline_dirs``);
3. the torchvision dataset class of its entry, which downloads the full set when online.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .datasets import REPO_ROOT, dataset as dataset_entry

PRETRAINED_DIR = REPO_ROOT / "pretrained"
SAMPLES_DIR = PRETRAINED_DIR / "samples"

OFFICIAL_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
TEN_K_FILES = ("images-idx3-ubyte.gz", "labels-idx1-ubyte.gz")
HELD_OUT_EVERY = 5  # mnist-10k: image i is held out when i % 5 == 0 (its README's fixed split)


@dataclass(frozen=True)
class Split:
    """One split of a dataset: ``images`` (N, 28, 28) uint8, ``labels`` (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor
    source: str  # where it came from, recorded in the model card


# --- IDX files ---------------------------------------------------------------------------

_IDX_DTYPES = {0x08: np.uint8}


def read_idx(path: Path) -> np.ndarray:
    """Read a (optionally gzip-compressed) IDX file into an array of its stored shape."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {data.size} values, its header says {shape}")
    return data.reshape(shape)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzip-compressed IDX file (mtime 0, so the bytes are reproducible)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(header + array.tobytes())


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- loading -----------------------------------------------------------------------------

def source_name(path: Path) -> str:
    """How a card names where its images came from: relative to the repository when the path is beside it
    (``../shared/data/mnist-10k``, ``pretrained/samples/…``), so that the card holds no machine's own paths;
    a system folder (Debian's ``/usr/share/datasets/…``) as it is, the same on every machine."""
    path = Path(os.path.normpath(Path(path).absolute()))
    if path.is_relative_to(REPO_ROOT.parent):
        return os.path.relpath(path, REPO_ROOT)
    return str(path)


def _from_folder(folder: Path, split: str) -> Split | None:
    """A split from a folder of IDX files, or None when the folder holds neither layout."""
    images_name, labels_name = OFFICIAL_FILES[split]
    if (folder / images_name).exists() and (folder / labels_name).exists():
        images, labels = read_idx(folder / images_name), read_idx(folder / labels_name)
        return Split(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)),
                     f"{source_name(folder)} ({split} files)")
    if all((folder / name).exists() for name in TEN_K_FILES):
        images, labels = (read_idx(folder / name) for name in TEN_K_FILES)
        held_out = np.arange(len(images)) % HELD_OUT_EVERY == 0
        keep = held_out if split == "test" else ~held_out
        return Split(torch.from_numpy(images[keep].copy()), torch.from_numpy(labels[keep].astype(np.int64)),
                     f"{source_name(folder)} (i % {HELD_OUT_EVERY} {'==' if split == 'test' else '!='} 0)")
    return None


def load_split(dataset: str, split: str, data_dir: Path | str | None = None, download: bool = True) -> Split:
    """Load the ``train`` or ``test`` (held-out) split of ``dataset``.

    Raises FileNotFoundError with what to do when ``data_dir`` holds no IDX files, or when
    nothing is found offline and ``download`` is off or fails.
    """
    source = dataset_entry(dataset).source
    if split not in OFFICIAL_FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if data_dir is not None:
        found = _from_folder(Path(data_dir), split)
        if found is None:
            raise FileNotFoundError(
                f"{data_dir} holds neither {', '.join(OFFICIAL_FILES[split])} nor {', '.join(TEN_K_FILES)}")
        return found
    for folder in source.folders():
        found = _from_folder(folder, split) if folder.is_dir() else None
        if found is not None:
            return found
    if not download or source.torchvision_class is None:
        raise FileNotFoundError(f"no offline copy of {dataset} in {', '.join(map(str, source.folders()))}"
                                + ("" if source.torchvision_class else " (and no download for it); pass --data-dir"))
    import torchvision.datasets  # only the online path needs it

    root = Path.home() / ".cache" / "ae_demo"
    dataset_class = getattr(torchvision.datasets, source.torchvision_class)  # outside the try: a wrong name is a bug
    try:
        ds = dataset_class(root=root, train=split == "train", download=True)
    except (OSError, RuntimeError) as error:  # no network (URLError is an OSError), or torchvision's "Error downloading"
        raise FileNotFoundError(
            f"{dataset}: no offline copy found and the download failed ({error}); pass --data-dir") from error
    return Split(ds.data.to(torch.uint8), ds.targets.to(torch.int64),
                 f"torchvision.datasets.{source.torchvision_class}")


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float32 in [0, 1]."""
    return images.unsqueeze(1).to(torch.float32) / 255.0


def as_model_input(images: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """A batch of images as the models take it: (B, H, W) or (B, C, H, W) float in [0, 1] ->
    (B, C, H, W) float32 on ``device`` (C = 1 for grey images given without a channel axis).
    The one step from the page's numpy pictures to a model's input."""
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    return (x.unsqueeze(1) if x.dim() == 3 else x).to(device)


# --- the bundled reference sample ----------------------------------------------------------

def reference_paths(dataset: str, samples_dir: Path = SAMPLES_DIR) -> tuple[Path, Path]:
    """Where the bundled held-out images and labels of ``dataset`` live."""
    return (samples_dir / f"{dataset}-heldout-images-idx3-ubyte.gz",
            samples_dir / f"{dataset}-heldout-labels-idx1-ubyte.gz")


def load_reference(dataset: str, samples_dir: Path = SAMPLES_DIR) -> Split:
    """The held-out images bundled in ``pretrained/samples`` (no checksum check: see zoo.load_reference)."""
    images_path, labels_path = reference_paths(dataset, samples_dir)
    images, labels = read_idx(images_path), read_idx(labels_path)
    return Split(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)), source_name(images_path))
