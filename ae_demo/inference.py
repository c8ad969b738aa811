"""Run inputs through a family of pretrained models and their PCA twins, in one pass per model.

Everything here takes and returns numpy arrays on the CPU, so a caller never sees the device.
"""
from __future__ import annotations

import hashlib
import itertools
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .data import PRETRAINED_DIR, as_model_input
from .device import pick_device
from .metrics import psnr, sse
from .models import Autoencoder, SparseAutoencoder
from .zoo import load_model, read_zoo


@dataclass(frozen=True)
class LadderResult:
    """What one family (and PCA) makes of B inputs at each of its L latent sizes."""

    latent_dims: tuple[int, ...]   # (L,) ascending
    codes: tuple[np.ndarray, ...]  # (L,) of (B, latent_dims[l]) float32: what each encoder made of each input
    reconstructions: np.ndarray    # (L, B, 28, 28) float32, clipped to [0, 1]: decoded from those codes
    sse: np.ndarray                # (L, B) sum of squared error over the 784 pixels
    psnr: np.ndarray               # (L, B) dB
    seconds: float                 # wall time of the forward passes, transfers included

    def code(self, latent_dim: int, column: int) -> np.ndarray:
        """(latent_dim,) the code of input ``column`` at ``latent_dim``."""
        return self.codes[self.latent_dims.index(latent_dim)][column]

    def columns(self, columns: list[int]) -> "LadderResult":
        """The same result over some inputs only, in the order given."""
        return LadderResult(self.latent_dims, tuple(c[columns] for c in self.codes), self.reconstructions[:, columns],
                            self.sse[:, columns], self.psnr[:, columns], self.seconds)


def load_family(dataset: str, family: str, device: torch.device | None = None,
                directory: Path = PRETRAINED_DIR) -> dict[int, Autoencoder]:
    """latent_dim -> model, every pretrained ``family`` model of ``dataset``, on ``device`` (default: the best)."""
    device = device or pick_device()
    return {card.latent_dim: load_model(card.name, directory, device) for card in read_zoo(directory).cards(dataset, family)}


# compile_ladder's use of TorchScript, said once for the process: a warnings.catch_warnings() around the call
# would not do, as it is not thread-safe and the compile runs in a thread (LadderCache.compile_in_background)
_JIT_DEPRECATED = r"`torch\.jit\.\w+` is deprecated"
warnings.filterwarnings("ignore", message=_JIT_DEPRECATED, category=FutureWarning)


