"""The dataset registry: every fact about a dataset, in one typed entry per dataset.

The CLIs (``train``, ``evaluate``, ``maps``, ``anomaly``, ``live_training``), the maps, the
anomaly and arithmetic demos and the page read a dataset's name, classes, image shape,
default model, image source and demo defaults from here, never from a list of their own.

The shipped datasets are registered below; ``register`` adds one at run time (a visitor's own
images, say ``Dataset("own-cats", "My cats", ("cat", "not cat"), image_shape=(3, 32, 32), …)``),
and every reader of ``DATASETS`` sees it from then on. This module imports nothing heavy, so
the page, the CLIs' argument parsers and the tests can read the registry without torch.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .messages import N_

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ModelRef:
    """One model of the zoo, by family and bottleneck size (its file name adds the dataset: ``zoo.model_name``)."""

    family: str       # a key of zoo.FAMILIES: "conv", "vae", …
    latent_dim: int   # numbers in the code


@dataclass(frozen=True)
class ImageSource:
    """Where a dataset's training and held-out images come from, in the order ``data.load_split`` tries."""

    # folders of IDX .gz files (either layout of data.load_split), relative to the repository or absolute
    offline_dirs: tuple[str, ...] = ()
    torchvision_class: str | None = None   # a torchvision.datasets class that downloads it; None: no download
    attribution: str = ""                   # who made the images, and their licence

    def folders(self) -> tuple[Path, ...]:
        """``offline_dirs`` as paths (a relative one is taken from the repository's root)."""
        return tuple(Path(os.path.normpath(REPO_ROOT / folder)) for folder in self.offline_dirs)


@dataclass(frozen=True)
class AnomalyDefaults:
    """What the "How unusual is this?" demo and its builder (``anomaly``) use for a dataset."""

    other_dataset: str | None = None   # a registered dataset whose images are scored as non-members; None: none


@dataclass(frozen=True)
class ArithmeticDefaults:
    """Latent arithmetic's opening choice: move an input from ``source_class`` towards ``target_class``."""

    source_class: int
    target_class: int
    latent_dim: int = 16   # the code size it opens on, when the dataset's ladder has it


@dataclass(frozen=True)
class Dataset:
    """One dataset's entry: its name in URLs and file names, what the page calls it, and its defaults."""

    name: str                          # the key everywhere: ?dataset=, file names (conv_z32_<name>), the CLIs
    label: str                         # what the page calls it: "Digits (MNIST)"
    classes: tuple[str, ...]           # class names, index = label
    items: str                         # what its images are, plural: "digits", "Fashion-MNIST pictures"
    source: ImageSource = field(default_factory=ImageSource)
    image_shape: tuple[int, int, int] = (1, 28, 28)   # (C, H, W) of one image as the models take it
    default_model: ModelRef = ModelRef("conv", 32)    # what the dataset opens on: the ladder's headline size
    map_points: int = 2000             # held-out images on each of its precomputed maps (the first ones)
    anomaly: AnomalyDefaults = field(default_factory=AnomalyDefaults)
    arithmetic: ArithmeticDefaults | None = None       # None: the demo has no opening choice for it


DATASETS: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    """Add ``dataset`` to the registry (or replace the entry of the same name); returns it."""
    if not dataset.name or "/" in dataset.name or "_" in dataset.name:
        # model files are <family>_z<size>_<dataset>: an underscore would make the name ambiguous
        raise ValueError(f"a dataset's name is a word of letters, digits and hyphens, not {dataset.name!r}")
    if len(dataset.image_shape) != 3:
        raise ValueError(f"{dataset.name}: image_shape is (C, H, W), not {dataset.image_shape}")
    DATASETS[dataset.name] = dataset
    return dataset


def dataset(name: str) -> Dataset:
    """The entry of ``name``; a ValueError that lists the known names when there is none."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def names() -> tuple[str, ...]:
    """The registered datasets' names, in the order they were registered (the page's order)."""
    return tuple(DATASETS)


MNIST = register(Dataset(
    name="mnist",
    label=N_("Digits (MNIST)"),
    classes=tuple(str(d) for d in range(10)),
    items=N_("digits"),
    source=ImageSource(offline_dirs=("../shared/data/mnist-10k", "/usr/share/datasets/mnist"),
                       torchvision_class="MNIST",
                       attribution=N_("MNIST by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, "
                                      "CC BY-SA 3.0")),
    map_points=2000,   # all its bundled held-out digits
    anomaly=AnomalyDefaults(other_dataset="fashion"),
    arithmetic=ArithmeticDefaults(source_class=7, target_class=1),   # a 7 towards the 1s
))

FASHION = register(Dataset(
    name="fashion",
    label="Fashion-MNIST",
    classes=(N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"), N_("Sandal"), N_("Shirt"),
             N_("Sneaker"), N_("Bag"), N_("Ankle boot")),
    items=N_("Fashion-MNIST pictures"),
    source=ImageSource(offline_dirs=("/usr/share/datasets/fashion-mnist",), torchvision_class="FashionMNIST",
                       attribution=N_("Fashion-MNIST by Zalando Research (Xiao, Rasul, Vollgraf, 2017), "
                                      "MIT licence")),
    map_points=5000,   # half of its 10,000 test images
    anomaly=AnomalyDefaults(other_dataset="mnist"),
    arithmetic=ArithmeticDefaults(source_class=6, target_class=3),   # a shirt towards the dresses
))

DEFAULT_DATASET = MNIST.name   # what a link without ?dataset= opens
