"""Teachers' own datasets on disk: one folder each in the data folder, a card, checked on load.

The data folder is ``$AE_DATA_DIR``, by default ``~/.local/share/autoencoder-lab/datasets``
(``$XDG_DATA_HOME/autoencoder-lab/datasets`` when that is set). It holds at most
``MAX_DATASETS`` datasets; each is a folder named by its id::

    <id>/card.json              what it is: name, image shape, classes, recipe, held-out metrics,
                                the sha256 of every other file, the digest of the owner key
    <id>/images.safetensors     the prepared pictures (N, C, S, S) uint8, labels, held-out rows
    <id>/manifest.json          the models' cards, in the zoo's format (``zoo.load_model`` reads them)
    <id>/<model>-<sha>.safetensors   the conv ladder and PCA at every size
    <id>/maps.safetensors       each conv size's latent map: codes and 2-D positions of every picture

A dataset is built in ``.building-<id>-<pid>`` and renamed to ``<id>`` when complete, so a
worker that crashes or is killed leaves no half-written dataset (``remove_stale_builds``
clears what it left). The uploaded archive is never stored. The id is 95 random bits, so
a link to it cannot be guessed; deleting needs the owner key, of which only a digest is
kept. This module imports no torch and never streamlit.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .messages import MessageError

MAX_DATASETS = 20
CARD_NAME = "card.json"
IMAGES_NAME = "images.safetensors"
MAPS_NAME = "maps.safetensors"
BUILD_PREFIX = ".building-"
ID_PATTERN = re.compile(r"^[A-Za-z0-9]{16}$")   # 16 of 62 letters and digits: 95 bits; no "_", which model names use
MAX_NAME_CHARS = 60


class OwnDataError(MessageError):
    """A dataset is missing, altered, over the limit, or the key is wrong; the message says what to do."""


def data_dir() -> Path:
    """The data folder: $AE_DATA_DIR, else $XDG_DATA_HOME (or ~/.local/share)/autoencoder-lab/datasets."""
    if os.environ.get("AE_DATA_DIR"):
        return Path(os.environ["AE_DATA_DIR"])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "autoencoder-lab" / "datasets"


_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def new_owner_key() -> str:
    return secrets.token_urlsafe(18)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def clean_name(name: str) -> str:
    """A dataset's name as shown: printable, trimmed, at most MAX_NAME_CHARS; OwnDataError when empty."""
    name = "".join(c for c in str(name) if c.isprintable()).strip()[:MAX_NAME_CHARS]
    if not name:
        raise OwnDataError("Give the dataset a name (for example 'Leaves of the school garden').")
    return name


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class OwnDataset:
    """A finished dataset's card, read and checked."""

    id: str
    folder: Path
    card: dict

    @property
    def name(self) -> str:
        return self.card["name"]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.card["image_shape"])

    @property
    def colour(self) -> bool:
        return self.image_shape[0] == 3

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.card["classes"])

    @property
    def latent_dims(self) -> tuple[int, ...]:
        return tuple(int(z) for z in self.card["metrics"]["conv_sse_per_image"])

    def model_name(self, family: str, latent_dim: int) -> str:
        return f"{family}_z{latent_dim}"

    def load_arrays(self) -> dict[str, np.ndarray]:
        """images (N, C, S, S) uint8, labels (N,) int64 (-1: no classes), heldout (M,) int64 rows."""
        from safetensors.numpy import load_file

        return load_file(self.folder / IMAGES_NAME)

    def load_maps(self) -> dict[int, dict[str, np.ndarray]]:
        """latent_dim -> {"codes": (N, z) float32, "coords": (N, 2) float32} for every picture."""
        from safetensors.numpy import load_file

        stored = load_file(self.folder / MAPS_NAME)
        return {z: {"codes": stored[f"codes_{z}"].astype(np.float32), "coords": stored[f"coords_{z}"]}
                for z in self.latent_dims}

    def load_model(self, family: str, latent_dim: int):
        """The dataset's ``family`` ("conv" or "pca") model of code size ``latent_dim``, checked, eval mode."""
        from .zoo import load_model

        return load_model(self.model_name(family, latent_dim), self.folder)


