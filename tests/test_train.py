"""A smoke run of the training command on tiny generated data, the ladder's warm starts, the sparse loss."""
import json
import math

import numpy as np
import pytest
import torch

from ae_demo.data import load_split, to_unit
from ae_demo.models import ModelConfig, build_model
from ae_demo.train import (RECIPES, Recipe, main, make_optimizer, random_affine, sparse_autoencoder_loss,
                           start_from_parent, train)
from ae_demo.zoo import cards, load_model


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
def test_training_smoke_run_writes_weights_and_card(official_dir, tmp_path):
    out = tmp_path / "zoo"
    train(Recipe("pca", "mnist", ModelConfig("pca", 4)), official_dir, out, progress=False)
    metrics = train(Recipe("conv", "mnist", ModelConfig("conv", 4, width=4), epochs=2, batch_size=32,
                           augment=True), official_dir, out, progress=False)
    assert metrics["n_images"] == 40 and metrics["sse_per_image"] > 0 and "ratio_to_pca" in metrics
    (card,) = [c for c in cards(directory=out) if c.family == "conv"]
    assert card.training["n_train"] == 120 and card.recipe["epochs"] == 2
    model = load_model(card.name, out)
    assert model.encode(torch.rand(2, 1, 28, 28)).shape == (2, 4)


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
def test_training_lowers_the_error(official_dir, tmp_path):
    out = tmp_path / "zoo"
    recipe = Recipe("dense", "mnist", ModelConfig("dense", 4, hidden=(64,)), epochs=1, batch_size=16)
    before = train(recipe, official_dir, out, epochs=0.01, progress=False)["sse_per_image"]
    after = train(recipe, official_dir, out, epochs=40, progress=False)["sse_per_image"]
    assert after < 0.5 * before


def test_growing_the_code_starts_as_the_parent():
    torch.manual_seed(0)
    parent = build_model(ModelConfig("conv", 3, width=4)).eval()
    child = build_model(ModelConfig("conv", 5, width=4)).eval()
    start_from_parent(child, parent, torch.rand(20, 1, 28, 28))
    x = torch.rand(4, 1, 28, 28)
    assert torch.allclose(child.reconstruct(x), parent.reconstruct(x), atol=1e-6)


def test_shrinking_the_code_keeps_most_of_the_parent():
    torch.manual_seed(0)
    parent = build_model(ModelConfig("conv", 6, width=4)).eval()
    with torch.no_grad():  # make the parent's codes live in 2 directions, which a 2-d child can keep exactly
        parent.to_code.weight[2:] = parent.to_code.weight[:2].T.matmul(torch.rand(2, 4)).T
        parent.to_code.bias[2:] = 0
    child = build_model(ModelConfig("conv", 2, width=4)).eval()
    x = torch.rand(30, 1, 28, 28)
    start_from_parent(child, parent, x)
    assert torch.allclose(child.reconstruct(x), parent.reconstruct(x), atol=1e-4)


