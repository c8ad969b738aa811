"""Train one model or the whole zoo from the recipes kept here, and write its card.

    python -m ae_demo.train --list
    python -m ae_demo.train conv_z32_mnist          # one model
    python -m ae_demo.train --dataset mnist         # every model of a dataset, in dependency order
    python -m ae_demo.train --all

    python -m ae_demo.train --images PATH --name NAME [--colour] [--size 32] [--json]
    python -m ae_demo.train --datasets              # a teacher's own datasets in $AE_DATA_DIR
    python -m ae_demo.train --delete ID

``--images`` trains a folder of pictures or a ZIP (sub-folders are classes) into the data
folder, as the page's "Your own images" panel does (``ae_demo.own_training``), and prints its
id and its owner key. With ``--json`` it prints one JSON object instead: ``id``,
``owner_key``, ``heldout_sse`` and ``pca_sse`` per size, ``map_knn_accuracy`` per size
(null without classes), ``classes`` and ``seconds``.

Recipes are seeded. The convolutional ladder grows from the model at the headline size
(32): z64 starts as z32 with extra code units whose decoder weights are zero, and each
smaller size starts from the next larger one with its code projected onto the top
principal directions of that model's codes. Every step therefore starts where the
previous model stands, which is what makes the error fall at each step of the ladder for
a fraction of the training cost. The denoising model and the VAEs start from the conv
body of the same size. The card records the parent (``init_from``).

The sparse autoencoders of UFLDL's "Autoencoders" lesson (one sigmoid hidden layer of 196
or 1,000 units) train from scratch on the lesson's own cost, ``sparse_autoencoder_loss``;
the ``nosparse`` family is the same 196-unit net with the sparsity weight β = 0, and the
``identity`` family the 1,000-unit net with no constraint at all (β = 0 and λ = 0): wider than
the 784 pixels, nothing stops it from learning to copy whatever it is shown.
"""
from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .data import PRETRAINED_DIR, load_split, to_unit
from .datasets import names
from .metrics import mean_activation, sse_per_image
from .models import Autoencoder, ConvAutoencoder, ConvVAE, ModelConfig, PCAAutoencoder, SparseAutoencoder, build_model
from .zoo import LADDER_FAMILIES, load_model, model_name, read_manifest, round_to_storage_precision, save_model

