"""Latent maps: placement without refitting, faithfulness, the precomputed files."""
import json
import shutil

import numpy as np
import pytest

from ae_demo.maps import (LatentMap, build_map, encode_images, latent_distances,
                          load_map, mapped_cards, placement_accuracy, refit_map)
from ae_demo.models import ModelConfig, build_model
from ae_demo.projection import MapSettings, fit_coords, settings_for
from ae_demo.zoo import ZooError, load_model, load_verified_reference, read_manifest, save_model
from ae_demo.data import PRETRAINED_DIR, sha256_of


def toy_map(metric="euclidean") -> LatentMap:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 5)) * 10
    labels = np.repeat(np.arange(3), 30)
    codes = (centres[labels] + rng.normal(size=(90, 5))).astype(np.float32)
    coords = (centres[labels][:, :2] + rng.normal(size=(90, 2)) * 0.1).astype(np.float32)
    return LatentMap("toy", MapSettings(metric=metric), np.arange(90), labels, codes, coords)


def test_placing_does_not_move_the_reference_points():
    m = toy_map()
    before = m.coords.copy()
    m.place(m.codes[:5] + 0.1)
    assert np.array_equal(m.coords, before)


def test_an_input_on_a_reference_point_lands_on_it():
    m = toy_map()
    assert np.allclose(m.place(m.codes[7:8]), m.coords[7], atol=1e-3)


def test_an_input_lands_among_its_class():
    m = toy_map()
    placed = m.place(m.codes[:90:10] + 0.05)
    for p, label in zip(placed, m.labels[:90:10]):
        nearest = np.argsort(((m.coords - p) ** 2).sum(1))[:5]
        assert (m.labels[nearest] == label).all()


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan", "correlation"])
def test_distances_match_scipy(metric):
    from scipy.spatial.distance import cdist

    a, b = np.random.default_rng(1).normal(size=(4, 6)), np.random.default_rng(2).normal(size=(7, 6))
    scipy_name = {"manhattan": "cityblock"}.get(metric, metric)
    assert np.allclose(latent_distances(a, b, metric), cdist(a, b, metric=scipy_name), atol=1e-9)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan", "correlation"])
def test_a_map_measures_in_its_metric_as_the_plain_function_does(metric):
    m = toy_map(metric)
    codes = m.codes[::9] + 0.3
    assert np.allclose(m.latent_distances(codes), latent_distances(codes, m.codes, metric), atol=1e-9)
    assert np.allclose(m.latent_distances(codes), m.latent_distances(codes))  # again, from what it kept


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_locate_is_place_and_neighbours_in_one(metric):
    m = toy_map(metric)
    codes = m.codes[::7] + 0.2
    placed, rows = m.locate(codes, k=6)
    assert np.array_equal(placed, m.place(codes)) and np.array_equal(rows, m.neighbours(codes, 6))
    assert rows.shape == (len(codes), 6) and placed.shape == (len(codes), 2)


def test_an_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="unknown metric"):
        latent_distances(np.zeros((1, 2)), np.zeros((3, 2)), "chebyshev")


def test_neighbours_are_nearest_first():
    m = toy_map()
    rows = m.neighbours(m.codes[3], k=8)
    d = np.linalg.norm(m.codes[rows] - m.codes[3], axis=1)
    assert rows[0] == 3 and len(rows) == 8 and (np.diff(d) >= 0).all()


def test_toy_placement_accuracy_is_perfect():
    assert placement_accuracy(toy_map()) == 1.0


def test_pca_and_identity_maps():
    codes = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    assert fit_coords(codes, MapSettings(method="pca")).shape == (50, 2)
    assert np.array_equal(fit_coords(codes[:, :2], settings_for(2)), codes[:, :2])


def test_only_a_two_dimensional_code_is_drawn_as_it_is():
    assert settings_for(2).method == "identity" and settings_for(2, MapSettings(metric="cosine")).metric == "cosine"
    assert settings_for(2, MapSettings(method="pca")).method == "pca"
    assert settings_for(8) == MapSettings() and settings_for(32, MapSettings(n_neighbors=5)).n_neighbors == 5


