"""The card (pretrained/manifest.json) against the real files, and what a damaged file does."""
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from ae_demo.data import PRETRAINED_DIR, reference_paths, sha256_of
from ae_demo.models import build_model, count_parameters
from ae_demo.train import LADDER
from ae_demo.zoo import (FAMILIES, LADDER_FAMILIES, LESSON_FAMILIES, ZooError, cards, load_model,
                         load_verified_reference, read_manifest, read_zoo, write_manifest)

ALL_CARDS = cards()


def test_pretrained_folder_stays_small():
    total = sum(p.stat().st_size for p in PRETRAINED_DIR.rglob("*") if p.is_file())
    assert total < 50 * 1024 * 1024  # the issue of the lesson nets: under 50 MB with them


@pytest.mark.parametrize("card", ALL_CARDS, ids=lambda c: c.name)
def test_card_matches_the_file(card):
    path = PRETRAINED_DIR / card.file
    assert sha256_of(path) == card.sha256
    assert card.file.startswith(f"{card.name}-{card.sha256[:8]}")
    model = build_model(card.config)
    model.load_state_dict(load_file(path))
    assert count_parameters(model) == card.parameters
    entry = read_manifest()["models"][card.name]
    assert entry["latent_dim"] == card.config.latent_dim and entry["file_bytes"] == path.stat().st_size
    assert {"epochs", "seed"} <= set(card.recipe) and {"n_train", "data_source", "seconds"} <= set(card.training)


@pytest.mark.parametrize("card", ALL_CARDS, ids=lambda c: c.name)
def test_a_card_says_only_what_is_true_of_its_model(card):
    """Its config holds its architecture's fields and no other's; the weights' own metadata (written with every
    field, and kept so their sha256 stays) reads as the same config; its sources name no machine's own folders."""
    import json

    from safetensors import safe_open

    from ae_demo.data import REPO_ROOT
    from ae_demo.models import ARCHITECTURE_FIELDS, ModelConfig

    entry = read_manifest()["models"][card.name]
    assert set(entry["config"]) == {"architecture", "latent_dim", *ARCHITECTURE_FIELDS[card.config.architecture]}
    with safe_open(str(PRETRAINED_DIR / card.file), "pt") as weights:
        assert ModelConfig.from_dict(json.loads(weights.metadata()["config"])) == card.config
    for source in (card.training["data_source"], card.training.get("heldout_source", "")):
        assert not source.startswith(str(REPO_ROOT.parent)) and (not source.startswith("/")
                                                                 or source.startswith("/usr/share/datasets/"))


def test_the_zoo_holds_what_the_app_needs():
    names = {c.name for c in ALL_CARDS}
    for dataset in ("mnist", "fashion"):
        expected = {f"{fam}_z{z}_{dataset}" for fam in ("conv", "pca") for z in LADDER}
        expected |= {f"vae_z2_{dataset}", f"vae_z16_{dataset}", f"dae_z32_{dataset}"}
        expected |= {f"sparse_z196_{dataset}", f"sparse_z1000_{dataset}", f"nosparse_z196_{dataset}",
                     f"identity_z1000_{dataset}"}
        assert expected <= names


def test_every_family_is_a_baseline_a_ladder_or_the_lesson():
    assert sorted(("pca", *LADDER_FAMILIES, *LESSON_FAMILIES)) == sorted(FAMILIES)
    assert LESSON_FAMILIES == ("sparse", "nosparse", "identity") and "conv" in LADDER_FAMILIES


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_the_identity_nets_card_says_no_constraint_and_a_hidden_layer_as_wide_as_the_input(dataset):
    card = next(c for c in ALL_CARDS if c.name == f"identity_z1000_{dataset}")
    assert card.family == "identity" and card.config.architecture == "sparse"
    assert card.recipe["sparsity_weight"] == 0 and card.recipe["sparsity_target"] is None  # no sparsity penalty
    assert card.recipe["weight_decay"] == 0                                                # no weight decay
    assert card.latent_dim >= 28 * 28 and card.config.latent_dim == card.latent_dim


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_samples_match_the_card(dataset):
    sample = read_manifest()["samples"][dataset]
    images, labels = reference_paths(dataset)
    assert sha256_of(images) == sample["images_sha256"] and sha256_of(labels) == sample["labels_sha256"]
    assert len(load_verified_reference(dataset).labels) == sample["n_images"]


