"""The ladder: every model of a family on a batch, and the per-image cache the app serves it from."""
import numpy as np
import pytest
import torch

from ae_demo import inference
from ae_demo.inference import LadderCache, load_family, run_ladder
from ae_demo.zoo import load_verified_reference, read_zoo


@pytest.fixture(scope="module")
def pca_models():
    return load_family("mnist", "pca", torch.device("cpu"))


@pytest.fixture(scope="module")
def digits():
    return load_verified_reference("mnist").images[:6].numpy().astype(np.float32) / 255.0


@pytest.fixture
def batch_sizes(monkeypatch):
    """The batch size of every pass the cache makes."""
    sizes = []

    def counting(models, images, compiled=None):
        sizes.append(len(images))
        return run_ladder(models, images, compiled)

    monkeypatch.setattr(inference, "run_ladder", counting)
    return sizes


def test_the_ladder_reconstructs_every_input_at_every_size(pca_models, digits):
    result = run_ladder(pca_models, digits[:3])
    assert result.latent_dims == (2, 4, 8, 16, 32, 64)
    assert result.reconstructions.shape == (6, 3, 28, 28) and result.sse.shape == result.psnr.shape == (6, 3)
    assert (np.diff(result.sse, axis=0) < 0).all()  # PCA: every added component lowers the error
    expected = ((result.reconstructions - digits[None, :3]) ** 2).sum(axis=(2, 3))
    assert np.allclose(result.sse, expected, rtol=1e-5)


def test_cached_results_equal_a_fresh_pass_in_the_callers_order(pca_models, digits, batch_sizes):
    cache = LadderCache(pca_models)
    cache.run(digits[:2])
    mixed = digits[[3, 0, 3, 1]]  # one new image, twice, between two known ones
    result = cache.run(mixed)
    fresh = run_ladder(pca_models, mixed)
    assert np.allclose(result.reconstructions, fresh.reconstructions, atol=1e-6)
    assert np.allclose(result.sse, fresh.sse, rtol=1e-5) and np.allclose(result.psnr, fresh.psnr, rtol=1e-5)
    assert batch_sizes == [2, 1]  # the known images are looked up; the new one goes through once


def test_only_new_images_are_computed_and_they_share_one_pass(pca_models, digits, batch_sizes):
    cache = LadderCache(pca_models)
    cache.run(digits[:1])
    cache.run(digits[:4])        # three uploads at once: one batch of three
    cache.run(digits[:4])        # nothing new: no pass at all
    assert batch_sizes == [1, 3]
    assert len(cache) == 4


def test_the_least_recently_used_images_are_dropped(pca_models, digits, batch_sizes):
    cache = LadderCache(pca_models, max_images=3)
    cache.run(digits[:3])
    cache.run(digits[:1])        # image 0 used again: image 1 is now the oldest
    cache.run(digits[3:4])
    assert len(cache) == 3
    batch_sizes.clear()
    cache.run(digits[[0, 2, 3]])
    assert batch_sizes == []     # kept
    cache.run(digits[1:2])
    assert batch_sizes == [1]    # dropped, computed again


def test_the_ladder_decodes_the_very_code_it_returns(digits):
    models = load_family("mnist", "conv", torch.device("cpu"))
    result = run_ladder(models, digits)
    for i, z in enumerate(result.latent_dims):
        assert result.codes[i].shape == (len(digits), z) and result.code(z, 2).shape == (z,)
        decoded = inference.decode_codes(models[z], result.codes[i])
        assert np.allclose(decoded, result.reconstructions[i], atol=1e-5)


def test_decode_between_runs_from_one_code_to_the_other(pca_models):
    model = pca_models[8]
    a, b = np.zeros(8, np.float32), np.ones(8, np.float32)
    frames = inference.decode_between(model, a, b, 5)
    assert frames.shape == (5, 28, 28)
    assert np.allclose(frames[0], inference.decode_codes(model, a[None])[0])
    assert np.allclose(frames[-1], inference.decode_codes(model, b[None])[0])


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_the_compiled_ladder_gives_the_eager_models_numbers_at_any_batch_size(dataset, digits):
    """The server runs each family's ladder as one TorchScript graph (compile_ladder): the same codes and
    pictures as the models, for every family the page offers and for one input or several."""
    zoo = read_zoo()
    for family in [*zoo.ladder_families(dataset), "pca"]:
        models = load_family(dataset, family, torch.device("cpu"))
        compiled = inference.compile_ladder(models)
        for batch in (digits[:1], digits[:5]):
            eager, graph = run_ladder(models, batch), run_ladder(models, batch, compiled)
            assert graph.latent_dims == eager.latent_dims, family
            assert np.allclose(graph.reconstructions, eager.reconstructions, atol=1e-5), family
            for a, b in zip(graph.codes, eager.codes):
                assert a.shape == b.shape and np.allclose(a, b, atol=1e-4), family


def test_an_empty_batch_gives_empty_results_of_the_right_shapes(pca_models):
    result = LadderCache(pca_models).run(np.zeros((0, 28, 28), np.float32))
    assert result.reconstructions.shape == (6, 0, 28, 28) and result.sse.shape == (6, 0)
    assert [c.shape for c in result.codes] == [(0, z) for z in result.latent_dims]


def test_the_cache_runs_the_eager_models_until_its_graph_is_ready_then_the_graph(pca_models, digits):
    cache = LadderCache(pca_models)
    assert cache.compiled is None
    before = cache.run(digits[:2])
    compiler = cache.compile_in_background()
    assert cache.compile_in_background() is compiler  # once per cache
    compiler.join(timeout=60)
    assert cache.compiled is not None
    after = cache.run(digits[2:4])
    assert np.allclose(after.reconstructions, run_ladder(pca_models, digits[2:4]).reconstructions, atol=1e-5)
    assert np.allclose(cache.run(digits[:2]).reconstructions, before.reconstructions)


def test_the_batch_helpers_agree_with_the_ladder_and_the_model(pca_models, digits):
    from ae_demo.data import as_model_input
    from ae_demo.inference import encode_images, reconstruct_images

    model = pca_models[8]
    ladder = run_ladder({8: model}, digits)
    assert np.allclose(reconstruct_images(model, digits), ladder.reconstructions[0].clip(0, 1), atol=1e-6)
    codes = encode_images(model, digits, batch_size=4)   # two batches, joined in order
    assert codes.shape == (6, 8) and np.allclose(codes, ladder.codes[0], atol=1e-6)
    assert as_model_input(digits).shape == (6, 1, 28, 28) and as_model_input(digits[:, None]).shape == (6, 1, 28, 28)


def test_a_sparse_net_rebuilt_from_all_its_units_is_its_reconstruction(digits):
    from ae_demo.inference import reconstruct_images
    from ae_demo.zoo import load_model

    model = load_model("sparse_z196_mnist")
    assert np.array_equal(reconstruct_images(model, digits, top_k=196), reconstruct_images(model, digits))
    assert not np.allclose(reconstruct_images(model, digits, top_k=5), reconstruct_images(model, digits))
