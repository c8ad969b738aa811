"""Latent arithmetic: class means from the maps, and a code moved along the direction between two of them."""
import numpy as np
import pytest
import torch

from ae_demo.arithmetic import class_means, move_towards_class
from ae_demo.datasets import DATASETS
from ae_demo.maps import load_map
from ae_demo.zoo import load_model, load_verified_reference

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module", params=["conv_z16_mnist", "vae_z2_mnist", "conv_z8_fashion"])
def setup(request):
    name = request.param
    model = load_model(name)
    latent_map = load_map(name)
    dataset = name.rsplit("_", 1)[1]
    reference = load_verified_reference(dataset)
    return dataset, model, latent_map, reference


def test_class_means_are_the_mean_codes_of_each_class(setup):
    _, model, latent_map, _ = setup
    means = class_means(latent_map)
    assert means.shape == (10, model.latent_dim)
    assert np.allclose(means[3], latent_map.codes[latent_map.labels == 3].mean(0), atol=1e-5)


def test_strength_zero_returns_exactly_the_inputs_own_reconstruction(setup):
    dataset, model, latent_map, reference = setup
    source, target = DATASETS[dataset].arithmetic.source_class, DATASETS[dataset].arithmetic.target_class
    image = reference.images[int(np.flatnonzero(reference.labels.numpy() == source)[0])].numpy() / 255.0
    moved = move_towards_class(model, image, class_means(latent_map), source, target)
    with torch.inference_mode():
        own = model.reconstruct(torch.from_numpy(image.astype(np.float32))[None, None]).clamp(0, 1)[0, 0].numpy()
    assert moved.strengths[0] == 0 and np.array_equal(moved.images[0], own)
    assert moved.images.shape == (len(moved.strengths), 28, 28) and moved.images.min() >= 0 and moved.images.max() <= 1


def test_a_seven_moved_all_the_way_looks_more_like_the_ones():
    model = load_model("conv_z16_mnist")
    latent_map = load_map("conv_z16_mnist")
    reference = load_verified_reference("mnist")
    images, labels = reference.images.numpy() / 255.0, reference.labels.numpy()
    mean_one = images[labels == 1].mean(0)
    sevens = np.flatnonzero(labels == 7)[:10]
    closer = 0
    for row in sevens:
        moved = move_towards_class(model, images[row], class_means(latent_map), 7, 1, strengths=(0.0, 1.0))
        closer += ((moved.images[1] - mean_one) ** 2).sum() < ((moved.images[0] - mean_one) ** 2).sum()
    assert closer >= 9