def _verify(folder: Path, card: dict) -> None:
    for relative, sha in card["files"].items():
        path = folder / relative
        if not path.is_file():
            raise OwnDataError("The dataset '{name}' ({id}) is missing {file}: delete it and train it again.",
                               name=card["name"], id=folder.name, file=str(relative))
        if sha256_file(path) != sha:
            raise OwnDataError("The dataset '{name}' ({id}) has been altered: {file} does not match its card. Delete "
                               "it and train it again.", name=card["name"], id=folder.name, file=str(relative))


def open_dataset(dataset_id: str, directory: Path | None = None, verify: bool = True) -> OwnDataset:
    """The dataset of ``dataset_id``, its files checked against the card; OwnDataError when there is none."""
    if not isinstance(dataset_id, str) or not ID_PATTERN.match(dataset_id):
        raise OwnDataError("'{id}' is not a dataset id: check the link.", id=dataset_id)
    folder = Path(directory or data_dir()) / dataset_id
    card_path = folder / CARD_NAME
    if not card_path.is_file():
        raise OwnDataError("There is no dataset '{id}' on this server: it may have been deleted. Check the link, or "
                           "upload the pictures again.", id=dataset_id)
    try:
        card = json.loads(card_path.read_text())
    except (OSError, ValueError) as error:
        raise OwnDataError("The card of dataset '{id}' cannot be read ({error}): delete it and train it again.",
                           id=dataset_id, error=str(error)) from error
    if verify:
        _verify(folder, card)
    return OwnDataset(dataset_id, folder, card)


def list_datasets(directory: Path | None = None) -> list[OwnDataset]:
    """Every finished dataset of the data folder (cards read, files not hashed), oldest first."""
    root = Path(directory or data_dir())
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if ID_PATTERN.match(folder.name) and (folder / CARD_NAME).is_file():
            try:
                found.append(open_dataset(folder.name, root, verify=False))
            except OwnDataError:
                continue
    return sorted(found, key=lambda d: d.card.get("created", ""))


def check_room(directory: Path | None = None) -> None:
    """OwnDataError when the data folder already holds MAX_DATASETS datasets."""
    count = len(list_datasets(directory))
    if count >= MAX_DATASETS:
        raise OwnDataError("This server already keeps {count} datasets, the most it keeps ({most}): delete one you "
                           "no longer need (its owner key is needed) and train again.", count=count,
                           most=MAX_DATASETS)


def build_folder(dataset_id: str, directory: Path | None = None) -> Path:
    """A fresh, empty folder to build ``dataset_id`` in; ``publish`` renames it into place."""
    root = Path(directory or data_dir())
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"{BUILD_PREFIX}{dataset_id}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def publish(build: Path, card: dict) -> OwnDataset:
    """Write the card (with the sha256 of every file in ``build``) and rename the folder to its id.

    The rename is the one step that makes the dataset exist, so a crash before it leaves none.
    """
    (build / ".manifest.lock").unlink(missing_ok=True)   # zoo.editing_manifest's, no part of the dataset
    files = {p.relative_to(build).as_posix(): sha256_file(p)
             for p in sorted(build.rglob("*")) if p.is_file() and p.name != CARD_NAME}
    card = {**card, "files": files}
    tmp = build / (CARD_NAME + ".tmp")
    tmp.write_text(json.dumps(card, indent=1, sort_keys=True) + "\n")
    tmp.replace(build / CARD_NAME)
    check_room(build.parent)
    final = build.parent / card["id"]
    build.rename(final)
    return OwnDataset(card["id"], final, card)


def remove_stale_builds(directory: Path | None = None) -> list[Path]:
    """Remove build folders whose process is gone (a crash or kill); returns what was removed."""
    root = Path(directory or data_dir())
    removed = []
    if not root.is_dir():
        return removed
    for folder in root.glob(BUILD_PREFIX + "*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def delete_dataset(dataset_id: str, owner_key: str | None, directory: Path | None = None) -> None:
    """Remove a dataset. ``owner_key`` must be the key shown at creation; None only from the command line,
    which runs with the data folder's own file rights anyway."""
    dataset = open_dataset(dataset_id, directory, verify=False)
    if owner_key is not None and not hmac.compare_digest(key_digest(owner_key), dataset.card["owner_key_sha256"]):
        raise OwnDataError("That is not this dataset's owner key: only the key shown when it was made can "
                           "delete it.")
    doomed = dataset.folder.with_name(f"{BUILD_PREFIX}deleting-{dataset_id}-{os.getpid()}")
    dataset.folder.rename(doomed)     # gone from every list at once, then removed
    shutil.rmtree(doomed, ignore_errors=True)
