"""One input through a network, layer by layer: what each layer outputs, its shape and its parameters.

``trace(model, image)`` runs an image through a model's layers in order (the same modules
``encode`` and ``decode`` call, so the last output is the model's reconstruction) and keeps
every layer's output: feature maps (C, H, W) for the convolutional layers, vectors (N,) for
the dense ones and the code. ``layers(model)`` is that list of layers with what each part does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from .data import as_model_input
from .models import Autoencoder, ConvAutoencoder, ConvVAE, DenseAutoencoder, PCAAutoencoder

ENCODER, CODE, DECODER = "encoder", "code", "decoder"


@dataclass(frozen=True)
class Layer:
    """One step of the network as the page draws it."""

    name: str                                    # "conv 1 (stride 2)", "code", …
    part: str                                    # ENCODER, CODE or DECODER
    what: str                                    # one sentence: what this part does
    run: Callable[[torch.Tensor], torch.Tensor]  # the module (or small function) that makes its output
    parameters: int                              # learned numbers in this step


@dataclass(frozen=True)
class LayerOutput:
    layer: Layer
    output: np.ndarray   # (C, H, W) feature maps, (N,) a vector, or (1, 28, 28) the reconstruction

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.output.shape)


def _count(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def _conv_layers(model: ConvAutoencoder) -> list[Layer]:
    down, up = model.body.down, model.body.up
    convs = [m for m in down if isinstance(m, nn.Sequential)]
    strides = [block[0].stride[0] for block in convs]
    found = []
    for i, (block, stride) in enumerate(zip(convs, strides), 1):
        channels = block[0].out_channels
        found.append(Layer(f"conv {i}" + (" (stride 2)" if stride == 2 else ""), ENCODER,
                           f"{channels} filters slide over the picture; stride 2 halves its size." if stride == 2
                           else f"{channels} filters look for local patterns (strokes, edges, corners).",
                           block, _count(block)))
    code_what = (f"A linear layer squeezes the {model.body.features:,} numbers of the last feature maps into "
                 f"{model.latent_dim}: the bottleneck.")
    heads = [model.to_code]
    if isinstance(model, ConvVAE):  # the mean is the code shown; the log-variance only matters in training
        code_what += " (A VAE's code is the mean of a Gaussian; a second head gives its variance.)"
        heads.append(model.to_logvar)
    found.append(Layer("code", CODE, code_what, lambda h: model.to_code(down[-1](h)), _count(*heads)))
    grid = up[0].unflattened_size[-1]                 # 7 for the zoo's 28x28 pictures
    found.append(Layer("expand", DECODER, f"A linear layer turns the {model.latent_dim} numbers back into "
                       f"feature maps of {grid}×{grid}.", lambda z: up[1](up[0](model.from_code(z))),
                       _count(model.from_code)))
    blocks = [m for m in up if isinstance(m, nn.Sequential)]
    counts = {True: 0, False: len(convs)}  # decoder convs number on from the encoder's
    for block in blocks:
        transposed = isinstance(block[0], nn.ConvTranspose2d)
        counts[transposed] += 1
        found.append(Layer(f"deconv {counts[True]} (×2)" if transposed else f"conv {counts[False]}", DECODER,
                           "A transposed convolution doubles the picture's size." if transposed
                           else "Filters refine the upsampled feature maps.", block, _count(block)))
    last = up[-1]
    channels, side, _ = model.config.image_shape
    filters = "One filter" if channels == 1 else "Three filters (red, green, blue)"
    found.append(Layer("output", DECODER, f"{filters} and a sigmoid make the {side}×{side} picture, each pixel in "
                       "[0, 1].", lambda h: torch.sigmoid(last(h)), _count(last)))
    return found


def _dense_layers(model: DenseAutoencoder) -> list[Layer]:
    found = []
    enc = list(model.encoder)[1:]  # after the Flatten
    linears = [i for i, m in enumerate(enc) if isinstance(m, nn.Linear)]
    for n, i in enumerate(linears[:-1], 1):
        group = nn.Sequential(*enc[i:linears[n]])
        found.append(Layer(f"dense {n}", ENCODER, f"Every one of its {enc[i].out_features} units weighs all of "
                           f"the previous layer's {enc[i].in_features} numbers.",
                           (lambda g, first: (lambda h: g(h.flatten(1) if first else h)))(group, n == 1), _count(group)))
    code = enc[linears[-1]]
    found.append(Layer("code", CODE, f"A linear layer squeezes {code.in_features} numbers into {code.out_features}: "
                       "the bottleneck.", code, _count(code)))
    dec = list(model.decoder)
    linears = [i for i, m in enumerate(dec) if isinstance(m, nn.Linear)]
    for n, i in enumerate(linears, 1):
        end = linears[n] if n < len(linears) else len(dec)
        group = nn.Sequential(*dec[i:end])
        if n == len(linears):
            found.append(Layer("output", DECODER, "784 units and a sigmoid make the 28×28 picture.",
                               (lambda g: lambda h: torch.sigmoid(g(h)))(group), _count(group)))
        else:
            found.append(Layer(f"dense {n}", DECODER, f"{dec[i].out_features} units widen the code back out.",
                               group, _count(group)))
    return found


def _shallow_layers(model: Autoencoder) -> list[Layer]:
    """One hidden layer (the tutorial's sparse autoencoder) or PCA: encode and decode are the two steps."""
    code_what = (f"{model.latent_dim} numbers: the projections on the top principal directions." if
                 isinstance(model, PCAAutoencoder) else
                 f"{model.latent_dim} sigmoid units, each weighing all 784 pixels.")
    return [Layer("code", CODE, code_what, model.encode, _count(model) // 2 if not isinstance(model, PCAAutoencoder)
                  else model.components.numel() + model.mean.numel()),
            Layer("output", DECODER, "The code weighted back into 784 pixels.", model.decode,
                  _count(model) - _count(model) // 2 if not isinstance(model, PCAAutoencoder) else 0)]


def layers(model: Autoencoder) -> list[Layer]:
    """The model's steps in order, encoder first; running them one after the other reconstructs."""
    if isinstance(model, ConvAutoencoder):  # the VAE too: its mean is the code the page shows
        return _conv_layers(model)
    if isinstance(model, DenseAutoencoder):
        return _dense_layers(model)
    return _shallow_layers(model)


def numbers_per_step(outputs: list[LayerOutput]) -> list[int]:
    """How many numbers the input is at each step of the encoder: its pixels (the reconstruction's, the
    last output: 784 for 28×28 grey), then each encoder layer's output, ending with the code (e.g. conv
    z = 32: 784, 25,088, 12,544, 12,544, 3,136, 32)."""
    return [int(outputs[-1].output.size)] + [int(o.output.size) for o in outputs if o.layer.part in (ENCODER, CODE)]


def encoder_says(outputs: list[LayerOutput]) -> str:
    """One sentence on what the encoder does to the number of numbers, true of these ``outputs``: a
    convolutional encoder's feature maps get smaller but more numerous (more numbers than pixels, at
    first), a dense one's layers narrow; either way the last step squeezes them into the code."""
    counts = numbers_per_step(outputs)
    path = " → ".join(f"{n:,}" for n in counts)
    if all(later < earlier for earlier, later in zip(counts, counts[1:])):
        return f"The encoder turns the picture into fewer {'and fewer ' if len(counts) > 2 else ''}numbers: {path}."
    return (f"The encoder's feature maps get smaller but more numerous, so the count of numbers does not "
            f"shrink step by step: {path}. Only the last, linear layer squeezes them into the code's "
            f"{counts[-1]:,}.")


@torch.inference_mode()
def trace(model: Autoencoder, image: np.ndarray) -> list[LayerOutput]:
    """(28, 28) or (C, H, W) float32 in [0, 1] -> each layer's output for it, in order; the last is the
    reconstruction."""
    h = as_model_input(np.asarray(image)[None], model.device)
    found = []
    for layer in layers(model):
        h = layer.run(h)
        found.append(LayerOutput(layer, h[0].float().cpu().numpy()))
    return found