def test_two_dimensional_latent_is_drawn_as_it_is():
    model = load_model("conv_z2_mnist")
    m = load_map("conv_z2_mnist")
    assert m.settings.method == "identity" and m.drawn_as_code and np.array_equal(m.coords, m.codes)
    assert np.allclose(m.place(m.codes[:3]), m.codes[:3])
    reference = load_verified_reference("mnist")
    assert np.allclose(m.codes[:50], encode_images(model, reference.images[m.indices[:50]]), atol=1e-4)


@pytest.mark.parametrize("name", sorted(read_manifest().get("maps", {})))
def test_precomputed_map_files_match_the_card(name):
    entry = read_manifest()["maps"][name]
    assert sha256_of(PRETRAINED_DIR / "maps" / entry["file"]) == entry["sha256"]
    m = load_map(name)
    assert m.coords.shape == (entry["n_points"], 2) and np.isfinite(m.coords).all()


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
@pytest.mark.parametrize("name", ["conv_z32_mnist", "vae_z2_fashion"])
def test_stored_codes_are_what_the_weights_encode(name):
    """The reference codes come from the file, not the encoder: they must be the card's weights' codes."""
    card = read_manifest()["models"][name]
    model = load_model(name)
    m = load_map(name)
    assert read_manifest()["maps"][name]["model_sha256"] == card["sha256"]
    encoded = encode_images(model, load_verified_reference(card["dataset"]).images[m.indices])
    assert m.codes.dtype == np.float32 and m.codes.shape == encoded.shape == (len(m.labels), card["latent_dim"])
    assert np.abs(m.codes - encoded).max() <= 2e-3 * np.abs(encoded).max()  # float16 storage


def test_a_map_made_with_other_weights_says_to_refit(tmp_path):
    manifest = read_manifest()
    name = "conv_z8_mnist"
    entry = dict(manifest["maps"][name], model_sha256="0" * 64)
    (tmp_path / "maps").mkdir()
    shutil.copy(PRETRAINED_DIR / "maps" / entry["file"], tmp_path / "maps" / entry["file"])
    shutil.copytree(PRETRAINED_DIR / "samples", tmp_path / "samples")
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {name: manifest["models"][name]},
                                                        "samples": manifest["samples"], "maps": {name: entry}}))
    with pytest.raises(ZooError, match=f"refit it: python -m ae_demo.maps --refit {name}"):
        load_map(name, tmp_path)


@pytest.mark.slow
def test_held_out_digits_land_among_their_own_class_at_latent_32():
    """Faithful placement: leave-one-out through LatentMap.place, majority of 10 map neighbours."""
    m = load_map("conv_z32_mnist")
    accuracy = placement_accuracy(m)
    assert accuracy >= 0.90
    assert accuracy == pytest.approx(read_manifest()["maps"]["conv_z32_mnist"]["placement_accuracy"], abs=1e-4)


@pytest.mark.slow
def test_recomputing_with_pca_gives_a_full_map():
    m = build_map("conv_z8_mnist", load_model("conv_z8_mnist"), "mnist", MapSettings(method="pca"))
    assert m.coords.shape == (2000, 2) and placement_accuracy(m) > 0.5


def test_refitting_a_stored_map_lays_out_its_own_codes_again():
    """How the app recomputes: the default map's codes, a new layout, the same reference points."""
    default = load_map("conv_z8_mnist")
    m = refit_map(default, MapSettings(method="pca"))
    assert m.settings.method == "pca" and m.codes is default.codes and np.array_equal(m.indices, default.indices)
    assert np.allclose(m.coords, fit_coords(default.codes, MapSettings(method="pca")))
    assert not np.allclose(m.coords, default.coords)
    assert refit_map(load_map("conv_z2_mnist"), MapSettings()).settings.method == "identity"


def test_only_the_ladder_families_get_maps(tmp_path):
    for family, config in (("conv", ModelConfig("conv", 3, width=4)), ("pca", ModelConfig("pca", 3)),
                           ("sparse", ModelConfig("sparse", 5)), ("nosparse", ModelConfig("sparse", 5))):
        save_model(build_model(config), f"{family}_z{config.latent_dim}_mnist", "mnist", family, {}, {}, {}, tmp_path)
    assert [c.name for c in mapped_cards(directory=tmp_path)] == ["conv_z3_mnist"]
