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
from .messages import Message, N_

ENCODER, CODE, DECODER = "encoder", "code", "decoder"


@dataclass(frozen=True)
class Layer:
    """One step of the network as the page draws it. Its texts are ``Message``s: English strings that keep their
    template and figures, so that the page can show them in the visitor's language (``ui.i18n.error_text``)."""

    name: Message                                # "conv 1 (stride 2)", "code", …
    part: str                                    # ENCODER, CODE or DECODER
    what: Message                                # one sentence: what this part does
    run: Callable[[torch.Tensor], torch.Tensor]  # the module (or small function) that makes its output
    parameters: int                              # learned numbers in this step


def _layer(name: str, part: str, what: str, run: Callable[[torch.Tensor], torch.Tensor], parameters: int,
           params: dict | None = None) -> Layer:
    """A ``Layer`` whose name and sentence are the templates ``name`` and ``what`` filled with ``params``."""
    return Layer(Message(name, **(params or {})), part, Message(what, **(params or {})), run, parameters)


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
        if stride == 2:
            found.append(_layer(N_("conv {i} (stride 2)"), ENCODER,
                               N_("{channels} filters slide over the picture; stride 2 halves its size."),
                               block, _count(block), {"i": i, "channels": channels}))
        else:
            found.append(_layer(N_("conv {i}"), ENCODER,
                               N_("{channels} filters look for local patterns (strokes, edges, corners)."),
                               block, _count(block), {"i": i, "channels": channels}))
    code_what = N_("A linear layer squeezes the {features:,} numbers of the last feature maps into {latent}: the "
                   "bottleneck.")
    heads = [model.to_code]
    if isinstance(model, ConvVAE):  # the mean is the code shown; the log-variance only matters in training
        code_what = N_("A linear layer squeezes the {features:,} numbers of the last feature maps into {latent}: the "
                       "bottleneck. (A VAE's code is the mean of a Gaussian; a second head gives its variance.)")
        heads.append(model.to_logvar)
    found.append(_layer(N_("code"), CODE, code_what, lambda h: model.to_code(down[-1](h)), _count(*heads),
                       {"features": model.body.features, "latent": model.latent_dim}))
    grid = up[0].unflattened_size[-1]                 # 7 for the zoo's 28x28 pictures
    found.append(_layer(N_("expand"), DECODER, N_("A linear layer turns the {latent} numbers back into feature maps "
                                                 "of {grid}×{grid}."), lambda z: up[1](up[0](model.from_code(z))),
                       _count(model.from_code), {"latent": model.latent_dim, "grid": grid}))
    blocks = [m for m in up if isinstance(m, nn.Sequential)]
    counts = {True: 0, False: len(convs)}  # decoder convs number on from the encoder's
    for block in blocks:
        transposed = isinstance(block[0], nn.ConvTranspose2d)
        counts[transposed] += 1
        if transposed:
            found.append(_layer(N_("deconv {i} (×2)"), DECODER, N_("A transposed convolution doubles the picture's "
                                                                   "size."), block, _count(block), {"i": counts[True]}))
        else:
            found.append(_layer(N_("conv {i}"), DECODER, N_("Filters refine the upsampled feature maps."), block,
                               _count(block), {"i": counts[False]}))
    last = up[-1]
    channels, side, _ = model.config.image_shape
    what = (N_("One filter and a sigmoid make the {side}×{side} picture, each pixel in [0, 1].") if channels == 1 else
            N_("Three filters (red, green, blue) and a sigmoid make the {side}×{side} picture, each pixel in [0, 1]."))
    found.append(_layer(N_("output"), DECODER, what, lambda h: torch.sigmoid(last(h)), _count(last), {"side": side}))
    return found


def _dense_layers(model: DenseAutoencoder) -> list[Layer]:
    found = []
    enc = list(model.encoder)[1:]  # after the Flatten
    linears = [i for i, m in enumerate(enc) if isinstance(m, nn.Linear)]
    for n, i in enumerate(linears[:-1], 1):
        group = nn.Sequential(*enc[i:linears[n]])
        found.append(_layer(N_("dense {i}"), ENCODER, N_("Every one of its {units} units weighs all of the previous "
                                                        "layer's {inputs} numbers."),
                           (lambda g, first: (lambda h: g(h.flatten(1) if first else h)))(group, n == 1), _count(group),
                           {"i": n, "units": enc[i].out_features, "inputs": enc[i].in_features}))
    code = enc[linears[-1]]
    found.append(_layer(N_("code"), CODE, N_("A linear layer squeezes {inputs} numbers into {latent}: the bottleneck."),
                       code, _count(code), {"inputs": code.in_features, "latent": code.out_features}))
    dec = list(model.decoder)
    linears = [i for i, m in enumerate(dec) if isinstance(m, nn.Linear)]
    for n, i in enumerate(linears, 1):
        end = linears[n] if n < len(linears) else len(dec)
        group = nn.Sequential(*dec[i:end])
        if n == len(linears):
            found.append(_layer(N_("output"), DECODER, N_("784 units and a sigmoid make the 28×28 picture."),
                               (lambda g: lambda h: torch.sigmoid(g(h)))(group), _count(group)))
        else:
            found.append(_layer(N_("dense {i}"), DECODER, N_("{units} units widen the code back out."),
                               group, _count(group), {"i": n, "units": dec[i].out_features}))
    return found


def _shallow_layers(model: Autoencoder) -> list[Layer]:
    """One hidden layer (the tutorial's sparse autoencoder) or PCA: encode and decode are the two steps."""
    code_what = (N_("{latent} numbers: the projections on the top principal directions.") if
                 isinstance(model, PCAAutoencoder) else
                 N_("{latent} sigmoid units, each weighing all 784 pixels."))
    return [_layer(N_("code"), CODE, code_what, model.encode, _count(model) // 2 if not isinstance(model, PCAAutoencoder)
                  else model.components.numel() + model.mean.numel(), {"latent": model.latent_dim}),
            _layer(N_("output"), DECODER, N_("The code weighted back into 784 pixels."), model.decode,
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


def encoder_says(outputs: list[LayerOutput]) -> Message:
    """One sentence on what the encoder does to the number of numbers, true of these ``outputs``: a
    convolutional encoder's feature maps get smaller but more numerous (more numbers than pixels, at
    first), a dense one's layers narrow; either way the last step squeezes them into the code. Its ``path``
    (784 → 25,088 → …) is written in English; a page writes ``numbers_per_step`` its own way."""
    counts = numbers_per_step(outputs)
    params = {"path": " → ".join(f"{n:,}" for n in counts), "code": counts[-1]}
    if all(later < earlier for earlier, later in zip(counts, counts[1:])):
        return Message(N_("The encoder turns the picture into fewer and fewer numbers: {path}.") if len(counts) > 2
                       else N_("The encoder turns the picture into fewer numbers: {path}."), **params)
    return Message(N_("The encoder's feature maps get smaller but more numerous, so the count of numbers does not "
                      "shrink step by step: {path}. Only the last, linear layer squeezes them into the code's "
                      "{code:,}."), **params)


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