def test_random_affine_keeps_shape_and_range():
    x = torch.rand(8, 1, 28, 28)
    y = random_affine(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1 and not torch.equal(x, y)


def test_every_parent_is_trained_before_its_children():
    order = list(RECIPES)
    for name, recipe in RECIPES.items():
        if recipe.init_from:
            assert order.index(recipe.init_from) < order.index(name)


def sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def test_sparse_loss_matches_a_hand_computation():
    """3 hidden units, two images; the weights touch two pixels, so every term can be worked out by hand."""
    net = build_model(ModelConfig("sparse", 3))
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.encoder.weight[:, 0] = torch.tensor([1.0, -1.0, 2.0])  # pixel 0 drives the three units
        net.decoder.weight[5, :] = 1.0                              # they all drive pixel 5
    x = torch.zeros(2, 1, 28, 28)
    x[1, 0, 0, 0], x[1, 0, 0, 5] = 1.0, 0.5
    rho, beta, lam = 0.1, 3.0, 0.01

    a = [[0.5, 0.5, 0.5], [sigmoid(1), sigmoid(-1), sigmoid(2)]]     # hidden activations of each image
    # every other pixel is decoded as sigmoid(0) = 0.5
    first = 0.5 * (783 * 0.25 + sigmoid(sum(a[0])) ** 2)
    second = 0.5 * ((1 - 0.5) ** 2 + 782 * 0.25 + (sigmoid(sum(a[1])) - 0.5) ** 2)
    rho_hat = [(a[0][j] + a[1][j]) / 2 for j in range(3)]
    kl = sum(rho * math.log(rho / r) + (1 - rho) * math.log((1 - rho) / (1 - r)) for r in rho_hat)
    expected = {"reconstruction": (first + second) / 2, "weight_decay": lam / 2 * (1 + 1 + 4 + 3),
                "sparsity": beta * kl}

    loss = sparse_autoencoder_loss(net, x, rho, beta, lam)
    for term, value in expected.items():
        assert getattr(loss, term).item() == pytest.approx(value, rel=1e-5), term
    assert loss.total.item() == pytest.approx(sum(expected.values()), rel=1e-5)


def test_sparsity_costs_nothing_at_the_target_and_nothing_when_off():
    net = build_model(ModelConfig("sparse", 4))
    with torch.no_grad():
        net.encoder.weight.zero_()
        net.encoder.bias.fill_(math.log(0.1 / 0.9))  # every unit at exactly 0.1
    x = torch.rand(8, 1, 28, 28)
    assert sparse_autoencoder_loss(net, x, 0.1, 3.0, 0.0).sparsity.item() == pytest.approx(0, abs=1e-6)
    assert sparse_autoencoder_loss(net, x, 0.3, 3.0, 0.0).sparsity.item() > 0.1
    assert sparse_autoencoder_loss(net, x, 0.3, 0.0, 0.0).sparsity.item() == 0


def test_sparse_nets_take_their_weight_decay_in_the_loss_only():
    sparse = Recipe("sparse", "mnist", ModelConfig("sparse", 4), weight_decay=3e-3, sparsity_target=0.1)
    dense = Recipe("dense", "mnist", ModelConfig("dense", 4, hidden=(8,)), weight_decay=1e-4)
    for recipe, decay in ((sparse, 0.0), (dense, 1e-4)):
        optimizer = make_optimizer(build_model(recipe.config), recipe)
        assert [g["weight_decay"] for g in optimizer.param_groups] == [decay]


def test_a_sparse_recipe_needs_its_target_when_it_has_a_penalty():
    with pytest.raises(ValueError, match="sparsity_target"):
        Recipe("sparse", "mnist", ModelConfig("sparse", 4), sparsity_weight=3.0)
    free = Recipe("identity", "mnist", ModelConfig("sparse", 4), weight_decay=0.0)  # no penalty: no target needed
    net = build_model(free.config)
    loss = sparse_autoencoder_loss(net, torch.rand(8, 1, 28, 28), free.sparsity_target, free.sparsity_weight,
                                   free.weight_decay)
    assert loss.sparsity.item() == loss.weight_decay.item() == 0 and loss.total.item() == loss.reconstruction.item()


def test_training_a_sparse_net_lowers_its_loss_and_cards_its_recipe(official_dir, tmp_path):
    out = tmp_path / "zoo"
    recipe = Recipe("sparse", "mnist", ModelConfig("sparse", 16), epochs=1, batch_size=32, lr=1e-2,
                    weight_decay=3e-3, sparsity_target=0.1, sparsity_weight=3.0)
    test_images = to_unit(load_split("mnist", "test", official_dir).images)

    def heldout_loss() -> float:
        return sparse_autoencoder_loss(load_model(recipe.name, out), test_images, 0.1, 3.0, 3e-3).total.item()

    train(recipe, official_dir, out, epochs=0.01, progress=False)
    before = heldout_loss()
    metrics = train(recipe, official_dir, out, epochs=30, progress=False)
    assert heldout_loss() < 0.7 * before
    (card,) = cards(directory=out)
    assert card.name == "sparse_z16_mnist" and card.family == "sparse"
    assert card.recipe["sparsity_target"] == 0.1 and card.recipe["sparsity_weight"] == 3.0
    assert card.recipe["weight_decay"] == 3e-3
    assert 0 < metrics["mean_activation"] < 1 and "ratio_to_pca" not in metrics


def test_the_lesson_recipes_are_the_tutorials():
    for dataset in ("mnist", "fashion"):
        tutorial, overcomplete, contrast = (RECIPES[f"{name}_{dataset}"] for name in
                                            ("sparse_z196", "sparse_z1000", "nosparse_z196"))
        assert (tutorial.sparsity_target, tutorial.sparsity_weight, tutorial.weight_decay) == (0.1, 3.0, 3e-3)
        assert overcomplete.config.latent_dim > 784 and overcomplete.sparsity_weight > 0
        assert contrast.config == tutorial.config and contrast.sparsity_weight == 0
        assert contrast.weight_decay == tutorial.weight_decay
        assert min(tutorial.batch_size, overcomplete.batch_size, contrast.batch_size) >= 256
        identity = RECIPES[f"identity_z1000_{dataset}"]  # the unconstrained net: as the lesson's, minus every constraint
        assert identity.config == overcomplete.config and identity.config.latent_dim >= 784
        assert identity.sparsity_weight == 0 and identity.sparsity_target is None and identity.weight_decay == 0
        assert (identity.epochs, identity.batch_size, identity.lr) == (overcomplete.epochs, overcomplete.batch_size,
                                                                       overcomplete.lr)


class TestOwnImagesCommand:
    """python -m ae_demo.train --images / --datasets / --delete, on pictures made here."""

    @pytest.fixture
    def picture_folder(self, tmp_path):
        import io

        from PIL import Image

        rng = np.random.default_rng(0)
        for k, cls in enumerate(("red", "green")):
            (tmp_path / "pics" / cls).mkdir(parents=True)
            for i in range(30):
                pixels = rng.integers(0, 60, (36, 36, 3)).astype(np.uint8)
                r, c = rng.integers(0, 18, 2)
                pixels[r:r + 18, c:c + 18, k] = 230
                buffer = io.BytesIO()
                Image.fromarray(pixels).save(buffer, "PNG")
                (tmp_path / "pics" / cls / f"{i}.png").write_bytes(buffer.getvalue())
        return tmp_path / "pics"

    @pytest.mark.slow
    def test_train_list_and_delete(self, picture_folder, tmp_path, monkeypatch, capsys):
        monkeypatch.setenv("AE_DATA_DIR", str(tmp_path / "data"))
        assert main(["--images", str(picture_folder), "--name", "Two colours", "--colour", "--size", "28",
                     "--json", "--recipe", "reduced"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert set(result) >= {"id", "owner_key", "heldout_sse", "pca_sse", "map_knn_accuracy", "classes", "seconds"}
        assert set(result["heldout_sse"]) == {"2", "8", "32"} and result["classes"] == ["green", "red"]
        assert set(result["map_knn_accuracy"]) == {"2", "8", "32"}
        assert main(["--datasets"]) == 0
        listing = capsys.readouterr().out
        assert result["id"] in listing and "'Two colours'" in listing and "28x28 colour" in listing
        assert main(["--delete", result["id"]]) == 0
        capsys.readouterr()
        main(["--datasets"])
        assert capsys.readouterr().out.startswith("0 dataset(s)")

    def test_too_few_pictures_is_a_message(self, tmp_path, monkeypatch, capsys):
        monkeypatch.setenv("AE_DATA_DIR", str(tmp_path / "data"))
        (tmp_path / "few").mkdir()
        (tmp_path / "few" / "notes.txt").write_text("hello")
        assert main(["--images", str(tmp_path / "few"), "--name", "x"]) == 2
        err = capsys.readouterr().err
        assert "skipped notes.txt" in err and "Only 0 usable pictures found" in err
        assert not (tmp_path / "data").exists() or list((tmp_path / "data").iterdir()) == []
