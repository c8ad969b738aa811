"""A teacher's own pictures: a ZIP, a folder or many files -> one array of same-sized images.

Sub-folders are classes, as in torchvision's ``ImageFolder`` (``leaves/oak/*.jpg``,
``leaves/maple/*.jpg``: the folder every file shares is stripped first, then the next folder
names the class); without sub-folders, or with only one, there are no classes.

Everything happens in memory: an archive's entry names are never used as paths on disk (no
zip-slip), and nothing of the upload is kept. The archive is refused, with a message, when an
entry name is absolute or contains ``..``, when it holds another archive or an encrypted
entry, when it is damaged, or when it goes past ``MAX_ENTRIES`` entries or ``MAX_TOTAL_BYTES``
uncompressed. An entry that inflates more than ``MAX_RATIO`` times is skipped, not read.
Each picture is decoded by ``preprocess.decode_image`` (Pillow's decompression-bomb guard,
animated GIFs) and framed by ``preprocess.as_dataset_picture`` (EXIF rotation, CMYK, 16-bit,
transparency), the readers every upload of the app goes through. Files that are no pictures,
bombs, duplicates and pictures beyond ``MAX_IMAGES`` are left out, and every one is listed
with its reason.

This module must not import streamlit or torch.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from .messages import Message
from .preprocess import InputError, as_dataset_picture, decode_image

SIZES = (28, 32, 64)          # the sides the models are built for (models.IMAGE_SIDES)
MAX_RATIO = 100               # uncompressed / compressed size of one archive entry
MAX_TOTAL_BYTES = 500 * 1024 * 1024   # uncompressed bytes read from all archives together
MAX_ENTRIES = 10_000          # entries of all archives together
MAX_FILE_BYTES = 10 * 1024 * 1024     # one picture (preprocess.MAX_UPLOAD_BYTES)
MAX_ARCHIVE_UPLOAD_MB = 200          # one file of the panel's upload (a ZIP): .streamlit/config.toml's maxUploadSize
MIN_IMAGES = 50               # fewer and there is nothing to hold out and learn from
MAX_IMAGES = 5_000            # above this a random subset is used (seed SUBSET_SEED)
SUBSET_SEED = 0
_CHUNK = 1024 * 1024

_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar", ".jar", ".tbz", ".zst")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!", b"\x28\xb5\x2f\xfd")
_METADATA_PARTS = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")


class ArchiveError(InputError):
    """The upload as a whole is refused; the message says why and what to do. Nothing was written."""


@dataclass(frozen=True)
class Skipped:
    """One file left out: its name in the upload and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class ImageSet:
    """The usable pictures of an upload, as the models will see them."""

    images: np.ndarray              # (N, C, S, S) uint8; C = 1 (grey) or 3 (colour)
    labels: np.ndarray | None       # (N,) int64 class indices, or None without classes
    classes: tuple[str, ...]        # class names (sub-folder names, sorted); () without classes
    names: tuple[str, ...]          # (N,) each picture's name in the upload
    skipped: tuple[Skipped, ...]    # every file left out, with its reason
    notes: tuple[str, ...] = field(default=())   # e.g. the random subset, said in words

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    @property
    def problem(self) -> str | None:
        """Why this set cannot be trained on, or None when it can."""
        if len(self.images) < MIN_IMAGES:
            n, k = len(self.images), len(self.skipped)
            return Message("Only {pictures} found ({files} skipped): at least {least} are needed. Add more pictures "
                           "and upload again.", least=MIN_IMAGES,
                           pictures=Message("1 usable picture") if n == 1 else Message("{n} usable pictures", n=n),
                           files=Message("1 file") if k == 1 else Message("{n} files", n=k))
        return None


@dataclass
class _Budget:
    """What all archives of one upload have used of the limits."""

    entries: int = 0
    bytes: int = 0


def _is_archive(name: str, head: bytes) -> bool:
    return name.lower().endswith(_ARCHIVE_SUFFIXES) or head.startswith(_ARCHIVE_MAGIC)


def _is_metadata(parts: tuple[str, ...]) -> bool:
    return any(p in _METADATA_PARTS or p.startswith("._") for p in parts)


def _entry_parts(archive: str, raw_name: str) -> tuple[str, ...]:
    """An entry's name as folder parts, or ArchiveError for an absolute name or one with ``..``."""
    name = raw_name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in name.split("/"):
        raise ArchiveError("'{archive}' is refused: its entry '{entry}' has an absolute path or '..' in its name, "
                           "which could point outside the archive. Make the ZIP again from the folder of pictures "
                           "itself (right-click the folder > Compress).", archive=archive, entry=raw_name)
    return tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))


