"""The sentences that teach, checked against the shipped weights, the card and anomaly.json.

One test per measured claim, each named for the sentence it supports and saying where that
sentence is: when the weights change and a claim stops being true, the failure names the
sentence to rewrite.
"""
from __future__ import annotations

import numpy as np
import pytest

from ae_demo import anomaly, anomaly_builder, corruption
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
    image, _ = anomaly.anomaly_input(anomaly_builder.draw_letter(letter))
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


@pytest.fixture(scope="module")
def generators_2d():
    from ae_demo.generation import load_generators

    return load_generators("mnist", 2)


def test_new_images_at_the_steps_own_seed_the_vaes_samples_are_the_blurriest_and_the_box_lands_furthest(
        generators_2d):
    """Tour "New images" and the demo: the sentence about the seed on screen is computed
    (generation.what_the_pictures_show); at the page the step opens (digits, z = 2, seed 0) it says that the
    VAE's prior samples are the blurriest and the plain net's box codes land furthest from real codes, which is
    what issue 18 saw on that page (the plain net's 16 codes decode to crisp digits)."""
    from ae_demo.generation import generate, what_the_pictures_show
    from ui.demos.generate import DEFAULT_LATENT, DEFAULT_SEED

    assert (step("New images").dataset, DEFAULT_LATENT, DEFAULT_SEED) == ("mnist", 2, 0)
    shown = what_the_pictures_show(generate(*generators_2d, seed=DEFAULT_SEED))
    assert shown["blurriest"] == "vae" and shown["furthest"] == "box"
    assert shown["heldout_ink"] > max(shown["ink"].values())   # real digits' ink is more solid than any grid's


def test_new_images_ink_strength_ranks_blurred_held_out_digits_below_the_digits_themselves():
    """The demo's measure of blur: a held-out digit, blurred, has a lower ink strength than itself."""
    from ae_demo.generation import ink_strength

    digits = load_verified_reference("mnist").images[:200].numpy().astype(np.float32) / 255.0
    padded = np.pad(digits, ((0, 0), (1, 1), (1, 1)))
    blurred = sum(padded[:, i:i + 28, j:j + 28] for i in range(3) for j in range(3)) / 9
    assert (ink_strength(blurred) < ink_strength(digits)).mean() > 0.95


# ------------------------------------------------------------- Watch it learn

def test_learn_live_an_exact_copy_scores_the_floor_and_no_reconstruction_scores_below_it():
    """Watch it learn's caption: "It cannot reach 0: on grey pixels even an exact copy scores" the floor, which
    the chart draws: the training loss of the exact copy equals metrics.cross_entropy_floor, and a blurred copy
    scores more."""
    import torch
    import torch.nn.functional as F

    from ae_demo.live_child import live_data
    from ae_demo.metrics import cross_entropy_floor

    train = live_data("mnist")[0][:300].double()
    floor = cross_entropy_floor(train)
    copy = F.binary_cross_entropy(train, train, reduction="sum").item() / len(train)
    blurred = F.avg_pool2d(train, 3, 1, 1)
    worse = F.binary_cross_entropy(blurred.clamp(1e-6, 1 - 1e-6), train, reduction="sum").item() / len(train)
    assert floor > 10 and copy == pytest.approx(floor, rel=1e-6) and worse > floor
    assert torch.isfinite(torch.tensor(floor))


# ------------------------------------------------------------- the ladder's numbers

def test_ladder_sse_is_at_most_784_and_psnr_is_ten_log_of_one_over_the_mean_squared_error():
    """The ladder's caption (ui/ladder.py's SSE_PSNR_SAYS): SSE summed over the 784 pixels in [0, 1], so at most
    784; PSNR = 10·log₁₀(1 / MSE) with MSE = SSE / 784."""
    from ae_demo.inference import run_ladder

    models = {z: load_model(model_name("conv", z, "mnist")) for z in (2, 32)}
    images = load_verified_reference("mnist").images[:20].numpy().astype(np.float32) / 255.0
    images = np.concatenate([images, 1.0 - images[:2]])   # inverted digits: large errors too
    result = run_ladder(models, images)
    assert (result.sse >= 0).all() and (result.sse <= 784).all()
    assert np.allclose(result.psnr, 10 * np.log10(784 / result.sse), atol=1e-3)


# ------------------------------------------------------------- tour "Latent arithmetic"

def test_arithmetic_the_tours_7_drifts_towards_a_1():
    """Tour "Latent arithmetic": "stronger, a 7 drifts towards a 1". The step's 7 moved along (mean 1 − mean 7)
    at the demo's strengths: re-encoded, the last picture's code is nearest the class-1 mean, the first's the 7's."""
    import torch

    from ae_demo.arithmetic import DEFAULT_STRENGTHS, class_means, move_towards_class
    from ae_demo.datasets import DATASETS as REGISTRY

    tour = step("Latent arithmetic")
    defaults = REGISTRY[tour.dataset].arithmetic
    source, target = defaults.source_class, defaults.target_class
    image = load_verified_reference(tour.dataset).images[tour.sample].numpy().astype(np.float32) / 255.0
    model, lm = load_model(model_name("conv", 16, tour.dataset)), load_map(model_name("conv", 16, tour.dataset))
    means = class_means(lm)
    moved = move_towards_class(model, image, means, source, target, np.asarray(DEFAULT_STRENGTHS))
    with torch.inference_mode():
        codes = model.encode(torch.from_numpy(moved.images)[:, None]).numpy()
    nearest = ((codes[:, None] - means[None]) ** 2).sum(-1).argmin(1)
    assert (source, target) == (7, 1) and nearest[0] == 7 and nearest[-1] == 1


# ------------------------------------------------------------- the map header's tooltip

@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan", "correlation"])
def test_map_header_tooltip_says_the_metric_in_use(metric):
    """The main map's header tooltip (ui/latent_map.py's explain_settings) describes the map's own metric: the
    straight-line distance only for euclidean."""
    from ae_demo.projection import METRICS, MapSettings
    from ui.latent_map import METRIC_SAYS, explain_settings

    assert set(METRIC_SAYS) == set(METRICS)
    said = explain_settings(MapSettings(method="umap", metric=metric))
    assert METRIC_SAYS[metric] in said and ("straight-line" in said) == (metric == "euclidean")
