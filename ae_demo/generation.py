"""New images from random codes: a VAE's prior against a plain autoencoder's code space.

A VAE (Kingma & Welling, 2014) is trained with a KL term that pulls each image's q(z|x)
towards the prior N(0, I), so a draw from the prior lands where its decoder has learned
something (its held-out means still spread wider than the prior: ``code_spread``). A plain
autoencoder has no prior, and its codes spread over ±10 or more, so N(0, I) would be no test
for it. Its random codes are drawn two ways: the naive way a student would, **uniformly from
the box its held-out codes span** (per code number, from the smallest to the largest held-out
value), and from **a Gaussian fitted to its held-out codes** (their mean and covariance), the
fair comparison with the VAE's prior.

Two measures of what comes out, computed for the seed on screen:

- how far a random code lands from real ones, in neighbour gaps: its distance to the nearest
  held-out code, divided by the median distance from a held-out code to its own nearest
  neighbour. Near 1, the code sits among real codes; far above, in a hole;
- how blurred a decoded picture is, as its ink strength (``ink_strength``): the mean
  brightness of its inked pixels. A held-out digit's ink is mostly solid white; a blur spreads
  faint ink. A code far from real ones need not decode to a blur: a decoder can extrapolate
  sharply, so the page reports both.

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
from .zoo import load_model, load_verified_reference, model_name, read_zoo

N_SAMPLES = 16
PRIOR_RADII = (1.0, 2.0)  # the circles drawn on a 2-D VAE's map: 1σ and 2σ of N(0, I)
INK = 0.1                 # a pixel brighter than this is ink (the background of MNIST is 0)


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
    fitted_images: np.ndarray  # (n, 28, 28) float32 in [0, 1]: the plain model's decoded draws from its fitted Gaussian
    fitted_codes: np.ndarray   # (n, latent_dim) float32: draws from N(mean, covariance of its held-out codes)
    fitted_gaps: np.ndarray    # (n,) the same gaps for those codes
    heldout_ink: float         # mean ink strength of the held-out images the codes came from (see ink_strength)


def load_generators(dataset: str, latent_dim: int, directory: Path = PRETRAINED_DIR
                    ) -> tuple[Autoencoder, LatentMap, Autoencoder, LatentMap]:
    """(VAE, its map, plain conv model, its map) of ``latent_dim`` (2 or 16), on the CPU."""
    out = []
    for family in ("vae", "conv"):
        name = model_name(family, latent_dim, dataset)
        model = load_model(name, directory)
        out += [model, load_map(name, directory)]
    return tuple(out)


def neighbour_gap(reference: np.ndarray) -> float:
    """(N, D) held-out codes -> the median distance from a held-out code to its nearest other one."""
    nearest_other = np.empty(len(reference))
    for start in range(0, len(reference), 500):   # in chunks: 5,000 x 5,000 distances at once would be 200 MB
        within = latent_distances(reference[start:start + 500], reference)
        within[np.arange(len(within)), np.arange(start, start + len(within))] = np.inf
        nearest_other[start:start + len(within)] = within.min(1)
    return float(np.median(nearest_other))


def neighbour_gaps(codes: np.ndarray, reference: np.ndarray, gap: float | None = None) -> np.ndarray:
    """(n, D) codes, (N, D) held-out codes -> (n,) distance to the nearest held-out code divided by
    the median distance from a held-out code to its nearest other held-out code (``gap``, computed
    when not given: ``neighbour_gap(reference)``)."""
    to_reference = latent_distances(codes, reference).min(1)
    return (to_reference / (neighbour_gap(reference) if gap is None else gap)).astype(np.float32)


def ink_strength(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) in [0, 1] -> (N,) the mean brightness of each picture's inked pixels (those above INK),
    in (INK, 1]: near 1, solid strokes; low, faint spread-out ink, a blur. 0 for a picture without ink."""
    flat = np.asarray(images, np.float32).reshape(len(images), -1)
    inked = flat > INK
    return np.where(inked.any(1), (flat * inked).sum(1) / np.maximum(inked.sum(1), 1), 0.0).astype(np.float32)


def code_spread(codes: np.ndarray) -> np.ndarray:
    """(N, D) held-out codes -> (D,) their standard deviation per code number (the prior's is 1)."""
    return np.asarray(codes, np.float64).std(0)


def fitted_gaussian_codes(codes: np.ndarray, n: int, seed: int) -> np.ndarray:
    """(N, D) held-out codes -> (n, D) float32 draws from the Gaussian with their mean and covariance; seeded."""
    codes = np.asarray(codes, np.float64)
    return np.random.default_rng([seed, 2]).multivariate_normal(codes.mean(0), np.cov(codes.T).reshape(
        codes.shape[1], codes.shape[1]), n).astype(np.float32)


