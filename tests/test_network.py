"""The network view's trace: every layer's output, with the shapes of the model's own layers."""
import numpy as np
import pytest
import torch

from ae_demo.models import count_parameters
from ae_demo.network import CODE, encoder_says, numbers_per_step, trace
from ae_demo.zoo import load_model, load_verified_reference


@pytest.fixture(scope="module")
def digit():
    return load_verified_reference("mnist").images[7].numpy().astype(np.float32) / 255.0


@pytest.mark.parametrize("name", ["conv_z32_mnist", "conv_z2_mnist", "vae_z16_mnist", "dense_z32_mnist",
                                  "dae_z32_fashion", "pca_z8_mnist"])
def test_the_trace_ends_in_the_models_reconstruction_and_counts_every_parameter(name, digit):
    model = load_model(name)
    outputs = trace(model, digit)
    with torch.inference_mode():
        reconstruction = model.reconstruct(torch.from_numpy(digit)[None, None])[0].numpy()
    assert np.allclose(outputs[-1].output, reconstruction, atol=1e-6)
    (code,) = [o for o in outputs if o.layer.part == CODE]
    assert code.shape == (model.latent_dim,)
    assert sum(o.layer.parameters for o in outputs) == count_parameters(model)


def test_conv_layers_have_the_shapes_of_the_models_layers(digit):
    model = load_model("conv_z8_mnist")
    shapes = [o.shape for o in trace(model, digit)]
    w = model.config.width
    assert shapes == [(w, 28, 28), (2 * w, 14, 14), (2 * w, 14, 14), (2 * w, 7, 7), (8,),
                      (2 * w, 7, 7), (2 * w, 14, 14), (2 * w, 14, 14), (w, 28, 28), (w, 28, 28), (1, 28, 28)]
    # the first layer's maps are what its convolution makes of this very digit
    with torch.inference_mode():
        first = model.body.down[0](torch.from_numpy(digit)[None, None])[0].numpy()
    assert np.allclose(trace(model, digit)[0].output, first)


def test_the_conv_encoder_is_not_said_to_shrink_step_by_step(digit):
    """ui/network.py's encoder sentence (ae_demo.network.encoder_says): the conv net's feature maps get
    smaller but more numerous; only the code layer squeezes. The counts are the trace's own."""
    outputs = trace(load_model("conv_z32_mnist"), digit)
    assert numbers_per_step(outputs) == [784, 25_088, 12_544, 12_544, 3_136, 32]
    said = encoder_says(outputs)
    assert "784 → 25,088 → 12,544 → 12,544 → 3,136 → 32" in said and "fewer and fewer" not in said


def test_a_dense_encoder_does_narrow_step_by_step(digit):
    said = encoder_says(trace(load_model("dense_z32_mnist"), digit))
    assert said == "The encoder turns the picture into fewer and fewer numbers: 784 → 512 → 256 → 32."
