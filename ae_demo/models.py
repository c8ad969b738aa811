"""The autoencoders: one base class, four networks and the PCA baseline.

Every model maps images ``(B, C, H, W)`` float32 in [0, 1] to codes ``(B, latent_dim)``
and back; ``ModelConfig.image_shape`` says which (the zoo's: ``(1, 28, 28)``; a teacher's own
pictures: 1 or 3 channels at 28, 32 or 64 pixels a side). ``ModelConfig`` is everything needed to rebuild a model; it travels with the
weights (safetensors metadata and ``pretrained/manifest.json``), as nanoGPT's
``GPTConfig`` travels with its checkpoint.

- ``ConvAutoencoder``: strided convolutions down to a quarter of the side (7x7 for 28x28;
  one more halving for 64x64), a linear bottleneck, transposed convolutions back up. Denoising and plain training both use it.
- ``DenseAutoencoder``: fully connected, in the spirit of Hinton & Salakhutdinov (Science, 2006),
  not a copy: theirs was 784-1000-500-250-30 with RBM pretraining; this is 784-512-256-z with
  LayerNorm and GELU, trained end to end with AdamW.
- ``ConvVAE``: the same convolutional body with a Gaussian code (Kingma & Welling, 2014);
  ``encode`` returns the mean, so what the app shows is deterministic.
- ``PCAAutoencoder``: the linear autoencoder's optimum, fitted in closed form.
- ``SparseAutoencoder``: the one-hidden-layer sigmoid net of Stanford UFLDL's
  "Autoencoders" lesson (Ng, CS294A notes), whose hidden units are kept mostly off by a
  sparsity penalty (``train.sparse_autoencoder_loss``); ``latent_dim`` counts hidden units.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

IMAGE_SHAPE = (1, 28, 28)   # the zoo's digits and clothes
N_PIXELS = 28 * 28
IMAGE_SIDES = (28, 32, 64)  # what the convolutional body is built for (a side divisible by 4; 64 halves once more)
# The fields of ModelConfig each architecture reads beyond latent_dim (and image_shape): what its card holds.
ARCHITECTURE_FIELDS = {"conv": ("width",), "vae": ("width",), "dense": ("hidden",), "pca": (), "sparse": ()}


@dataclass(frozen=True)
class ModelConfig:
    architecture: str          # "conv", "dense", "vae", "pca" or "sparse"
    latent_dim: int            # code size; sparse: the number of hidden units (may exceed the 784 pixels)
    width: int = 32            # conv/vae: channels of the first stage (then 2x, 2x)
    hidden: tuple[int, ...] = field(default=(512, 256))  # dense: hidden layer sizes, input side first
    image_shape: tuple[int, int, int] = IMAGE_SHAPE  # (C, H, W) of the input; conv/vae/pca/dense

    def __post_init__(self):
        channels, height, width = self.image_shape
        if channels not in (1, 3) or height != width or height not in IMAGE_SIDES:
            raise ValueError(f"image_shape {self.image_shape} is not offered: (1 or 3, S, S) with S in {IMAGE_SIDES}")

    @property
    def n_values(self) -> int:
        """C * H * W: the numbers in one image."""
        return self.image_shape[0] * self.image_shape[1] * self.image_shape[2]

    def to_json(self) -> str:
        """The config as its card and its weights' metadata hold it: only the fields its architecture reads
        (``ARCHITECTURE_FIELDS``), and the image shape when it is not the zoo's (1, 28, 28).

        The shipped weight files were written with every field in their metadata; rewriting them would
        change their sha256 and file names, so they keep it: ``from_dict`` reads both as the same config."""
        values = {"architecture": self.architecture, "latent_dim": self.latent_dim}
        values.update((name, getattr(self, name)) for name in ARCHITECTURE_FIELDS[self.architecture])
        if self.image_shape != IMAGE_SHAPE:
            values["image_shape"] = self.image_shape
        return json.dumps(values, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict) -> "ModelConfig":
        values = dict(values)
        values["hidden"] = tuple(values.get("hidden", cls.hidden))
        values["image_shape"] = tuple(values.get("image_shape", IMAGE_SHAPE))
        return cls(**values)


class Autoencoder(nn.Module):
    """Base class: subclasses define ``encode`` and ``decode``; the rest follows."""

    config: ModelConfig

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def device(self) -> torch.device:
        """Where the weights live (PCA has buffers only, so both are looked at)."""
        return next(itertools.chain(self.parameters(), self.buffers())).device

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) in [0, 1] -> (B, latent_dim) codes."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) codes -> (B, 1, 28, 28) images in [0, 1] (PCA: unclipped, see there)."""
        raise NotImplementedError

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) -> (B, 1, 28, 28): decode(encode(x))."""
        return self.decode(self.encode(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reconstruct(x)

    def interpolate(self, start: torch.Tensor, end: torch.Tensor, steps: int = 10) -> torch.Tensor:
        """Decode ``steps`` evenly spaced codes from encode(start) to encode(end).

        start, end: (B, 1, 28, 28) in [0, 1] -> (B, steps, 1, 28, 28); step 0 and step
        ``steps - 1`` are the two reconstructions.
        """
        z0, z1 = self.encode(start), self.encode(end)
        t = torch.linspace(0, 1, steps, device=z0.device).view(1, steps, 1)
        codes = (1 - t) * z0.unsqueeze(1) + t * z1.unsqueeze(1)             # (B, steps, latent_dim)
        images = self.decode(codes.reshape(-1, self.latent_dim))
        return images.view(start.shape[0], steps, *self.config.image_shape)


def _conv_block(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.GELU())


def _up_block(c_in: int, c_out: int) -> nn.Sequential:
    # kernel 4, stride 2, padding 1 doubles the size exactly (7 -> 14 -> 28) without checkerboard gaps
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.GELU())


class _ConvBody(nn.Module):
    """(C, S, S) -> (2w, S/4, S/4) features and back (S/8 for S = 64); shared by ConvAutoencoder and ConvVAE.

    For (1, 28, 28) the layers and their names are those the zoo's weights were saved with.
    """

    def __init__(self, width: int, image_shape: tuple[int, int, int] = IMAGE_SHAPE):
        super().__init__()
        w = width
        channels, side, _ = image_shape
        extra = 1 if side >= 64 else 0     # one more halving keeps the bottleneck's input small (8x8, not 16x16)
        grid = side // 4 // (2 ** extra)
        self.features = 2 * w * grid * grid
        self.down = nn.Sequential(
            _conv_block(channels, w, 3),     # S x S
            _conv_block(w, 2 * w, 4, 2),     # S/2
            _conv_block(2 * w, 2 * w, 3),
            _conv_block(2 * w, 2 * w, 4, 2),  # S/4
            *[_conv_block(2 * w, 2 * w, 4, 2) for _ in range(extra)],  # S/8
            nn.Flatten(),
        )
        self.up = nn.Sequential(
            nn.Unflatten(1, (2 * w, grid, grid)),
            nn.GELU(),
            *[_up_block(2 * w, 2 * w) for _ in range(extra)],
            _up_block(2 * w, 2 * w),          # S/2
            _conv_block(2 * w, 2 * w, 3),
            _up_block(2 * w, w),              # S
            _conv_block(w, w, 3),
            nn.Conv2d(w, channels, 3, padding=1),    # logits
        )


class ConvAutoencoder(Autoencoder):
    """Convolutional autoencoder; ``to_code`` and ``from_code`` are the linear bottleneck."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.body = _ConvBody(config.width, config.image_shape)
        self.to_code = nn.Linear(self.body.features, config.latent_dim)
        self.from_code = nn.Linear(config.latent_dim, self.body.features)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_code(self.body.down(x))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) -> (B, C, H, W) logits, before the sigmoid."""
        return self.body.up(self.from_code(z))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(z))


class ConvVAE(ConvAutoencoder):
    """Variational autoencoder: ``to_code`` gives the mean, ``to_logvar`` the log-variance."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.to_logvar = nn.Linear(self.body.features, config.latent_dim)

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, 28, 28) -> mean (B, latent_dim), log-variance (B, latent_dim) of q(z|x)."""
        h = self.body.down(x)
        return self.to_code(h), self.to_logvar(h)


class DenseAutoencoder(Autoencoder):
    """Fully connected autoencoder C*H*W (784) -> hidden... -> latent -> ...hidden -> C*H*W."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        sizes = (config.n_values, *config.hidden)
        enc: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(sizes, sizes[1:]):
            enc += [nn.Linear(a, b), nn.LayerNorm(b), nn.GELU()]
        enc.append(nn.Linear(sizes[-1], config.latent_dim))
        dec: list[nn.Module] = []
        rev = (config.latent_dim, *reversed(sizes[1:]))
        for a, b in zip(rev, rev[1:]):
            dec += [nn.Linear(a, b), nn.LayerNorm(b), nn.GELU()]
        dec += [nn.Linear(rev[-1], config.n_values), nn.Unflatten(1, config.image_shape)]
        self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))