class _LadderModule(nn.Module):
    """Every model of a ladder in one forward: (B, 1, 28, 28) -> codes per size, (L, B, 28, 28) reconstructions."""

    def __init__(self, models: dict[int, Autoencoder]):
        super().__init__()
        self.models = nn.ModuleList(models[z] for z in sorted(models))

    def forward(self, x: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        codes = tuple(model.encode(x) for model in self.models)  # once: the page shows, places and decodes it
        return codes, torch.stack([model.decode(code).clamp(0, 1).squeeze(1) for model, code in zip(self.models, codes)])


def compile_ladder(models: dict[int, Autoencoder]) -> torch.jit.ScriptModule:
    """The ladder as one frozen TorchScript graph, the same numbers as the eager models (tests/test_inference.py).

    Why: eager PyTorch gives up the GIL at each of a ladder's ~200 operators and must win it
    back each time; on a server whose other sessions keep Python busy, each win-back waits for
    Python's switch interval, so a ladder beside one busy thread took many times its own time.
    The graph gives up the GIL once per call and runs outside it, so one session's
    reconstructions no longer queue behind everyone else's page scripts
    (``benchmarks/gpu_check.py``'s ladder_figures measures both; the README's Speed section has the figures).
    TorchScript is deprecated in favour of torch.compile / torch.export; its deprecation warnings are
    silenced (``_JIT_DEPRECATED``). Both replacements are measured beside it by ``benchmarks/bench_graph.py``
    (README, Speed: "The one-graph ladder and its replacements"): torch.compile's inductor needs minutes of
    compiling per family before its first fast call, and torch.export's module runs operator by operator
    as eager does, so neither does here what the graph does; TorchScript stays until one does.
    """
    module = _LadderModule(models).eval()
    device = next(itertools.chain(module.parameters(), module.buffers())).device
    example = torch.rand(2, 1, 28, 28, device=device)  # B = 2: nothing specialises on a batch of one
    with torch.no_grad():
        graph = torch.jit.freeze(torch.jit.trace(module, example, check_trace=False))
    with torch.inference_mode():  # as run_ladder calls it
        for batch in (1, 1, 2):  # TorchScript optimises a graph over its first calls (93, 38, then 12 ms here)
            graph(torch.rand(batch, 1, 28, 28, device=device))
    return graph


@torch.inference_mode()
def run_ladder(models: dict[int, Autoencoder], images: np.ndarray,
               compiled: torch.jit.ScriptModule | None = None) -> LadderResult:
    """images (B, 28, 28) float32 in [0, 1] -> every model's reconstruction, error and PSNR.

    All B inputs go through each model as one batch; ``compiled``: the same models as
    ``compile_ladder`` made them, run in one call (``LadderCache`` keeps one).
    """
    dims = tuple(sorted(models))
    if not dims or len(images) == 0:  # nothing to run: empty results of the right shapes
        empty = (len(dims), len(images))
        return LadderResult(dims, tuple(np.zeros((0, z), np.float32) for z in dims),
                            np.zeros((*empty, 28, 28), np.float32), np.zeros(empty, np.float32),
                            np.zeros(empty, np.float32), 0.0)
    started = time.perf_counter()
    device = models[dims[0]].device
    x = as_model_input(images, device)
    codes, recon = (compiled if compiled is not None else _LadderModule(models))(x)
    codes = tuple(code.cpu().numpy().astype(np.float32) for code in codes)
    recon = recon.cpu()  # (L, B, 28, 28)
    seconds = time.perf_counter() - started
    target = torch.from_numpy(np.asarray(images, dtype=np.float32)).unsqueeze(0).expand_as(recon)
    flat_r, flat_t = recon.reshape(-1, 1, 28, 28), target.reshape(-1, 1, 28, 28)
    return LadderResult(dims, codes, recon.numpy(), sse(flat_r, flat_t).view(recon.shape[:2]).numpy(),
                        psnr(flat_r, flat_t).view(recon.shape[:2]).numpy(), seconds)


def _join(parts: list[LadderResult], seconds: float) -> LadderResult:
    """Results of single images, in order -> one result over all of them (B = len(parts))."""
    codes = tuple(np.concatenate([p.codes[i] for p in parts]) for i in range(len(parts[0].latent_dims)))
    return LadderResult(parts[0].latent_dims, codes, np.concatenate([p.reconstructions for p in parts], axis=1),
                        np.concatenate([p.sse for p in parts], axis=1), np.concatenate([p.psnr for p in parts], axis=1),
                        seconds)


class LadderCache:
    """``run_ladder`` over one family, remembering each image's result: only new images are computed.

    A stroke changes one input of the several a visitor has (the sample, uploads, the
    drawing); caching per image makes it cost one image's pass instead of all of them, and
    the images that are new in one call still go through each model as one batch. Shared by
    every session of a server (thread-safe); the least recently used images are dropped
    beyond ``max_images`` (each is about 20 KB for a 6-size ladder).

    It runs the eager models until ``compile_in_background`` has made the ladder one graph
    (``compile_ladder``, the same numbers), which a loaded server needs and a first visit
    should not wait for (half a second for the conv ladder here).
    """

    def __init__(self, models: dict[int, Autoencoder], max_images: int = 1024):
        self.models = models
        self.compiled: torch.jit.ScriptModule | None = None
        self.max_images = max_images
        self._results: OrderedDict[bytes, LadderResult] = OrderedDict()
        self._lock = threading.Lock()
        self._compiler: threading.Thread | None = None

    def compile_in_background(self) -> threading.Thread | None:
        """Start making the ladder one graph in a thread, once per cache; returns that thread (None when
        there are no models). ``run`` uses the graph from the call after it is ready."""
        with self._lock:
            if self._compiler is None and self.models:
                # not a daemon (said outright: a thread started by a script run, itself a daemon, would
                # inherit that): a process that exits mid-compile waits the half second for it, where
                # torch aborts a process that exits with a thread still inside the tracer
                self._compiler = threading.Thread(target=self._compile, name="ladder-compile", daemon=False)
                self._compiler.start()
            return self._compiler

    def _compile(self) -> None:
        self.compiled = compile_ladder(self.models)

    def __len__(self) -> int:
        return len(self._results)

    def run(self, images: np.ndarray) -> LadderResult:
        """(B, 28, 28) float32 in [0, 1] -> as ``run_ladder``. ``seconds``: this call's pass, or when every
        image was known, the slowest of the passes that computed them."""
        images = np.ascontiguousarray(images, dtype=np.float32)
        if len(images) == 0:
            return run_ladder(self.models, images)
        keys = [hashlib.blake2b(image.tobytes(), digest_size=16).digest() for image in images]
        with self._lock:
            known = {key: self._results[key] for key in keys if key in self._results}
            for key in known:
                self._results.move_to_end(key)
        missing = list(dict.fromkeys(key for key in keys if key not in known))  # each new image once
        seconds = max((r.seconds for r in known.values()), default=0.0)
        if missing:
            rows = [keys.index(key) for key in missing]
            fresh = run_ladder(self.models, images[rows], self.compiled)  # the graph once it is ready
            seconds = fresh.seconds
            for j, key in enumerate(missing):
                one = fresh.columns([j])  # fancy indexing copies: no view keeps the whole batch alive
                known[key] = one
            with self._lock:
                self._results.update((key, known[key]) for key in missing)
                while len(self._results) > self.max_images:
                    self._results.popitem(last=False)
        return _join([known[key] for key in keys], seconds)


@torch.inference_mode()
def encode_images(model: Autoencoder, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """(B, 28, 28) float32 in [0, 1] -> (B, latent_dim) float32 codes (a sparse net's: its hidden activations),
    in batches of ``batch_size`` on the model's device."""
    return np.concatenate([model.encode(as_model_input(images[i:i + batch_size], model.device)).float().cpu().numpy()
                           for i in range(0, len(images), batch_size)]) if len(images) else \
        np.zeros((0, model.latent_dim), np.float32)


@torch.inference_mode()
def reconstruct_images(model: Autoencoder, images: np.ndarray, top_k: int | None = None) -> np.ndarray:
    """(B, 28, 28) float32 in [0, 1] -> (B, 28, 28) float32 reconstructions clipped to [0, 1], as one batch.

    ``top_k``: a sparse net rebuilds each input from its k most active hidden units only
    (``SparseAutoencoder.reconstruct_top_k``)."""
    x = as_model_input(images, model.device)
    out = model.reconstruct(x) if top_k is None else model.reconstruct_top_k(x, top_k)
    return out.clamp(0, 1)[:, 0].cpu().numpy()


@torch.inference_mode()
def unit_features(model: SparseAutoencoder) -> np.ndarray:
    """(hidden, 28, 28) float32: each hidden unit's x = W_i/‖W_i‖ (``SparseAutoencoder.features``)."""
    return model.features().cpu().numpy()


@torch.inference_mode()
def decode_codes(model: Autoencoder, codes: np.ndarray) -> np.ndarray:
    """(M, latent_dim) codes -> (M, 28, 28) float32 images clipped to [0, 1]."""
    z = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32)).to(model.device)
    return model.decode(z).clamp(0, 1).squeeze(1).cpu().numpy()


def decode_grid(model: Autoencoder, lo: tuple[float, float], hi: tuple[float, float], steps: int) -> np.ndarray:
    """A 2-D latent's decoded manifold: (steps*28, steps*28) float32 in [0, 1].

    Column j decodes x = lo[0] … hi[0] left to right; row i decodes y = hi[1] … lo[1] top to
    bottom, so the picture is oriented like a plot of the codes.
    """
    xs = np.linspace(lo[0], hi[0], steps)
    ys = np.linspace(hi[1], lo[1], steps)
    codes = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    images = decode_codes(model, codes).reshape(steps, steps, 28, 28)
    return images.transpose(0, 2, 1, 3).reshape(steps * 28, steps * 28)


def decode_between(model: Autoencoder, start: np.ndarray, end: np.ndarray, steps: int) -> np.ndarray:
    """(latent_dim,), (latent_dim,) codes -> (steps, 28, 28) in [0, 1]: decoded at evenly spaced points
    of the straight line between them, both ends included."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return decode_codes(model, (1 - t) * np.asarray(start, np.float32) + t * np.asarray(end, np.float32))
