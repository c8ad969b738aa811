"""The unconstrained net beside the constrained ones: its errors on held-out images and on non-members."""
import numpy as np
import pytest

from ae_demo.anomaly import reconstruction_errors
from ae_demo.data import to_unit
from ae_demo.evaluate import format_copying_table
from ae_demo.identity import (COMPARED, PROBE_KINDS, card_of, compared_models, copy_errors, error_share, never_inked,
                              non_members, probe_images, probe_label)
from ae_demo.zoo import load_model, load_verified_reference


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_one_probe_of_each_kind_as_the_models_see_it(dataset):
    probes = probe_images(dataset)
    assert tuple(probes) == PROBE_KINDS
    for picture in probes.values():
        assert picture.shape == (28, 28) and picture.dtype == np.float32 and 0 <= picture.min() <= picture.max() <= 1
    assert probe_label("other", "mnist") == "a Fashion image" and probe_label("noise", dataset) == "pure noise"


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
def test_copy_errors_are_the_mean_sse_of_each_kind():
    heldout = load_verified_reference("mnist").images[:50]
    probes = {kind: images[:6] for kind, images in non_members("mnist").items()}
    rows = copy_errors("mnist", heldout, probes=probes)
    assert [r.model for r in rows] == [f"{family}_z{z}_mnist" for family, z in COMPARED]
    models = compared_models("mnist")
    for row in rows:
        model = models[row.model]
        held = reconstruction_errors(model, to_unit(heldout).squeeze(1).numpy())[1].mean()
        assert row.heldout == pytest.approx(held, rel=1e-6) and row.n_heldout == 50
        for kind, images in probes.items():
            assert row.probes[kind] == pytest.approx(reconstruction_errors(model, images)[1].mean(), rel=1e-6)
            assert row.n_probes[kind] == 6
    table = format_copying_table([r.as_row() for r in rows])
    assert "identity_z1000_mnist" in table and "held-out: 50 images" in table


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_the_held_out_figure_is_the_cards(dataset):
    """On the whole bundled held-out split, copy_errors' held-out SSE is the card's."""
    rows = copy_errors(dataset, load_verified_reference(dataset).images,
                       probes={kind: images[:2] for kind, images in non_members(dataset).items()})
    for row in rows:
        assert row.heldout == pytest.approx(card_of(row.model).metrics["sse_per_image"], abs=2e-3)


def test_never_inked_pixels_are_black_in_every_training_image():
    mask = never_inked("mnist")
    images = load_verified_reference("mnist").images.numpy()
    assert mask.shape == (28, 28) and mask.any() and not mask.all()
    assert (images[:, mask] == 0).all()


def test_error_share_is_the_part_of_the_squared_error_on_the_mask():
    model = load_model("identity_z1000_mnist")
    noise = np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)
    everywhere, nowhere = np.ones((28, 28), bool), np.zeros((28, 28), bool)
    assert error_share(model, noise, everywhere) == pytest.approx(1.0)
    assert error_share(model, noise, nowhere) == 0.0
    half = np.zeros((28, 28), bool)
    half[:14] = True
    assert error_share(model, noise, half) + error_share(model, noise, ~half) == pytest.approx(1.0)