def generate(vae: Autoencoder, vae_map: LatentMap, plain: Autoencoder, plain_map: LatentMap,
             n: int = N_SAMPLES, seed: int = 0) -> Generated:
    """``n`` draws from the VAE's prior N(0, I), and for the plain model ``n`` uniform draws from the
    box of its held-out codes (``plain_map.codes``) and ``n`` from a Gaussian fitted to them, each
    decoded by its own model; seeded. ``heldout_ink``: over the held-out images of ``plain_map``."""
    if vae.latent_dim != plain.latent_dim:
        raise ValueError(f"the VAE has {vae.latent_dim} code numbers and the plain model {plain.latent_dim}")
    z = vae.latent_dim
    vae_codes = np.random.default_rng([seed, 0]).standard_normal((n, z)).astype(np.float32)
    low, high = plain_map.codes.min(0), plain_map.codes.max(0)
    plain_codes = np.random.default_rng([seed, 1]).uniform(low, high, (n, z)).astype(np.float32)
    fitted_codes = fitted_gaussian_codes(plain_map.codes, n, seed)
    plain_gap = neighbour_gap(plain_map.codes)
    return Generated(decode_codes(vae, vae_codes), decode_codes(plain, plain_codes), vae_codes, plain_codes,
                     low.astype(np.float32), high.astype(np.float32),
                     neighbour_gaps(vae_codes, vae_map.codes), neighbour_gaps(plain_codes, plain_map.codes, plain_gap),
                     decode_codes(plain, fitted_codes), fitted_codes,
                     neighbour_gaps(fitted_codes, plain_map.codes, plain_gap), heldout_ink(plain_map))


def heldout_ink(lm: LatentMap, directory: Path = PRETRAINED_DIR) -> float:
    """Mean ink strength of the bundled held-out images a map was made of."""
    dataset = read_zoo(directory).models[lm.model].dataset
    images = load_verified_reference(dataset, directory).images.numpy()[lm.indices].astype(np.float32) / 255.0
    return float(ink_strength(images).mean())


GRIDS = ("vae", "box", "fitted")   # the three grids the demo shows, in its order


def what_the_pictures_show(shown: Generated) -> dict[str, object]:
    """The figures the demo's sentence quotes for one seed: per grid (GRIDS) the mean ink strength and the
    median gap, which grid is the blurriest (lowest ink) and which lands furthest from real codes."""
    ink = {"vae": float(ink_strength(shown.vae_images).mean()), "box": float(ink_strength(shown.plain_images).mean()),
           "fitted": float(ink_strength(shown.fitted_images).mean())}
    gaps = {"vae": float(np.median(shown.vae_gaps)), "box": float(np.median(shown.plain_gaps)),
            "fitted": float(np.median(shown.fitted_gaps))}
    return {"ink": ink, "gaps": gaps, "heldout_ink": shown.heldout_ink,
            "blurriest": min(GRIDS, key=ink.get), "sharpest": max(GRIDS, key=ink.get),
            "furthest": max(GRIDS, key=gaps.get), "nearest": min(GRIDS, key=gaps.get)}


def share_inside(radius: float) -> float:
    """The share of a 2-D N(0, I)'s draws within ``radius`` of the origin: 1 − exp(−r²/2) (chi-squared, 2 dof)."""
    return float(1.0 - np.exp(-radius ** 2 / 2.0))


def prior_circles(radii: tuple[float, ...] = PRIOR_RADII, points: int = 121) -> dict[float, np.ndarray]:
    """radius -> (points, 2) points of that circle around the origin, closed (the last equals the first).

    In two dimensions N(0, I) puts ``share_inside(1.0)`` of its draws inside the 1σ circle.
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


def main(argv: list[str] | None = None) -> int:
    """Print, per code size, what the demo's three grids show over many seeds: mean ink strength and median
    neighbour gap per grid, and how often each grid is the blurriest and the furthest from real codes."""
    import argparse

    from .datasets import names

    parser = argparse.ArgumentParser(prog="python -m ae_demo.generation", description=main.__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(names()), default="mnist")
    parser.add_argument("--seeds", type=int, default=100, help="seeds 0 … N-1 (default 100)")
    args = parser.parse_args(argv)
    for z in read_zoo().latent_dims(args.dataset, "vae"):
        generators = load_generators(args.dataset, z)
        shown = [what_the_pictures_show(generate(*generators, seed=seed)) for seed in range(args.seeds)]
        print(f"{args.dataset} z = {z}, seeds 0-{args.seeds - 1}; held-out ink strength {shown[0]['heldout_ink']:.3f}")
        for grid in GRIDS:
            ink = np.array([s["ink"][grid] for s in shown])
            gaps = np.array([s["gaps"][grid] for s in shown])
            print(f"  {grid:7s} ink {np.median(ink):.3f} (seed 0: {ink[0]:.3f})  gaps {np.median(gaps):.2f} "
                  f"(seed 0: {gaps[0]:.2f})  blurriest in {sum(s['blurriest'] == grid for s in shown)} seeds, "
                  f"furthest in {sum(s['furthest'] == grid for s in shown)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