LADDER = (2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class Recipe:
    family: str                # conv, dense, vae, dae, pca, sparse, nosparse or identity
    dataset: str
    config: ModelConfig
    epochs: float = 0          # passes over the training set (fractions allowed); 0 for PCA
    batch_size: int = 128
    lr: float = 2e-3           # peak of the one-cycle schedule
    weight_decay: float = 1e-4  # AdamW's decoupled decay; sparse nets: λ of their loss, and AdamW's is 0
    seed: int = 0
    augment: bool = False      # small random affine: ±10°, scale 0.9-1.1, shift ±2 px
    noise_std: float = 0.0     # denoising: Gaussian noise added to the input, clipped to [0, 1]
    kl_weight: float = 1.0     # VAE: weight of the KL term (1 = the ELBO)
    sparsity_target: float | None = None  # sparse nets: ρ, the mean activation each hidden unit is pulled to (None: no penalty)
    sparsity_weight: float = 0.0  # sparse nets: β, the weight of the sparsity penalty (0: none)
    init_from: str | None = None

    def __post_init__(self):
        if self.config.architecture == "sparse" and (self.noise_std or (self.sparsity_target is None
                                                                        and self.sparsity_weight)):
            raise ValueError(f"{self.name}: a sparse net takes no input noise, and needs a sparsity_target "
                             "when its sparsity_weight is not 0")

    @property
    def name(self) -> str:
        return model_name(self.family, self.config.latent_dim, self.dataset)


def _zoo_recipes(dataset: str, z32_epochs: float, step_epochs: float, augment: bool) -> list[Recipe]:
    """The zoo of one dataset, in an order where every parent comes before its children."""
    conv = lambda z, epochs, parent=None: Recipe(  # noqa: E731
        "conv", dataset, ModelConfig("conv", z), epochs, augment=augment, init_from=parent,
        lr=2e-3 if parent is None else 1e-3)
    name = lambda fam, z: model_name(fam, z, dataset)  # noqa: E731
    recipes = [Recipe("pca", dataset, ModelConfig("pca", z)) for z in LADDER]
    recipes.append(conv(32, z32_epochs))
    recipes.append(conv(64, step_epochs, name("conv", 32)))
    for smaller, larger in ((16, 32), (8, 16), (4, 8), (2, 4)):
        recipes.append(conv(smaller, step_epochs, name("conv", larger)))
    recipes.append(Recipe("dae", dataset, ModelConfig("conv", 32), step_epochs, augment=augment, noise_std=0.3,
                          lr=1e-3, init_from=name("conv", 32)))
    for z in (16, 2):
        recipes.append(Recipe("vae", dataset, ModelConfig("vae", z), step_epochs, augment=augment, lr=1e-3,
                              init_from=name("conv", z)))
    for z in (2, 32):
        recipes.append(Recipe("dense", dataset, ModelConfig("dense", z, hidden=(512, 256)),
                              z32_epochs, augment=augment))
    return recipes


def _lesson_recipes(dataset: str, epochs_196: float, epochs_1000: float) -> list[Recipe]:
    """UFLDL's sparse autoencoder (ρ = 0.1, β = 3, λ = 3e-3, as the lesson's MNIST exercise),
    an overcomplete one, the 196-unit net without the sparsity penalty, and the 1,000-unit net
    without any constraint (no sparsity, no weight decay): the identity the lesson warns of."""
    # Adam on minibatches of 256 rather than the lesson's full-batch L-BFGS, which costs a pass over
    # the data per step (60,000 images for Fashion): ρ̂ of a unit at 0.1 over 256 images is within
    # ±0.02 (one standard deviation) of its mean over the set. On the digits, 300 passes reach a
    # held-out SSE of 15.9 against 15.0 after the lesson's 400 L-BFGS iterations.
    sparse = lambda family, h, beta, epochs: Recipe(  # noqa: E731
        family, dataset, ModelConfig("sparse", h), epochs, batch_size=256, lr=1e-2, weight_decay=3e-3,
        sparsity_target=0.1, sparsity_weight=beta)
    identity = Recipe("identity", dataset, ModelConfig("sparse", 1000), epochs_1000, batch_size=256, lr=1e-2,
                      weight_decay=0.0, sparsity_target=None, sparsity_weight=0.0)
    return [sparse("sparse", 196, 3.0, epochs_196), sparse("sparse", 1000, 3.0, epochs_1000),
            sparse("nosparse", 196, 0.0, epochs_196), identity]


# Budget on 2 CPU cores (≈17 s per pass over 8,000 digits for the conv net): the headline
# z32 gets the most, every later step a third of it. Fashion-MNIST has 60,000 training
# images, so a pass costs 7.5x more and augmentation is not needed. The lesson's nets get
# the same number of steps on both (≈9,500 at 196 units, half that at 1,000: 0.3 s and 2 s
# per pass over the digits on one thread).
RECIPES: dict[str, Recipe] = {
    r.name: r for r in (_zoo_recipes("mnist", z32_epochs=36, step_epochs=12, augment=True)
                        + _zoo_recipes("fashion", z32_epochs=5, step_epochs=1.5, augment=False)
                        + _lesson_recipes("mnist", epochs_196=300, epochs_1000=150)
                        + _lesson_recipes("fashion", epochs_196=40, epochs_1000=20))
}


# --- one training step's pieces -----------------------------------------------------------

def random_affine(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(B, 1, 28, 28) -> the same images, each rotated ±10°, scaled 0.9-1.1 and shifted ±2 px."""
    b = x.shape[0]
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(b, generator=generator)  # noqa: E731
    angle, scale = u(-math.pi / 18, math.pi / 18), u(0.9, 1.1)
    shift = (torch.rand(b, 2, generator=generator) * 2 - 1) * (2 / 14)  # 2 px in [-1, 1] coordinates
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


class SparseLoss(NamedTuple):
    """UFLDL's sparse autoencoder cost J and its three terms, each a 0-d tensor."""

    total: torch.Tensor
    reconstruction: torch.Tensor  # (1/m) Σ ½‖x̂ − x‖², pixels in [0, 1]
    weight_decay: torch.Tensor    # (λ/2) (ΣW1² + ΣW2²), biases excluded
    sparsity: torch.Tensor        # β Σ_j KL(ρ ‖ ρ̂_j)


def sparse_autoencoder_loss(model: SparseAutoencoder, x: torch.Tensor, sparsity_target: float | None,
                            sparsity_weight: float, weight_decay: float) -> SparseLoss:
    """J = (1/m) Σ ½‖x̂ − x‖² + (λ/2) Σ W² + β Σ_j KL(ρ ‖ ρ̂_j), as the UFLDL lesson writes it.

    x: (m, 1, 28, 28) in [0, 1], input and target. ρ = ``sparsity_target``, β =
    ``sparsity_weight``, λ = ``weight_decay``; ρ̂_j is unit j's mean activation over this
    batch and KL(ρ ‖ ρ̂) = ρ log(ρ/ρ̂) + (1−ρ) log((1−ρ)/(1−ρ̂)), the divergence between
    Bernoulli variables of means ρ and ρ̂, in nats. With ``sparsity_target`` None there is no
    sparsity term (it is 0).
    """
    activations = model.encode(x)                                               # (m, h)
    reconstruction = 0.5 * (model.decode(activations) - x).pow(2).flatten(1).sum(1).mean()
    decay = 0.5 * weight_decay * (model.encoder.weight.pow(2).sum() + model.decoder.weight.pow(2).sum())
    if sparsity_target is None:
        return SparseLoss(reconstruction + decay, reconstruction, decay, torch.zeros(()))
    rho = sparsity_target
    # a unit saturated over the whole batch rounds to exactly 0 or 1 in float32, where the log is infinite
    rho_hat = activations.mean(0).clamp(1e-6, 1 - 1e-6)                         # (h,)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    sparsity = sparsity_weight * kl.sum()
    return SparseLoss(reconstruction + decay + sparsity, reconstruction, decay, sparsity)


def training_loss(model: Autoencoder, noisy: torch.Tensor, clean: torch.Tensor, recipe: Recipe) -> torch.Tensor:
    """What the optimiser minimises on one batch, a 0-d tensor.

    Sparse nets: ``sparse_autoencoder_loss`` (their recipes add no noise, so ``clean`` is the
    input). The others: Bernoulli negative log-likelihood summed over pixels (plus the KL
    term, weighted by ``recipe.kl_weight``, for the VAE), mean over the batch.
    """
    if isinstance(model, SparseAutoencoder):
        return sparse_autoencoder_loss(model, clean, recipe.sparsity_target, recipe.sparsity_weight,
                                       recipe.weight_decay).total
    if isinstance(model, ConvVAE):
        mean, logvar = model.encode_distribution(noisy)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
        kl = -0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum(1).mean()
        logits = model.decode_logits(z)
    else:
        logits, kl = model.decode_logits(model.encode(noisy)), 0.0
    nll = F.binary_cross_entropy_with_logits(logits, clean, reduction="sum") / clean.shape[0]
    return nll + recipe.kl_weight * kl


def make_optimizer(model: Autoencoder, recipe: Recipe) -> torch.optim.AdamW:
    """AdamW with the recipe's decoupled weight decay; for sparse nets none, as λ is in their loss."""
    decay = 0.0 if isinstance(model, SparseAutoencoder) else recipe.weight_decay
    return torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=decay)


@torch.no_grad()
def start_from_parent(child: Autoencoder, parent: Autoencoder, images: torch.Tensor) -> None:
    """Copy ``parent``'s weights into ``child`` where shapes allow, and map its code to the child's size.

    Both must be conv models. Growing: the new code units start with zero decoder weights,
    so the child starts as exactly the parent. Shrinking: the child's code is the parent's
    projected onto its top principal directions, estimated on ``images`` (N, 1, 28, 28).
    """
    if not (isinstance(child, ConvAutoencoder) and isinstance(parent, ConvAutoencoder)):
        raise ValueError("start_from_parent needs two convolutional models")
    own = child.state_dict()
    own.update({k: v for k, v in parent.state_dict().items() if k in own and own[k].shape == v.shape})
    child.load_state_dict(own)
    p, c = parent.latent_dim, child.latent_dim
    w_enc, b_enc = parent.to_code.weight, parent.to_code.bias          # (p, F), (p,)
    w_dec, b_dec = parent.from_code.weight, parent.from_code.bias      # (F, p), (F,)
    if c > p:
        child.to_code.weight[:p], child.to_code.bias[:p] = w_enc, b_enc
        child.from_code.weight.zero_()
        child.from_code.weight[:, :p], child.from_code.bias[:] = w_dec, b_dec
    elif c < p:
        parent.eval()
        codes = torch.cat([parent.encode(images[i:i + 1000]) for i in range(0, len(images), 1000)])
        mean = codes.mean(0)
        _, _, vh = torch.linalg.svd(codes - mean, full_matrices=False)
        basis = vh[:c].T                                                 # (p, c), orthonormal columns
        child.to_code.weight[:], child.to_code.bias[:] = basis.T @ w_enc, basis.T @ (b_enc - mean)
        child.from_code.weight[:], child.from_code.bias[:] = w_dec @ basis, b_dec + w_dec @ mean


def fit_network(model: Autoencoder, images: torch.Tensor, recipe: Recipe, generator: torch.Generator,
                progress: bool = False, on_step=None, total_steps: int | None = None) -> None:
    """Train ``model`` in place on ``images`` (N, C, H, W) in [0, 1] as ``recipe`` says; eval mode after.

    ``recipe.epochs`` passes (or ``total_steps`` steps) of AdamW under a one-cycle schedule.
    ``on_step(step, total_steps, loss)``, when given, is called after every step; raising in
    it (a cancelled training) stops the training there.
    """
    steps_per_epoch = math.ceil(len(images) / recipe.batch_size)
    total_steps = total_steps or max(1, round(recipe.epochs * steps_per_epoch))
    optimizer = make_optimizer(model, recipe)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr, total_steps=total_steps,
                                                   pct_start=0.15 if recipe.init_from is None else 0.05)
    model.train()
    order = torch.empty(0, dtype=torch.long)
    bar = tqdm(range(total_steps), desc=recipe.name, disable=not progress, mininterval=5)
    for step in bar:
        if len(order) < recipe.batch_size:
            order = torch.cat([order, torch.randperm(len(images), generator=generator)])
        batch, order = images[order[:recipe.batch_size]], order[recipe.batch_size:]
        if recipe.augment:
            batch = random_affine(batch, generator)
        noisy = batch
        if recipe.noise_std:
            noisy = (batch + recipe.noise_std * torch.randn(batch.shape, generator=generator)).clamp(0, 1)
        loss = training_loss(model, noisy, batch, recipe)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 50 == 0:
            bar.set_postfix(loss=f"{loss.item():.2f}")
        if on_step is not None:
            on_step(step + 1, total_steps, loss.item())
    model.eval()


