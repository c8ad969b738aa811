"""The sentences that teach, checked against the shipped weights, the card and anomaly.json.

One test per measured claim, each named for the sentence it supports and saying where that
sentence is: when the weights change and a claim stops being true, the failure names the
sentence to rewrite.
"""
from __future__ import annotations

import numpy as np
import pytest

from ae_demo import anomaly, corruption
from ae_demo.maps import load_map
from ae_demo.zoo import load_model, load_verified_reference, model_name, read_zoo
from ui.demos.denoise import DEFAULT_SEED, DEFAULT_SIGMA
from ui.tour import STEPS

DATASETS = ("mnist", "fashion")


def step(title_start: str):
    """The tour step whose title starts so (issue 19 reorders the tour: found by title, not by number)."""
    (found,) = [s for s in STEPS if s.title.startswith(title_start)]
    return found


@pytest.fixture(scope="module")
def zoo():
    return read_zoo()


# ------------------------------------------------------------- tour "Denoising", ui/demos/denoise.py

@pytest.fixture(scope="module")
def denoising_pairs():
    return {dataset: corruption.load_denoising_pair(dataset) for dataset in DATASETS}


@pytest.mark.parametrize("dataset", DATASETS)
def test_denoising_the_plain_net_does_worse_than_the_noisy_input_at_low_noise(dataset, denoising_pairs):
    """Tour "Denoising" and README: "it does worse than leaving the input alone: its SSE against the clean
    digit is larger than the noisy input's own … at low noise, on the held-out digits". At σ = 0.1, over
    the held-out images the demo's curve uses."""
    curve = corruption.denoising_curve(dataset, sigmas=(0.1,), pair=denoising_pairs[dataset])
    assert curve.plain_sse[0] > curve.corrupted_sse[0], (
        f"{dataset}: the plain net's SSE {curve.plain_sse[0]:.2f} is no longer above the noisy input's "
        f"{curve.corrupted_sse[0]:.2f} at σ = 0.1: rewrite the tour's Denoising step and the README")
    assert corruption.plain_worse_than_noise(curve).tolist() == pytest.approx([0.1])


def test_denoising_on_the_tours_own_input_the_plain_net_is_worse_and_the_denoiser_better(denoising_pairs):
    """Tour "Denoising": "on this 7" (the step's sample, the demo's default noise and seed), the plain net's SSE
    is above the noisy input's, and the denoising one "brings the SSE well below the noisy input's"."""
    tour = step("Denoising")
    clean = load_verified_reference(tour.dataset).images[tour.sample:tour.sample + 1].numpy().astype(np.float32)
    clean /= 255.0
    noisy = corruption.gaussian_noise(clean, DEFAULT_SIGMA, DEFAULT_SEED)
    result = corruption.denoise(*denoising_pairs[tour.dataset], clean, noisy)
    assert result.plain_sse[0] > result.corrupted_sse[0]
    assert result.denoised_sse[0] < 0.5 * result.corrupted_sse[0]


@pytest.mark.slow
@pytest.mark.parametrize("dataset", DATASETS)
def test_denoising_the_denoiser_is_below_the_noisy_input_from_medium_noise_on(dataset, denoising_pairs):
    """README: the denoising net's SSE is below the noisy input's from σ = 0.2 on, and at σ = 0.1 slightly above
    it; the plain net is above the noisy input at σ = 0.1 (the demo's caption computes both from the curve)."""
    curve = corruption.denoising_curve(dataset, pair=denoising_pairs[dataset])
    assert corruption.denoiser_better_from(curve) == pytest.approx(0.2)
    assert corruption.plain_worse_than_noise(curve)[0] == pytest.approx(0.1)


# ------------------------------------------------------------- tour "PCA", the ladder's PCA row

@pytest.mark.parametrize("dataset", DATASETS)
def test_pca_the_convolutional_line_stays_below_pcas_at_every_size(dataset, zoo):
    """Tour "PCA": "on the chart the convolutional line stays below PCA's dotted one at every size". The
    chart's lines are the card's held-out SSE."""
    for z in zoo.latent_dims(dataset, "conv"):
        net = zoo.card(dataset, "conv", z).metrics["sse_per_image"]
        pca = zoo.card(dataset, "pca", z).metrics["sse_per_image"]
        assert net < pca, f"{dataset} z = {z}: conv {net} is not below PCA {pca}"