@pytest.fixture
def zoo_copy(tmp_path):
    """A copy of the card, two models and the samples, to damage."""
    manifest = read_manifest()
    keep = {name: manifest["models"][name] for name in ("pca_z2_mnist", "conv_z2_mnist")}
    for entry in keep.values():
        shutil.copy(PRETRAINED_DIR / entry["file"], tmp_path / entry["file"])
    shutil.copytree(PRETRAINED_DIR / "samples", tmp_path / "samples")
    import json
    (tmp_path / "manifest.json").write_text(json.dumps({"models": keep, "samples": manifest["samples"]}))
    return tmp_path


def test_a_changed_byte_names_the_file(zoo_copy):
    entry = read_manifest(zoo_copy)["models"]["conv_z2_mnist"]
    path = zoo_copy / entry["file"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ZooError, match=entry["file"]):
        load_model("conv_z2_mnist", zoo_copy)


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
def test_zoo_check_passes_then_fails_with_one_line(zoo_copy):
    run = lambda: subprocess.run([sys.executable, "-m", "ae_demo.zoo", "check", "--dir", str(zoo_copy)],  # noqa: E731
                                 capture_output=True, text=True)
    ok = run()
    assert ok.returncode == 0, ok.stderr
    assert "conv_z2_mnist" in ok.stdout
    missing = read_manifest(zoo_copy)["models"]["pca_z2_mnist"]["file"]
    (zoo_copy / missing).unlink()
    failed = run()
    assert failed.returncode != 0
    assert missing in failed.stderr and "Traceback" not in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1


def test_loaded_models_are_ready_for_inference():
    model = load_model("conv_z2_mnist")
    assert not model.training
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_the_registry_reads_the_card_once_into_typed_cards():
    zoo = read_zoo()
    assert read_zoo() is zoo  # the same object until the file changes
    assert zoo.card("mnist", "conv", 32).name == "conv_z32_mnist" and zoo.default_card("fashion").name == "conv_z32_fashion"
    assert zoo.latent_dims("mnist", "conv") == LADDER and zoo.latent_dims("mnist", "vae") == (2, 16)
    assert zoo.ladder_families("mnist") == ("conv", "dense", "vae", "dae")
    assert zoo.samples["mnist"].n_images == 2000 and zoo.samples["fashion"].n_images == 10000
    with pytest.raises(ZooError, match="conv_z3_mnist"):
        zoo.card("mnist", "conv", 3)


def test_how_a_map_is_drawn_is_a_field_of_its_card():
    zoo = read_zoo()
    for name, map_card in zoo.maps.items():
        expected = "identity" if zoo.models[name].latent_dim == 2 else "umap"
        assert map_card.projection == expected, name
        assert map_card.model_sha256 == zoo.models[name].sha256


def test_a_registry_reread_follows_a_changed_card(zoo_copy):
    before = read_zoo(zoo_copy)
    manifest = read_manifest(zoo_copy)
    del manifest["models"]["pca_z2_mnist"]
    write_manifest(manifest, zoo_copy)
    assert "pca_z2_mnist" in before.models and "pca_z2_mnist" not in read_zoo(zoo_copy).models


def test_weights_that_do_not_fit_the_architecture_are_a_bug_not_a_damaged_file(zoo_copy):
    """After the checksum matched, the file is the card's: a shape mismatch comes from the code."""
    manifest = read_manifest(zoo_copy)
    manifest["models"]["conv_z2_mnist"]["config"]["width"] = 16  # the code now builds another network
    write_manifest(manifest, zoo_copy)
    with pytest.raises(RuntimeError, match="size mismatch") as raised:
        load_model("conv_z2_mnist", zoo_copy)
    assert not isinstance(raised.value, ZooError)
