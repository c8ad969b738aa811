"""A smoke run of the training command on tiny generated data, and the ladder's warm starts."""
import torch

from ae_demo.models import ModelConfig, build_model
from ae_demo.train import RECIPES, Recipe, random_affine, start_from_parent, train
from ae_demo.zoo import cards, load_model


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
