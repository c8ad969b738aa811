import json
import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from ae_demo.models import ConvVAE, ModelConfig, PCAAutoencoder, SparseAutoencoder, build_model, count_parameters
from safetensors.torch import load_file

from ae_demo.data import PRETRAINED_DIR
from ae_demo.zoo import load_model, read_manifest, round_to_storage_precision, save_model

TINY = {
    "conv": ModelConfig("conv", 3, width=4),
    "vae": ModelConfig("vae", 2, width=4),
    "dense": ModelConfig("dense", 5, hidden=(16, 8)),
    "sparse": ModelConfig("sparse", 6),
}


@pytest.fixture(params=sorted(TINY))
def model(request):
    torch.manual_seed(0)
    return build_model(TINY[request.param]).eval()


class TestShapesAndRanges:
    def test_encode_decode(self, model):
        x = torch.rand(6, 1, 28, 28)
        z = model.encode(x)
        assert z.shape == (6, model.latent_dim)
        y = model.decode(z)
        assert y.shape == (6, 1, 28, 28) and y.min() >= 0 and y.max() <= 1
        assert torch.allclose(model.reconstruct(x), y)

    def test_interpolate_ends_at_the_reconstructions(self, model):
        a, b = torch.rand(2, 1, 28, 28), torch.rand(2, 1, 28, 28)
        path = model.interpolate(a, b, steps=9)
        assert path.shape == (2, 9, 1, 28, 28)
        assert torch.allclose(path[:, 0], model.reconstruct(a), atol=1e-6)
        assert torch.allclose(path[:, -1], model.reconstruct(b), atol=1e-6)


class TestSaving:
    def test_round_trip_is_exact(self, model, tmp_path):
        round_to_storage_precision(model)
        save_model(model, "m", "mnist", model.config.architecture, {}, {}, {}, tmp_path)
        loaded = load_model("m", tmp_path)
        assert type(loaded) is type(model) and loaded.config == model.config
        for (k, v), (k2, v2) in zip(model.state_dict().items(), loaded.state_dict().items()):
            assert k == k2 and torch.equal(v, v2)
        x = torch.rand(3, 1, 28, 28)
        assert torch.equal(model.reconstruct(x), loaded.reconstruct(x))

    def test_saving_twice_replaces_the_old_file(self, model, tmp_path):
        save_model(model, "m", "mnist", "conv", {}, {}, {}, tmp_path)
        with torch.no_grad():
            next(model.parameters()).add_(1)
        save_model(model, "m", "mnist", "conv", {}, {}, {}, tmp_path)
        assert len(list(tmp_path.glob("m-*.safetensors"))) == 1


def test_vae_encode_is_the_mean():
    vae = build_model(TINY["vae"]).eval()
    x = torch.rand(4, 1, 28, 28)
    mean, logvar = vae.encode_distribution(x)
    assert isinstance(vae, ConvVAE) and torch.equal(vae.encode(x), mean) and logvar.shape == mean.shape


class TestSparseAutoencoder:
    @pytest.fixture
    def net(self):
        torch.manual_seed(0)
        return build_model(ModelConfig("sparse", 12)).eval()

    def test_code_is_the_sigmoid_hidden_layer(self, net):
        x = torch.rand(4, 1, 28, 28)
        a = net.encode(x)
        assert isinstance(net, SparseAutoencoder) and count_parameters(net) == 784 * 12 * 2 + 12 + 784
        assert torch.allclose(a, torch.sigmoid(x.flatten(1) @ net.encoder.weight.T + net.encoder.bias))
        assert a.min() > 0 and a.max() < 1

    def test_top_k_of_every_unit_is_the_reconstruction(self, net):
        x = torch.rand(5, 1, 28, 28)
        assert torch.equal(net.reconstruct_top_k(x, net.latent_dim), net.reconstruct(x))

    def test_top_k_keeps_only_the_k_most_active_units(self, net):
        x = torch.rand(5, 1, 28, 28)
        kept, a = net.top_k_activations(x, 3), net.encode(x)
        assert ((kept != 0).sum(1) == 3).all()
        assert torch.equal(kept.sort(1, descending=True).values[:, :3], a.sort(1, descending=True).values[:, :3])
        assert torch.equal(net.reconstruct_top_k(x, 3), net.decode(kept))
        assert torch.allclose(net.reconstruct_top_k(x, 0), torch.sigmoid(net.decoder.bias).view(1, 1, 28, 28).expand(5, -1, -1, -1))

    def test_k_beyond_the_hidden_units_is_named(self, net):
        with pytest.raises(ValueError, match="between 0 and 12"):
            net.reconstruct_top_k(torch.rand(1, 1, 28, 28), 13)


