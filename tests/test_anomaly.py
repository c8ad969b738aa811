"""How unusual is this: held-out images read ordinary, letters, faces, noise and clothes read unusual on digits."""
import io
import json
import math
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from ae_demo.anomaly import (ANOMALY_FILE, UNUSUAL_PERCENTILE, anomaly_input, anomaly_inputs, load_references,
                             reconstruction_errors, score, unprocessed_reference, unusualness_sentence)
from ae_demo.anomaly_builder import compute_references, draw_letter, non_member_images, roc_auc
from ae_demo.data import PRETRAINED_DIR
from ae_demo.zoo import ZooError, load_model, load_verified_reference

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FIRST_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")


@pytest.fixture(scope="module")
def digits():
    references = load_references("mnist")
    return references, load_model(references.default.model)


def _percentiles(model, reference, images):
    return reference.percentile(reconstruction_errors(model, images)[1])


def test_the_stored_references_cover_the_conv_ladder_and_name_the_best_size():
    for dataset in ("mnist", "fashion"):
        references = load_references(dataset)
        assert sorted(references.by_latent_dim) == [2, 4, 8, 16, 32, 64]
        best = max(r.auc for r in references.by_latent_dim.values())
        assert references.default.auc == best and references.default.latent_dim == references.default_latent_dim
        for reference in references.by_latent_dim.values():
            assert (np.diff(reference.quantiles) >= 0).all() and 0.5 < reference.auc <= 1
            assert reference.percentile(reference.quantiles[50]) == pytest.approx(50)


def test_held_out_digits_never_in_the_reference_spread_around_the_middle(digits):
    references, model = digits
    odd_rows = load_verified_reference("mnist").images.numpy()[1::2][:150]
    percentiles = _percentiles(model, references.default, anomaly_inputs(odd_rows))
    assert 35 <= np.median(percentiles) <= 65
    assert np.percentile(percentiles, 25) < 40 and np.percentile(percentiles, 75) > 60


def test_unprocessed_held_out_digits_belong_with_an_unprocessed_reference_not_the_stored_one(digits):
    """A held-out digit as the page runs it (not through anomaly_input): among unprocessed held-out errors it sits
    in the middle; against the stored, preprocessed reference it would look unusual."""
    references, model = digits
    images = load_verified_reference("mnist").images.numpy().astype(np.float32) / 255.0
    unprocessed = unprocessed_reference(model, images[0::2][:1000], references.default.model)
    assert unprocessed.latent_dim == references.default_latent_dim and unprocessed.n_images == 1000
    assert (np.diff(unprocessed.quantiles) >= 0).all() and math.isnan(unprocessed.auc)
    odd_rows = images[1::2][:150]
    assert 35 <= np.median(_percentiles(model, unprocessed, odd_rows)) <= 65
    assert np.median(_percentiles(model, references.default, odd_rows)) > 80


def test_letters_faces_noise_and_clothes_read_unusual_on_the_digits_model(digits):
    references, model = digits
    generated = non_member_images("mnist", per_category=20)
    assert set(generated) == {"letters", "faces", "noise", "fashion"}
    everything = []
    for category, images in generated.items():
        percentiles = _percentiles(model, references.default, images)
        assert np.median(percentiles) >= UNUSUAL_PERCENTILE, category
        everything.append(percentiles)
    assert np.median(np.concatenate(everything)) >= UNUSUAL_PERCENTILE


def test_pure_noise_is_no_drawing_but_still_gets_an_answer(digits):
    references, model = digits
    noise = (np.random.default_rng(5).random((200, 200)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    image, how = anomaly_input(buffer.getvalue(), "noise.png")
    assert how == "plain image" and image.shape == (28, 28)
    result = score(model, references.default, image, "mnist")
    assert result.is_unusual and result.percentile >= UNUSUAL_PERCENTILE


def test_a_score_carries_the_sentence_the_reconstruction_and_the_heatmap(digits):
    references, model = digits
    image, how = anomaly_input(draw_letter("K"))
    assert how == "drawing"
    result = score(model, references.default, image, "mnist")
    assert result.reconstruction.shape == (28, 28) and result.heatmap.shape == (28, 28, 3)
    assert result.heatmap.dtype == np.uint8 and result.latent_dim == references.default_latent_dim
    assert float(FIRST_PERCENT.search(result.sentence).group(1)) == math.floor(result.percentile)
    assert result.sse == pytest.approx(((result.reconstruction - image) ** 2).sum(), rel=1e-4)


def test_a_held_out_digit_reads_ordinary(digits):
    references, model = digits
    odd_rows = load_verified_reference("mnist").images.numpy()[1::2][:40]
    results = [score(model, references.default, anomaly_input(row)[0], "mnist") for row in odd_rows]
    ordinary = [r for r in results if 30 <= r.percentile <= 70]
    assert ordinary and all("ordinary" in r.sentence or "unusual side" in r.sentence for r in ordinary)
    assert sum(r.is_unusual for r in results) <= 6       # about 5 % of real digits are, by construction


@pytest.mark.parametrize("percentile", [0.0, 3.2, 49.99, 94.9, 97.6, 100.0])
def test_the_sentences_first_number_before_a_percent_sign_is_the_percentile_rounded_down(percentile):
    for dataset in ("mnist", "fashion"):
        sentence = unusualness_sentence(percentile, dataset)
        assert float(FIRST_PERCENT.search(sentence).group(1)) == math.floor(percentile)
    assert "real digits" in unusualness_sentence(percentile, "mnist")


def test_roc_auc_counts_pairs():
    assert roc_auc([1, 2, 3], [4, 5]) == 1.0 and roc_auc([4, 5], [1, 2, 3]) == 0.0
    assert roc_auc([1, 2], [2, 3]) == pytest.approx((1 + 1 + 0.5 + 1) / 4)


def test_references_made_with_other_weights_are_refused(tmp_path):
    shutil.copy(PRETRAINED_DIR / "manifest.json", tmp_path / "manifest.json")
    stored = json.loads((PRETRAINED_DIR / ANOMALY_FILE).read_text())
    stored["mnist"]["models"]["8"]["model_sha256"] = "0" * 64
    (tmp_path / ANOMALY_FILE).write_text(json.dumps(stored))
    with pytest.raises(ZooError, match="conv_z8_mnist.*other weights"):
        load_references("mnist", tmp_path)
    with pytest.raises(ZooError, match="file missing"):
        load_references("mnist", tmp_path / "nowhere")


@pytest.mark.slow
def test_the_stored_references_are_what_the_weights_give():
    stored = json.loads((PRETRAINED_DIR / ANOMALY_FILE).read_text())["mnist"]
    fresh = compute_references("mnist", progress=lambda line: None)
    assert fresh["default_latent_dim"] == stored["default_latent_dim"]
    for z, entry in fresh["models"].items():
        assert np.allclose(entry["quantiles"], stored["models"][z]["quantiles"], rtol=1e-3, atol=1e-3)
        assert entry["auc"] == pytest.approx(stored["models"][z]["auc"], abs=1e-3)