class PCAAutoencoder(Autoencoder):
    """PCA as a linear autoencoder: code = (x - mean) @ components.T.

    ``components`` (latent_dim, C*H*W) are orthonormal rows, ``mean`` (C*H*W,) is in [0, 1]
    (784 values for the zoo's (1, 28, 28)).
    ``decode`` is linear and not clipped, so it equals scikit-learn's ``inverse_transform``
    and may stray slightly outside [0, 1]; displays clip it.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.zeros(config.n_values))
        self.register_buffer("components", torch.zeros(config.latent_dim, config.n_values))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1) - self.mean) @ self.components.T

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (z @ self.components + self.mean).view(-1, *self.config.image_shape)

    @classmethod
    def fit(cls, images: torch.Tensor, latent_dim: int) -> "PCAAutoencoder":
        """Fit with scikit-learn's PCA on (N, C, H, W) images in [0, 1] (the zoo's: (N, 1, 28, 28))."""
        from sklearn.decomposition import PCA

        pca = PCA(n_components=latent_dim, svd_solver="full").fit(images.flatten(1).double().numpy())
        model = cls(ModelConfig("pca", latent_dim, image_shape=tuple(images.shape[1:])))
        model.mean.copy_(torch.from_numpy(pca.mean_))
        model.components.copy_(torch.from_numpy(pca.components_))
        return model


class SparseAutoencoder(Autoencoder):
    """784 -> h -> 784 with sigmoids on both layers, as in UFLDL: x̂ = σ(W2 σ(W1 x + b1) + b2).

    ``encoder`` holds W1 (h, 784) and b1, ``decoder`` W2 (784, h) and b2. The code is the
    hidden activations a in (0, 1)^h; sparsity means each unit is near 0 for most inputs.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = nn.Linear(N_PIXELS, config.latent_dim)
        self.decoder = nn.Linear(config.latent_dim, N_PIXELS)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) in [0, 1] -> (B, h) hidden activations in (0, 1)."""
        return torch.sigmoid(self.encoder(x.flatten(1)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, h) activations -> (B, 1, 28, 28) in (0, 1)."""
        return torch.sigmoid(self.decoder(z)).view(-1, *IMAGE_SHAPE)

    @torch.no_grad()
    def features(self) -> torch.Tensor:
        """(h, 28, 28) float32: tile i is the input of unit L2 norm that excites unit i most.

        Among inputs with ‖x‖ = 1, W_i·x (so the activation) is largest at x = W_i / ‖W_i‖,
        W_i being row i of the encoder weight. Each tile has unit norm and may be negative;
        displays rescale it.
        """
        weight = self.encoder.weight.float()                                   # (h, 784)
        return (weight / weight.norm(dim=1, keepdim=True)).view(-1, 28, 28)

    def top_k_activations(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """(B, 1, 28, 28) -> (B, h): each input's k largest hidden activations, the others set to 0."""
        if not 0 <= k <= self.latent_dim:
            raise ValueError(f"k must be between 0 and {self.latent_dim}, not {k}")
        activations = self.encode(x)
        largest = activations.topk(k, dim=1).indices
        keep = torch.zeros_like(activations).scatter_(1, largest, 1.0)
        return activations * keep

    def reconstruct_top_k(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """(B, 1, 28, 28) -> (B, 1, 28, 28): decoded from only the k most active units of each input.

        With k = h this is ``reconstruct``; with k = 0 it is the decoder's bias image σ(b2).
        """
        return self.decode(self.top_k_activations(x, k))


ARCHITECTURES: dict[str, type[Autoencoder]] = {
    "conv": ConvAutoencoder,
    "dense": DenseAutoencoder,
    "vae": ConvVAE,
    "pca": PCAAutoencoder,
    "sparse": SparseAutoencoder,
}


def build_model(config: ModelConfig) -> Autoencoder:
    """A freshly initialised model of ``config``'s architecture."""
    if config.architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {config.architecture!r}; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[config.architecture](config)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters plus buffers that hold learned values (PCA's mean and components)."""
    params = sum(p.numel() for p in model.parameters())
    if isinstance(model, PCAAutoencoder):
        params += model.mean.numel() + model.components.numel()
    return params
