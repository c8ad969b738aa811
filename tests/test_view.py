"""The one computed view: each input encoded once, from its float image, placed as the map itself places it."""
import numpy as np
import pytest
import torch

from ae_demo.inference import LadderCache, load_family, run_ladder
from ae_demo.maps import encode_images, load_map
from ae_demo.view import NEIGHBOURS, compute_view
from ae_demo.zoo import load_verified_reference


@pytest.fixture(scope="module")
def conv():
    return load_family("mnist", "conv", torch.device("cpu"))


@pytest.fixture(scope="module")
def pca():
    models = load_family("mnist", "pca", torch.device("cpu"))
    return {z: models[z] for z in (2, 8, 32)}


@pytest.fixture(scope="module")
def inputs():
    """Three held-out digits, and one of them blurred: a float image no uint8 copy holds exactly."""
    images = load_verified_reference("mnist").images[[3, 500, 1200]].numpy().astype(np.float32) / 255.0
    soft = (images[1] + np.roll(images[1], 1, axis=0)) / 2 + 1e-3
    return np.concatenate([images, soft[None].clip(0, 1)]).astype(np.float32)


def test_the_view_places_each_input_where_the_map_places_its_float_code(conv, pca, inputs):
    maps = {z: load_map(f"conv_z{z}_mnist") for z in (2, 8, 32)}
    view = compute_view(LadderCache(conv), LadderCache(pca), maps, inputs)
    for z, latent_map in maps.items():
        with torch.inference_mode():
            codes = conv[z].encode(torch.from_numpy(inputs)[:, None]).numpy()  # from the float image itself
        assert np.allclose(view.net.codes[view.latent_dims.index(z)], codes, atol=1e-5)
        assert np.allclose(view.maps[z].placed, latent_map.place(codes), atol=1e-5)
        assert np.array_equal(view.maps[z].neighbours, latent_map.neighbours(codes, NEIGHBOURS))
    # the blurred input's star is not where a rounded (uint8) copy of it would land on every map
    rounded = torch.from_numpy((inputs[3:] * 255).round().astype(np.uint8))
    assert not np.allclose(view.code(32, 3), encode_images(conv[32], rounded)[0], atol=1e-6)


def test_the_view_carries_both_ladders_at_the_family_sizes(conv, pca, inputs):
    view = compute_view(LadderCache({z: conv[z] for z in pca}), LadderCache(pca), {}, inputs)
    assert view.latent_dims == view.pca.latent_dims == (2, 8, 32) and view.maps == {}
    direct = run_ladder(pca, inputs)
    assert np.allclose(view.pca.sse, direct.sse) and view.net.sse.shape == (3, len(inputs))
    assert (view.pca.sse[-1] < view.pca.sse[0]).all()  # 32 numbers keep more than 2


def test_neighbours_of_a_reference_code_start_with_itself():
    latent_map = load_map("conv_z32_mnist")
    rows = latent_map.neighbours(latent_map.codes[[10, 20]], 4)
    assert rows.shape == (2, 4) and list(rows[:, 0]) == [10, 20]
