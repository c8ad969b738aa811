"""Is copying trivial without a constraint? The unconstrained net beside two constrained ones.

UFLDL's "Autoencoders" lesson warns that a net with as many hidden units as pixels and no
constraint can learn the identity: it copies whatever it is shown and learns nothing about
digits. The ``identity`` family is that net (one sigmoid hidden layer of 1,000 units, wider
than the 784 pixels, trained with no sparsity penalty and no weight decay). It is compared
with the z = 32 bottleneck (``conv``) and the sparse 1,000-unit net (``sparse``), on held-out
images of the dataset and on inputs that are not of it (``PROBE_KINDS``): a drawn letter,
pure noise, and an image of the other dataset, each prepared as the anomaly demo prepares
them (``anomaly.anomaly_input``).

Errors are SSE per image: squared error summed over the 784 pixels, pixels in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .anomaly import reconstruction_errors
from .anomaly_builder import draw_letter, draw_noise, non_member_images
from .data import PRETRAINED_DIR, to_unit
from .datasets import dataset as dataset_entry
from .models import Autoencoder
from .messages import N_
from .zoo import cards, load_model, load_verified_reference, model_name

# (family, latent_dim) of the compared nets, the unconstrained one last
COMPARED = (("conv", 32), ("sparse", 1000), ("identity", 1000))
IDENTITY = ("identity", 1000)
PROBE_KINDS = ("letter", "noise", "other")  # the non-members: a drawn letter, pure noise, the other dataset
# One of each for the page: a capital letter that looks like no digit, and uniform noise over the
# whole 28x28 square (draw_noise kind 0), so the border MNIST always leaves black is noise too.
PROBE_LETTER, PROBE_NOISE_KIND, PROBE_SEED = "R", 0, 0
# "About as well as": the unconstrained net copies a kind of input about as well as held-out images
# when its mean SSE there is at most this many times its held-out SSE.
ABOUT_AS_WELL = 2.0


def other_dataset(dataset: str) -> str:
    """The dataset whose images are ``dataset``'s "other" probe (the anomaly demo's, from the registry)."""
    other = dataset_entry(dataset).anomaly.other_dataset
    if other is None:
        raise ValueError(f"{dataset} names no other dataset to probe with (datasets.AnomalyDefaults.other_dataset)")
    return other


def probe_label(kind: str, dataset: str) -> str:
    """What a probe kind is called on the page: "a drawn letter", "pure noise", "a Fashion image"."""
    other = other_dataset(dataset)
    return {"letter": N_("a drawn letter"), "noise": N_("pure noise"),
            "other": N_("a Fashion image") if other == "fashion" else N_("a handwritten digit")}[kind]


def probe_noun(kind: str, dataset: str) -> str:
    """What the probes of a kind are called in a sentence: "drawn letters", "pure noise", "Fashion images"."""
    other = other_dataset(dataset)
    return {"letter": N_("drawn letters"), "noise": N_("pure noise"),
            "other": N_("Fashion images") if other == "fashion" else N_("handwritten digits")}[kind]


def probe_images(dataset: str, directory: Path = PRETRAINED_DIR) -> dict[str, np.ndarray]:
    """kind -> (28, 28) float32 in [0, 1]: one input of each ``PROBE_KINDS``, as the page shows them."""
    from .anomaly import anomaly_input

    rng = np.random.default_rng(PROBE_SEED)
    other = load_verified_reference(other_dataset(dataset), directory).images[0].numpy()
    return {"letter": anomaly_input(draw_letter(PROBE_LETTER))[0],
            "noise": anomaly_input(draw_noise(rng, PROBE_NOISE_KIND))[0],
            "other": anomaly_input(other)[0]}


def compared_models(dataset: str, directory: Path = PRETRAINED_DIR) -> dict[str, Autoencoder]:
    """model name -> model, for ``COMPARED`` on ``dataset``."""
    names = [model_name(family, z, dataset) for family, z in COMPARED]
    return {name: load_model(name, directory) for name in names}


def card_of(name: str, directory: Path = PRETRAINED_DIR):
    """The model card named ``name`` (a ``zoo.ModelCard``)."""
    return next(c for c in cards(directory=directory) if c.name == name)


@dataclass(frozen=True)
class CopyErrors:
    """Mean SSE per image of one model on held-out images and on each kind of non-member."""

    model: str
    heldout: float             # on the dataset's bundled held-out images (``n_heldout`` of them)
    n_heldout: int
    probes: dict[str, float]   # kind -> mean SSE over that kind's inputs (see ``non_member_images``)
    n_probes: dict[str, int]

    def as_row(self) -> dict:
        return {"model": self.model, "heldout_sse": round(self.heldout, 3), "n_heldout": self.n_heldout,
                **{f"{kind}_sse": round(v, 3) for kind, v in self.probes.items()},
                **{f"n_{kind}": n for kind, n in self.n_probes.items()}}


def non_members(dataset: str, directory: Path = PRETRAINED_DIR) -> dict[str, np.ndarray]:
    """kind -> (n, 28, 28) float32: all letters (104), all noise (40) and 100 images of the other dataset."""
    found = non_member_images(dataset, directory=directory)
    return {"letter": found["letters"], "noise": found["noise"], "other": found[other_dataset(dataset)]}


@torch.inference_mode()
def copy_errors(dataset: str, heldout: np.ndarray | torch.Tensor, directory: Path = PRETRAINED_DIR,
                probes: dict[str, np.ndarray] | None = None) -> list[CopyErrors]:
    """One ``CopyErrors`` per ``COMPARED`` net of ``dataset``.

    heldout: (N, 28, 28) uint8 held-out images (used as they are, like ``evaluate``); probes:
    kind -> (n, 28, 28) float32 in [0, 1], default ``non_members(dataset)``.
    """
    heldout_unit = to_unit(torch.as_tensor(heldout)).squeeze(1).numpy()
    probes = non_members(dataset, directory) if probes is None else probes
    rows = []
    for name, model in compared_models(dataset, directory).items():
        held = float(reconstruction_errors(model, heldout_unit)[1].mean())
        rows.append(CopyErrors(name, held, len(heldout_unit),
                               {k: float(reconstruction_errors(model, v)[1].mean()) for k, v in probes.items()},
                               {k: len(v) for k, v in probes.items()}))
    return rows


def never_inked(dataset: str, directory: Path = PRETRAINED_DIR) -> np.ndarray:
    """(28, 28) bool: the pixels that are 0 in every bundled held-out image of ``dataset`` (MNIST's border).

    A pixel that is always 0 gives its encoder weights no gradient (the gradient of W1[:, i] is a
    multiple of x_i), and its output is only ever trained towards 0, so a net trained on these
    images has no reason to copy what appears there.
    """
    return (load_verified_reference(dataset, directory).images.numpy() == 0).all(0)


@torch.inference_mode()
def error_share(model: Autoencoder, images: np.ndarray, mask: np.ndarray) -> float:
    """The share of ``model``'s squared error on (N, 28, 28) images in [0, 1] that falls on ``mask``'s pixels, in [0, 1]."""
    reconstructions, _ = reconstruction_errors(model, images)
    squared = (reconstructions - np.asarray(images, np.float32)) ** 2
    return float(squared[:, mask].sum() / max(squared.sum(), 1e-12))


def copies_like_heldout(errors: CopyErrors, kind: str) -> bool:
    """Whether the model rebuilds ``kind`` about as well as held-out images (see ``ABOUT_AS_WELL``)."""
    return errors.probes[kind] <= ABOUT_AS_WELL * errors.heldout


def rebuilt_by_each(models: dict[str, Autoencoder], inputs: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """model name -> (reconstructions (N, 28, 28) in [0, 1], SSE (N,)) of (N, 28, 28) inputs in [0, 1]."""
    return {name: reconstruction_errors(model, inputs) for name, model in models.items()}