def test_pca_clipping_to_the_pixel_range_can_only_lower_its_error():
    """The ladder's PCA row, README's PCA row: the ladder clips PCA's output to [0, 1], which can only lower
    the SSE against an image in [0, 1] (the card's PCA SSE is unclipped)."""
    import torch

    model = load_model("pca_z8_mnist")
    images = load_verified_reference("mnist").images[:200].float()[:, None] / 255.0
    with torch.inference_mode():
        raw = model.reconstruct(images)
    unclipped = (raw - images).pow(2).flatten(1).sum(1)
    clipped = (raw.clamp(0, 1) - images).pow(2).flatten(1).sum(1)
    assert (raw.min() < 0 or raw.max() > 1) and bool((clipped <= unclipped + 1e-6).all())


# ------------------------------------------------------------- tour "Sparsity", the features section

@pytest.mark.parametrize("dataset", DATASETS)
def test_sparsity_the_penalty_holds_the_mean_activation_near_rho_and_without_it_far_above(dataset, zoo):
    """Features section: "The penalty holds the sparse net's units near ρ" (the card's mean activation on
    held-out images; the page shows its own measurement beside it)."""
    for hidden in zoo.latent_dims(dataset, "sparse"):
        card = zoo.card(dataset, "sparse", hidden)
        assert abs(card.metrics["mean_activation"] - card.recipe["sparsity_target"]) < 0.02
    plain = zoo.card(dataset, "nosparse", 196)
    assert plain.metrics["mean_activation"] > 3 * plain.recipe["sparsity_target"]


def test_sparsity_the_lessons_net_is_still_a_bottleneck(zoo):
    """Tour "Sparsity" and the features section: its hidden units "are still fewer than the 784 pixels"."""
    from ui.features import HIDDEN

    assert HIDDEN in zoo.latent_dims("mnist", "sparse") and HIDDEN < 28 * 28
    assert zoo.card("mnist", "sparse", HIDDEN).recipe["sparsity_target"] == 0.1  # UFLDL's MNIST exercise


# ------------------------------------------------------------- the maps

@pytest.mark.parametrize("dataset", DATASETS)
def test_maps_the_small_8_and_32_maps_are_umap_layouts_and_the_2d_one_the_code(dataset):
    """Bottleneck maps: "The 2-D code is drawn as it is; the 8- and 32-number codes are UMAP layouts"."""
    assert load_map(model_name("conv", 2, dataset)).settings.method == "identity"
    for z in (8, 32):
        assert load_map(model_name("conv", z, dataset)).settings.method == "umap"


# ------------------------------------------------------------- tour "How unusual is this?", the demo

@pytest.fixture(scope="module")
def digits_scorer():
    references = anomaly.load_references("mnist")
    return load_model(model_name("conv", references.default_latent_dim, "mnist")), references


@pytest.mark.parametrize("letter", ["I", "l", "O"])
def test_unusual_letters_such_as_i_l_and_o_can_pass_as_digits(letter, digits_scorer):
    """Tour "How unusual is this?": "letters such as I, l and O can pass as digits" (the default digits model)."""
    model, references = digits_scorer
    image, _ = anomaly.anomaly_input(anomaly.draw_letter(letter))
    result = anomaly.score(model, references.default, image, "mnist")
    assert not result.is_unusual, f"{letter!r} now scores {result.percentile:.1f}: rewrite the tour's sentence"


@pytest.mark.parametrize("dataset", DATASETS)
def test_unusual_the_auc_caption_counts_what_anomaly_json_measured(dataset):
    """The AUC caption: "the AUC of 500 held-out images … against each" category, and the counts per category,
    as anomaly.json describes its own measurement."""
    references = anomaly.load_references(dataset)
    import json

    stored = json.loads((anomaly.PRETRAINED_DIR / anomaly.ANOMALY_FILE).read_text())[dataset]
    assert stored["check"] == f"odd rows ({references.n_check} images)"
    assert references.non_member_counts == stored["non_members"]
    assert set(references.non_member_counts) == set(references.default.category_auc)


# ------------------------------------------------------------- tour "New images", the demo

def test_new_images_the_vaes_held_out_codes_spread_wider_than_the_prior():
    """Tour "New images": the KL term pulls each q(z|x) towards N(0, I), yet "its held-out codes still spread
    wider than the prior" (the means of the held-out images, z = 2)."""
    codes = load_map(model_name("vae", 2, "mnist")).codes
    assert (codes.std(0) > 1.0).all()