def test_pca_equals_scikit_learn():
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.random((200, 1, 28, 28)).astype(np.float32))
    model = PCAAutoencoder.fit(images, 7)
    flat = images.flatten(1).double().numpy()
    pca = PCA(n_components=7, svd_solver="full").fit(flat)
    expected = pca.inverse_transform(pca.transform(flat))
    got = model.reconstruct(images).flatten(1).double().numpy()
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert count_parameters(model) == 7 * 784 + 784


def test_unknown_architecture_is_named():
    with pytest.raises(ValueError, match="'gan'"):
        build_model(ModelConfig("gan", 2))


def test_features_of_the_shipped_sparse_net_are_its_normalised_weight_rows():
    net = load_model("sparse_z196_mnist")
    stored = load_file(PRETRAINED_DIR / read_manifest()["models"]["sparse_z196_mnist"]["file"])
    w = stored["encoder.weight"].double()                                    # (196, 784), as shipped
    tiles = net.features()
    assert tiles.shape == (196, 28, 28) and tiles.dtype == torch.float32
    np.testing.assert_allclose(tiles.flatten(1).double().numpy(), (w / w.norm(dim=1, keepdim=True)).numpy(), atol=1e-6)
    np.testing.assert_allclose(tiles.flatten(1).norm(dim=1).numpy(), 1.0, atol=1e-5)
    # no other input of unit norm excites a unit more than its feature does
    others = torch.nn.functional.normalize(torch.randn(500, 784), dim=1)
    assert ((others @ net.encoder.weight.T).max(0).values < (tiles.flatten(1) * net.encoder.weight).sum(1)).all()


class TestOtherImageShapes:
    """The conv family (and PCA, dense) built for a teacher's own pictures: the shape comes from the config."""

    @pytest.mark.parametrize("latent_dim", (2, 4, 8, 16, 32, 64))
    def test_the_ladder_for_colour_32(self, latent_dim):
        config = ModelConfig("conv", latent_dim, width=8, image_shape=(3, 32, 32))
        net = build_model(config).eval()
        x = torch.rand(5, 3, 32, 32)
        codes = net.encode(x)
        assert codes.shape == (5, latent_dim)
        out = net.decode(codes)
        assert out.shape == (5, 3, 32, 32) and out.min() >= 0 and out.max() <= 1
        assert net.interpolate(x[:2], x[2:4], steps=3).shape == (2, 3, 3, 32, 32)
        assert net.body.features == 2 * 8 * 8 * 8        # 32 -> 8x8 after two halvings

    @pytest.mark.parametrize("shape", [(1, 28, 28), (3, 28, 28), (1, 64, 64), (3, 64, 64)])
    def test_every_offered_shape_round_trips(self, shape):
        for architecture in ("conv", "vae", "dense"):
            net = build_model(ModelConfig(architecture, 4, width=4, hidden=(16,), image_shape=shape)).eval()
            assert net.reconstruct(torch.rand(2, *shape)).shape == (2, *shape)

    def test_pca_takes_the_images_shape(self):
        images = torch.rand(40, 3, 32, 32)
        pca = PCAAutoencoder.fit(images, 8)
        assert pca.config.image_shape == (3, 32, 32) and pca.reconstruct(images).shape == images.shape

    def test_the_zoo_config_json_is_unchanged(self):
        # the shipped weights' metadata (and so their sha256 file names) were written without image_shape
        assert "image_shape" not in ModelConfig("conv", 32).to_json()
        config = ModelConfig("conv", 32, image_shape=(3, 32, 32))
        assert ModelConfig.from_dict(json.loads(config.to_json())) == config

    def test_a_shape_not_offered_is_named(self):
        with pytest.raises(ValueError, match="not offered"):
            ModelConfig("conv", 8, image_shape=(3, 30, 30))