def _read_entry(archive: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    """The entry's bytes, counted against the budget while they inflate.

    zipfile stops at the header's uncompressed size (and then fails the CRC if there was
    more), so the ratio checked before reading holds; the count here is the second guard.
    """
    chunks, size = [], 0
    ceiling = max(info.compress_size, 1) * MAX_RATIO
    with zf.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            budget.bytes += len(chunk)
            if budget.bytes > MAX_TOTAL_BYTES:
                raise ArchiveError("'{archive}' is refused: it unpacks to more than {megabytes} MB. Upload fewer or "
                                   "smaller pictures.", archive=archive, megabytes=MAX_TOTAL_BYTES // 1024 // 1024)
            if size > ceiling:
                raise _RatioExceeded()
            chunks.append(chunk)
    return b"".join(chunks)


class _RatioExceeded(Exception):
    pass


def read_zip(name: str, data: bytes, budget: _Budget | None = None
             ) -> tuple[list[tuple[tuple[str, ...], bytes]], list[Skipped]]:
    """A ZIP's files in memory: ([(folder parts of the name, bytes)], skipped entries).

    Raises ArchiveError (nothing read is kept) for a damaged archive, an entry name that is
    absolute or has ``..``, a nested archive, an encrypted entry, or past the limits.
    """
    budget = budget or _Budget()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise ArchiveError("'{name}' is not a readable ZIP archive ({error}): it may be damaged or cut short. Make "
                           "the ZIP again and upload it once more.", name=name, error=str(error)) from error
    files: list[tuple[tuple[str, ...], bytes]] = []
    skipped: list[Skipped] = []
    with zf:
        infos = zf.infolist()
        for info in infos:  # every name and flag first: a refused archive is refused before any byte inflates
            budget.entries += 1
            if budget.entries > MAX_ENTRIES:
                raise ArchiveError("'{name}' is refused: it has more than {most:,} entries. Upload at most {most:,} "
                                   "files (a random {used:,} of them are used anyway).", name=name,
                                   most=MAX_ENTRIES, used=MAX_IMAGES)
            parts = _entry_parts(name, info.filename)
            if info.is_dir() or _is_metadata(parts):
                continue
            if info.flag_bits & 0x1:
                raise ArchiveError("'{name}' is refused: '{entry}' is encrypted (password-protected). Make the ZIP "
                                   "again without a password.", name=name, entry=info.filename)
            if _is_archive(parts[-1], b""):
                raise ArchiveError("'{name}' is refused: it contains another archive, '{entry}'. Unpack that one "
                                   "and put its pictures in the ZIP itself.", name=name, entry=info.filename)
        for info in infos:
            parts = _entry_parts(name, info.filename)
            if info.is_dir():
                continue
            if _is_metadata(parts):
                skipped.append(Skipped(info.filename, Message("system metadata (macOS or Windows), not a picture")))
                continue
            if info.file_size > max(info.compress_size, 1) * MAX_RATIO:
                skipped.append(Skipped(info.filename, Message(
                    "refused: it would inflate more than {ratio} times (a zip bomb, or a file no picture needs)",
                    ratio=MAX_RATIO)))
                continue
            try:
                content = _read_entry(name, zf, info, budget)
            except _RatioExceeded:
                skipped.append(Skipped(info.filename, Message(
                    "refused: it inflated more than {ratio} times (a zip bomb, or a file no picture needs)",
                    ratio=MAX_RATIO)))
                continue
            except ArchiveError:
                raise
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
                raise ArchiveError("'{name}' is damaged: '{entry}' cannot be unpacked ({error}). Make the ZIP again "
                                   "and upload it once more.", name=name, entry=info.filename,
                                   error=str(error)) from error
            if _is_archive("", content[:8]):
                raise ArchiveError("'{name}' is refused: '{entry}' is itself an archive. Unpack it and put its "
                                   "pictures in the ZIP itself.", name=name, entry=info.filename)
            files.append((parts, content))
    return files, skipped


def read_folder(folder: Path) -> tuple[list[tuple[tuple[str, ...], bytes]], list[Skipped]]:
    """Every file under ``folder`` (links not followed), as (folder parts relative to it, bytes),
    and the files left out: too large, or past the limits of ``MAX_ENTRIES`` and ``MAX_TOTAL_BYTES``."""
    folder = Path(folder)
    found, skipped, total = [], [], 0
    paths = [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()]
    if len(paths) > MAX_ENTRIES:
        raise ArchiveError("'{folder}' has {count:,} files, more than {most:,}: use at most {most:,}.",
                           folder=str(folder), count=len(paths), most=MAX_ENTRIES)
    for path in paths:
        parts = path.relative_to(folder).parts
        size = path.stat().st_size
        if _is_metadata(parts):
            skipped.append(Skipped("/".join(parts), Message("system metadata (macOS or Windows), not a picture")))
        elif size > MAX_FILE_BYTES:
            skipped.append(Skipped("/".join(parts), Message("{size:.1f} MB, more than the {most} MB a picture may have",
                                                            size=size / 1024 / 1024,
                                                            most=MAX_FILE_BYTES // 1024 // 1024)))
        else:
            total += size
            if total > MAX_TOTAL_BYTES:
                raise ArchiveError("'{folder}' holds more than {megabytes} MB of files: use fewer or smaller "
                                   "pictures.", folder=str(folder), megabytes=MAX_TOTAL_BYTES // 1024 // 1024)
            found.append((parts, path.read_bytes()))
    return found, skipped


def _strip_shared_folders(files: list[tuple[tuple[str, ...], bytes]]) -> list[tuple[tuple[str, ...], bytes]]:
    """Drop the leading folders every file shares (``leaves/oak/a.jpg`` -> ``oak/a.jpg``)."""
    while files and all(len(p) > 1 for p, _ in files) and len({p[0] for p, _ in files}) == 1:
        files = [(p[1:], d) for p, d in files]
    return files


def read_image_set(uploads: list[tuple[str, bytes]] | Path, size: int = 32, colour: bool = False,
                   max_images: int = MAX_IMAGES) -> ImageSet:
    """Uploaded files (``[(name, bytes)]``: ZIPs and pictures) or a folder / ZIP path -> an ImageSet.

    size: the side, one of SIZES; colour: RGB (3 channels) or grey (1). Raises ArchiveError
    when an archive is refused (see the module's docstring); every other problem is a file
    left out and listed in ``ImageSet.skipped``.
    """
    if size not in SIZES:
        raise InputError("A size of {size} pixels is not offered: choose one of {sizes}.", size=size,
                         sizes=", ".join(map(str, SIZES)))
    budget = _Budget()
    files: list[tuple[tuple[str, ...], bytes]] = []
    skipped: list[Skipped] = []
    if isinstance(uploads, (str, Path)):
        path = Path(uploads)
        if path.is_dir():
            files, skipped = read_folder(path)
        elif path.is_file():
            uploads = [(path.name, path.read_bytes())]
        else:
            raise InputError("'{path}' is neither a folder nor a file: give a folder of pictures or a ZIP.",
                             path=str(path))
    if not isinstance(uploads, (str, Path)):
        for name, data in uploads:
            if zipfile.is_zipfile(io.BytesIO(data)) or name.lower().endswith(".zip"):
                entries, left_out = read_zip(name, data, budget)
                files += entries
                skipped += left_out
            else:
                budget.entries += 1
                if budget.entries > MAX_ENTRIES:
                    raise ArchiveError("More than {most:,} files were uploaded: upload at most {most:,}.",
                                       most=MAX_ENTRIES)
                files.append(((Path(name).name,), data))

    files = _strip_shared_folders(files)
    class_folders = sorted({p[0] for p, _ in files if len(p) > 1})
    with_classes = len(class_folders) > 1
    classes = tuple(class_folders) if with_classes else ()

    pictures, labels, names, seen = [], [], [], {}
    for parts, data in files:
        name = "/".join(parts)
        if with_classes and len(parts) == 1:
            skipped.append(Skipped(name, Message("not in a class folder (the other pictures are): move it into "
                                                 "one")))
            continue
        try:
            picture = as_dataset_picture(decode_image(data, name), size, colour)
        except InputError as error:
            skipped.append(Skipped(name, error.message))
            continue
        levels = np.round(picture * 255).astype(np.uint8)
        digest = hashlib.sha256(levels.tobytes()).hexdigest()
        if digest in seen:
            skipped.append(Skipped(name, Message("a duplicate of '{original}' (as the models see it)",
                                                 original=seen[digest])))
            continue
        seen[digest] = name
        pictures.append(levels)
        labels.append(class_folders.index(parts[0]) if with_classes else -1)
        names.append(name)

    notes = []
    if len(pictures) > max_images:
        keep = np.sort(np.random.default_rng(SUBSET_SEED).choice(len(pictures), max_images, replace=False))
        notes.append(Message("{count:,} usable pictures: a random {used:,} of them are used (seed {seed}), the most "
                             "this lab trains on.", count=len(pictures), used=max_images, seed=SUBSET_SEED))
        pictures = [pictures[i] for i in keep]
        labels = [labels[i] for i in keep]
        names = [names[i] for i in keep]
    channels = 3 if colour else 1
    images = np.stack(pictures) if pictures else np.zeros((0, channels, size, size), np.uint8)
    return ImageSet(images, np.asarray(labels, np.int64) if with_classes else None, classes,
                    tuple(names), tuple(skipped), tuple(notes))