# --- the command ---------------------------------------------------------------------------

def heldout_metrics(model: Autoencoder, test_images: torch.Tensor, pca_sse: float | None) -> dict:
    """The card's metrics: SSE per image, PCA's beside it when given, a sparse net's mean activation."""
    sse = sse_per_image(model, test_images)
    metrics = {"n_images": len(test_images), "sse_per_image": round(sse, 4)}
    if pca_sse is not None:
        metrics.update(pca_sse_per_image=round(pca_sse, 4), ratio_to_pca=round(sse / pca_sse, 4))
    if isinstance(model, SparseAutoencoder):
        metrics["mean_activation"] = round(mean_activation(model, test_images), 4)
    return metrics


def train(recipe: Recipe, data_dir: Path | None = None, out_dir: Path = PRETRAINED_DIR,
          limit: int | None = None, epochs: float | None = None, progress: bool = True) -> dict:
    """Train (or fit) ``recipe``'s model, evaluate it on the held-out split, save weights and card.

    ``limit`` (first N training images) and ``epochs`` override the recipe for smoke runs; the
    card records what was actually used. Returns the card's metrics.
    """
    if epochs is not None:
        recipe = replace(recipe, epochs=epochs)
    train_split, test_split = load_split(recipe.dataset, "train", data_dir), load_split(recipe.dataset, "test", data_dir)
    images = to_unit(train_split.images[:limit])
    test_images = to_unit(test_split.images)
    torch.manual_seed(recipe.seed)
    generator = torch.Generator().manual_seed(recipe.seed)
    started = time.perf_counter()

    if recipe.family == "pca":
        model: Autoencoder = PCAAutoencoder.fit(images, recipe.config.latent_dim)
    else:
        model = build_model(recipe.config)
        if recipe.init_from:
            start_from_parent(model, load_model(recipe.init_from, out_dir), images)
        fit_network(model, images, recipe, generator, progress=progress)
    model = round_to_storage_precision(model)  # the card's figures are those of the weights as stored
    seconds = time.perf_counter() - started

    pca_name = model_name("pca", recipe.config.latent_dim, recipe.dataset)
    pca_sse = None  # PCA is its own baseline, and the lesson's nets have no PCA twin of their size
    if recipe.family in LADDER_FAMILIES and pca_name in read_manifest(out_dir)["models"]:
        pca_sse = sse_per_image(load_model(pca_name, out_dir), test_images)
    metrics = heldout_metrics(model, test_images, pca_sse)
    recipe_card = {k: v for k, v in asdict(recipe).items() if k not in ("config", "family", "dataset")}
    training = {"seconds": round(seconds, 1), "device": f"cpu ({platform.machine()}, {torch.get_num_threads()} threads)",
                "torch": torch.__version__, "n_train": len(images), "data_source": train_split.source,
                "heldout_source": test_split.source,
                "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    save_model(model, recipe.name, recipe.dataset, recipe.family, recipe_card, training, metrics, out_dir)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ae_demo.train", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="models to train (see --list)")
    parser.add_argument("--all", action="store_true", help="train the whole zoo")
    parser.add_argument("--dataset", choices=names(), help="train every model of one dataset")
    parser.add_argument("--list", action="store_true", help="list the recipes and exit")
    parser.add_argument("--data-dir", type=Path, help="folder of IDX .gz files (default: known folders, then download)")
    parser.add_argument("--out", type=Path, default=PRETRAINED_DIR, help="where weights and manifest.json go")
    parser.add_argument("--limit", type=int, help="use only the first N training images (smoke runs)")
    parser.add_argument("--epochs", type=float, help="override every recipe's epochs (smoke runs)")
    own = parser.add_argument_group("a teacher's own pictures (kept in $AE_DATA_DIR, see ae_demo.own_data)")
    own.add_argument("--images", type=Path, metavar="PATH", help="a folder of pictures or a ZIP to train on")
    own.add_argument("--name", help="the dataset's name (with --images)")
    own.add_argument("--colour", action="store_true", help="keep colour (default: grey)")
    own.add_argument("--size", type=int, default=32, choices=(28, 32, 64), help="side in pixels (default 32)")
    own.add_argument("--json", action="store_true", help="print one JSON object with the figures")
    own.add_argument("--recipe", default="full", choices=("full", "reduced"),
                     help="reduced: a few steps and three sizes, for smoke tests")
    own.add_argument("--datasets", action="store_true", help="list the datasets of the data folder")
    own.add_argument("--delete", metavar="ID", help="remove a dataset from the data folder")
    args = parser.parse_args(argv)

    if args.images or args.datasets or args.delete:
        return _own_data_command(args, parser)

    if args.list:
        for r in RECIPES.values():
            print(f"{r.name:21s} epochs={r.epochs:<4g} init_from={r.init_from or '-'}")
        return 0
    unknown = [n for n in args.names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; see --list")
    chosen = [r for r in RECIPES.values()
              if args.all or r.name in args.names or (args.dataset and r.dataset == args.dataset)]
    if not chosen:
        parser.error("name a model, or give --dataset or --all")
    args.out.mkdir(parents=True, exist_ok=True)
    for recipe in chosen:
        metrics = train(recipe, args.data_dir, args.out, args.limit, args.epochs)
        print(f"{recipe.name}: {metrics}", flush=True)
    return 0


def _own_data_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """--images, --datasets and --delete. A problem with the input is a message and exit code 2."""
    import json

    from .image_sets import read_image_set
    from .own_data import OwnDataError, data_dir, delete_dataset, list_datasets, new_owner_key
    from .own_training import RECIPES, build_dataset
    from .preprocess import InputError

    try:
        if args.datasets:
            datasets = list_datasets()
            print(f"{len(datasets)} dataset(s) in {data_dir()}")
            for d in datasets:
                shape = "x".join(map(str, d.image_shape[1:])) + (" colour" if d.colour else " grey")
                classes = f"{len(d.classes)} classes" if d.classes else "no classes"
                print(f"{d.id}  {d.name!r}  {d.card['n_images']} pictures, {shape}, {classes}, {d.card['created']}")
            return 0
        if args.delete:
            # the command line runs with the data folder's own file rights: no owner key asked
            delete_dataset(args.delete, None)
            print(f"deleted {args.delete}")
            return 0
        if not args.name:
            parser.error("--images needs --name")
        torch.set_num_threads(1)
        found = read_image_set(args.images, size=args.size, colour=args.colour)
        for skipped in found.skipped:
            print(f"skipped {skipped.name}: {skipped.reason}", file=sys.stderr)
        for note in found.notes:
            print(note, file=sys.stderr)
        if found.problem:
            raise InputError(found.problem.template, **found.problem.params)
        last = [0.0]

        def report(progress: dict) -> None:
            if time.monotonic() - last[0] > 5 or progress.get("stage") == "saving":
                last[0] = time.monotonic()
                left = progress.get("seconds_left")
                print(f"{progress.get('stage')}: {progress.get('model', '')} "
                      f"{progress.get('step', '')}/{progress.get('steps', '')}"
                      + (f", about {left:.0f} s left" if left is not None else ""), file=sys.stderr, flush=True)

        key = new_owner_key()
        dataset = build_dataset(found.images, found.labels, found.classes, args.name, key, RECIPES[args.recipe],
                                report=report, source={"skipped": len(found.skipped), "notes": list(found.notes)})
    except (InputError, OwnDataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    metrics = dataset.card["metrics"]
    if args.json:
        print(json.dumps({"id": dataset.id, "owner_key": key, "heldout_sse": metrics["conv_sse_per_image"],
                          "pca_sse": metrics["pca_sse_per_image"], "map_knn_accuracy": metrics["map_knn_accuracy"],
                          "classes": list(dataset.classes), "n_images": dataset.card["n_images"],
                          "seconds": dataset.card["seconds"]}))
    else:
        print(dataset.id)
        print(f"owner key (shown once; needed to delete it from the page): {key}")
        print(f"held-out SSE per picture by z: {metrics['conv_sse_per_image']}; PCA: {metrics['pca_sse_per_image']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
