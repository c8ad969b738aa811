"""The evaluate command on the bundled sample, and its figures against the card."""
import json
import subprocess
import sys

import pytest

from ae_demo.data import to_unit
from ae_demo.evaluate import evaluate, format_table
from ae_demo.metrics import mean_activation, unit_activations
from ae_demo.zoo import LADDER_FAMILIES, LESSON_FAMILIES, cards, load_model, load_verified_reference

FIELDS = {"model", "dataset", "latent_dim", "n_images", "sse_per_image", "pca_sse_per_image"}


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
def test_small_slice_has_one_row_per_network():
    split = load_verified_reference("mnist")
    rows = evaluate("mnist", split.images, limit=40)
    networks = [c for c in cards("mnist") if c.family != "pca"]
    assert [r["model"] for r in rows] == [c.name for c in networks]
    for row in rows:
        assert FIELDS <= set(row) and row["n_images"] == 40 and 0 < row["sse_per_image"] < 784
        if row["family"] in LADDER_FAMILIES:
            assert row["ratio_to_pca"] == pytest.approx(row["sse_per_image"] / row["pca_sse_per_image"], rel=1e-3)
        else:  # the lesson's nets: no PCA of their size, their mean activation instead
            assert row["family"] in LESSON_FAMILIES and row["pca_sse_per_image"] is row["ratio_to_pca"] is None
            assert 0 < row["mean_activation"] < 1 and row["placement_accuracy"] is None
    assert "conv_z32_mnist" in format_table(rows)


def test_a_row_without_pca_prints_dashes():
    row = {"model": "sparse_z196_mnist", "latent_dim": 196, "n_images": 2000, "sse_per_image": 20.5,
           "pca_sse_per_image": None, "ratio_to_pca": None, "psnr_db": 17.0, "placement_accuracy": None,
           "mean_activation": 0.1012}
    line = format_table([row]).splitlines()[-1]
    assert line.split() == ["sparse_z196_mnist", "196", "2000", "20.500", "-", "-", "17.00", "-", "0.1012"]


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
def test_json_output_is_one_list(tmp_path):
    out = subprocess.run([sys.executable, "-m", "ae_demo.evaluate", "--dataset", "mnist", "--limit", "20", "--json"],
                         capture_output=True, text=True, check=True)
    rows = json.loads(out.stdout)
    assert isinstance(rows, list) and rows and all(FIELDS <= set(r) for r in rows)


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_figures_match_the_card(dataset):
    """The card's metrics are what evaluate measures on the whole bundled held-out split."""
    split = load_verified_reference(dataset)
    by_name = {c.name: c for c in cards(dataset)}
    for row in evaluate(dataset, split.images):
        card = by_name[row["model"]]
        assert row["n_images"] == card.metrics["n_images"]
        assert row["sse_per_image"] == pytest.approx(card.metrics["sse_per_image"], abs=2e-3)
        if row["pca_sse_per_image"] is None:
            assert "pca_sse_per_image" not in card.metrics
            assert row["mean_activation"] == pytest.approx(card.metrics["mean_activation"], abs=2e-4)
        else:
            assert row["pca_sse_per_image"] == pytest.approx(card.metrics["pca_sse_per_image"], abs=2e-3)


@pytest.mark.parametrize("dataset, ratio_32, ratio_2", [("mnist", 0.25, 0.85), ("fashion", 0.55, 0.90)])
def test_the_shipped_ladder_reaches_its_figures(dataset, ratio_32, ratio_2):
    """Issue targets, read from the card (which test_figures_match_the_card ties to the weights)."""
    ladder = {c.latent_dim: c.metrics for c in cards(dataset) if c.family == "conv"}
    assert ladder[32]["ratio_to_pca"] <= ratio_32
    assert ladder[2]["ratio_to_pca"] <= ratio_2
    errors = [ladder[z]["sse_per_image"] for z in sorted(ladder)]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_the_shipped_sparse_nets_hold_their_target_and_the_contrast_does_not(dataset):
    """On the bundled held-out images, the mean hidden activation is within 0.02 of ρ only with β > 0."""
    x = to_unit(load_verified_reference(dataset).images)
    lesson = [c for c in cards(dataset) if c.family in LESSON_FAMILIES]
    assert {c.family for c in lesson} == set(LESSON_FAMILIES)
    for card in lesson:
        if card.recipe["sparsity_target"] is None:  # the unconstrained net: no target to hold
            continue
        activation = mean_activation(load_model(card.name), x)
        near_target = abs(activation - card.recipe["sparsity_target"]) <= 0.02
        assert near_target == (card.family == "sparse"), (card.name, activation)


def test_unit_activations_are_the_per_unit_figures_the_mean_is_made_of():
    model = load_model("sparse_z196_mnist")
    images = to_unit(load_verified_reference("mnist").images[:300])
    rho_hat = unit_activations(model, images, batch_size=128)
    assert rho_hat.shape == (196,) and ((rho_hat > 0) & (rho_hat < 1)).all()
    assert float(rho_hat.mean()) == pytest.approx(mean_activation(model, images), abs=1e-9)
