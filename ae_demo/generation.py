"""New images from random codes: a VAE's prior against a plain autoencoder's code space.

A VAE (Kingma & Welling, 2014) is trained so that its codes fill the prior N(0, I): decode a
draw from the prior and you get something like an image. A plain autoencoder has no prior
and its codes crowd into a few regions with empty space between them. To show that, its
random codes are drawn the naive way a student would: **uniformly from the box its held-out
codes span** (per code number, from the smallest to the largest held-out value). N(0, I)
would be no test at all for it: its codes spread over ±10 or more (conv z = 2: standard
deviations 9 and 8), so N(0, I) draws would all sit in one small patch near the origin.

How far a random code lands from real ones is measured in neighbour gaps: its distance to
the nearest held-out code, divided by the median distance from a held-out code to its own
nearest neighbour. Near 1, the code sits among real codes; far above, in a hole.

The plain model is the convolutional autoencoder of the same latent size (``conv_z<z>``)
as the VAE (``vae_z2``, ``vae_z16``); their codes come from their precomputed maps.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import PRETRAINED_DIR
from .inference import decode_codes
from .maps import LatentMap, latent_distances, load_map
from .models import Autoencoder
from .zoo import load_model, model_name

N_SAMPLES = 16
PRIOR_RADII = (1.0, 2.0)  # the circles drawn on a 2-D VAE's map: 1σ and 2σ of N(0, I)


@dataclass(frozen=True)
class Generated:
    """Random codes of a VAE and of the plain autoencoder of the same size, and what they decode to."""

    vae_images: np.ndarray     # (n, 28, 28) float32 in [0, 1]: decoded draws from N(0, I)
    plain_images: np.ndarray   # (n, 28, 28) float32 in [0, 1]: decoded draws from the plain model's box
    vae_codes: np.ndarray      # (n, latent_dim) float32
    plain_codes: np.ndarray    # (n, latent_dim) float32
    box_low: np.ndarray        # (latent_dim,) the plain model's smallest held-out code values
    box_high: np.ndarray       # (latent_dim,) and its largest
    vae_gaps: np.ndarray       # (n,) distance to the nearest held-out code, in neighbour gaps
    plain_gaps: np.ndarray     # (n,) the same for the plain model's codes


def load_generators(dataset: str, latent_dim: int, directory: Path = PRETRAINED_DIR
                    ) -> tuple[Autoencoder, LatentMap, Autoencoder, LatentMap]:
    """(VAE, its map, plain conv model, its map) of ``latent_dim`` (2 or 16), on the CPU."""
    out = []
    for family in ("vae", "conv"):
        name = model_name(family, latent_dim, dataset)
        model = load_model(name, directory)
        out += [model, load_map(name, directory)]
    return tuple(out)


def neighbour_gaps(codes: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(n, D) codes, (N, D) held-out codes -> (n,) distance to the nearest held-out code divided by
    the median distance from a held-out code to its nearest other held-out code."""
    to_reference = latent_distances(codes, reference).min(1)
    nearest_other = np.empty(len(reference))
    for start in range(0, len(reference), 500):   # in chunks: 5,000 x 5,000 distances at once would be 200 MB
        within = latent_distances(reference[start:start + 500], reference)
        within[np.arange(len(within)), np.arange(start, start + len(within))] = np.inf
        nearest_other[start:start + len(within)] = within.min(1)
    return (to_reference / np.median(nearest_other)).astype(np.float32)


def generate(vae: Autoencoder, vae_map: LatentMap, plain: Autoencoder, plain_map: LatentMap,
             n: int = N_SAMPLES, seed: int = 0) -> Generated:
    """``n`` draws from the VAE's prior N(0, I) and ``n`` uniform draws from the box of the plain
    model's held-out codes (``plain_map.codes``), each decoded by its own model; seeded."""
    if vae.latent_dim != plain.latent_dim:
        raise ValueError(f"the VAE has {vae.latent_dim} code numbers and the plain model {plain.latent_dim}")
    z = vae.latent_dim
    vae_codes = np.random.default_rng([seed, 0]).standard_normal((n, z)).astype(np.float32)
    low, high = plain_map.codes.min(0), plain_map.codes.max(0)
    plain_codes = np.random.default_rng([seed, 1]).uniform(low, high, (n, z)).astype(np.float32)
    return Generated(decode_codes(vae, vae_codes), decode_codes(plain, plain_codes), vae_codes, plain_codes,
                     low.astype(np.float32), high.astype(np.float32),
                     neighbour_gaps(vae_codes, vae_map.codes), neighbour_gaps(plain_codes, plain_map.codes))


def prior_circles(radii: tuple[float, ...] = PRIOR_RADII, points: int = 121) -> dict[float, np.ndarray]:
    """radius -> (points, 2) points of that circle around the origin, closed (the last equals the first).

    In two dimensions N(0, I) puts 39 % of its draws inside the 1σ circle and 86 % inside 2σ.
    """
    angles = np.linspace(0.0, 2.0 * np.pi, points)
    circle = np.stack([np.cos(angles), np.sin(angles)], 1)
    circle[-1] = circle[0]
    return {r: (r * circle).astype(np.float32) for r in radii}


@dataclass(frozen=True)
class CodeMaps2D:
    """Both 2-D code spaces side by side: held-out codes, their classes, and the VAE's prior circles."""

    vae_codes: np.ndarray      # (N, 2) the VAE's means of the held-out images
    vae_labels: np.ndarray     # (N,)
    vae_indices: np.ndarray    # (N,) their rows of the bundled held-out sample
    plain_codes: np.ndarray    # (M, 2) the conv z = 2 codes of the held-out images
    plain_labels: np.ndarray   # (M,)
    plain_indices: np.ndarray  # (M,)
    circles: dict[float, np.ndarray]  # radius (in σ) -> (K, 2) points, for the VAE's map


def code_maps_2d(vae_map: LatentMap, plain_map: LatentMap) -> CodeMaps2D:
    """The maps of a 2-D VAE and of conv z = 2 as the data of two scatter plots."""
    if vae_map.codes.shape[1] != 2 or plain_map.codes.shape[1] != 2:
        raise ValueError("code_maps_2d draws 2-D codes; these maps are of larger ones")
    return CodeMaps2D(vae_map.codes, vae_map.labels, vae_map.indices, plain_map.codes, plain_map.labels,
                      plain_map.indices, prior_circles())
