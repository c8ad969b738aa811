"""Training a teacher's own pictures into a dataset the whole lab runs on, in a worker process.

What is trained (``OwnRecipe``), on a fixed held-out share of the pictures kept out of every fit:

- the convolutional ladder at z = 2, 4, 8, 16, 32, 64: first a scaffold, the net at the largest z
  trained from scratch; then the smallest size from the scaffold cut to its size, and each larger
  size grown from its smaller neighbour (``OwnRecipe``);
- PCA at the same sizes;
- each conv size's latent map (UMAP of every picture's code; a 2-D code drawn as it is), and
  with classes the map's kNN accuracy on the held-out pictures;
- the anomaly references: each conv size's held-out error quantiles, and how well its error
  separates held-out pictures from generated non-members (noise, flat colours, the held-out
  pictures with their pixels shuffled), as ROC AUC.

``build_dataset`` does it in the calling process (the command line). On the server,
:class:`OwnTrainer` runs it as ``python -m ae_demo.own_training JOB_FOLDER``: a child process
started the way ``map_fitter`` starts its worker (issue 17's shared worker helper had not
landed), niced, torch on one thread, so other visitors' strokes keep the server's core and
GIL. One training runs at a time per server; the next waits in a queue and sees its place.
The child reports progress in ``progress.json`` (replaced atomically) and stops when its
stdin says "stop" or closes.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .data import REPO_ROOT
from .messages import Message
from .own_data import (IMAGES_NAME, MAPS_NAME, OwnDataError, OwnDataset, build_folder, check_room, clean_name,
                       data_dir, key_digest, new_id, new_owner_key, publish, remove_stale_builds)

NICE = 10
PROGRESS_NAME = "progress.json"
MAX_WAITING = 3          # teachers queued behind the running training
VOTE_K = 10              # map neighbours that vote on a held-out picture's class (as maps.VOTE_K)
QUANTILE_LEVELS = np.linspace(0.0, 100.0, 101)
MAP_SECONDS_GUESS = 45.0  # the maps' share of the time left, until measured: UMAP's first compile dominates


@dataclass(frozen=True)
class OwnRecipe:
    """How a teacher's dataset is trained. Budgeted in steps, so the time grows with nothing but the image size.

    The scaffold, the net at the largest size, trains from scratch: a wide code lets its convolutions
    learn the pictures fastest; it is not kept. The smallest size starts from it with its code
    projected onto the scaffold code's top z principal directions (``train.start_from_parent``).
    Each larger size then starts as exactly its smaller neighbour, the new code units silent (zero
    decoder weights) and reading the scaffold code's next principal directions, and trains on: it
    starts where its neighbour ended and can only add to it, which is why the error falls with z.
    (Trained the other way, each size from one start for the same steps, the largest sizes tie:
    where the code is no longer the bottleneck, which of them ends lower is chance.)
    """

    latent_dims: tuple[int, ...] = (2, 4, 8, 16, 32, 64)
    headline: int = 32            # the size the page opens on
    width: int = 16               # conv channels of the first stage (the zoo's 32 costs ~3x the time per step)
    batch_size: int = 32          # for the time of 64's steps, twice the steps: more updates per picture seen
    scaffold_steps: int = 400     # the largest size from scratch: 16 passes over 800 training pictures
    smallest_steps: int = 120     # the smallest size, the furthest from its start (the scaffold cut to z)
    size_steps: int = 72          # each larger size, grown from its neighbour
    lr: float = 3e-3              # peak of the scaffold's one-cycle schedule
    size_lr: float = 1e-3         # peak of each size's: it starts trained, a high rate would undo that
    heldout_share: float = 0.2    # of the pictures, fixed by ``seed``, never trained on
    seed: int = 0
    umap_neighbors: int = 15
    map_method: str = "umap"      # "pca" in the reduced recipe: UMAP's first compile alone takes 30-60 s

    @property
    def total_steps(self) -> int:
        return self.scaffold_steps + self.smallest_steps + self.size_steps * (len(self.latent_dims) - 1)

    def steps_of(self, latent_dim: int) -> int:
        """Steps the z = ``latent_dim`` net has trained in all: the scaffold's, the smallest's and each
        size's on the way up to it."""
        return self.scaffold_steps + self.smallest_steps + self.size_steps * sorted(self.latent_dims).index(latent_dim)


RECIPE = OwnRecipe()
REDUCED = OwnRecipe(latent_dims=(2, 8, 32), scaffold_steps=12, smallest_steps=4, size_steps=4, map_method="pca")  # tests, browser test
RECIPES = {"full": RECIPE, "reduced": REDUCED}


class Cancelled(Exception):
    """The teacher cancelled the training."""


def heldout_rows(n: int, recipe: OwnRecipe) -> np.ndarray:
    """(M,) sorted rows held out of every fit: a seeded ``heldout_share`` of 0 … n-1 (at least one)."""
    count = max(1, round(n * recipe.heldout_share))
    return np.sort(np.random.default_rng(recipe.seed).permutation(n)[:count]).astype(np.int64)


def ladder_order(recipe: OwnRecipe) -> list[tuple[int, int | str | None]]:
    """(latent_dim, what it starts from) in training order: the scaffold at the largest size (None:
    from scratch), the smallest size from "scaffold", then each larger size from its neighbour."""
    dims = sorted(recipe.latent_dims)
    return [(dims[-1], None), (dims[0], "scaffold")] + list(zip(dims[1:], dims[:-1]))


def code_directions(scaffold, images) -> tuple:
    """The scaffold's encoder turned to its code's principal directions: (K, F) weights and (K,) biases
    whose row k gives the centred code along its k-th direction, largest variance first (K = its
    latent_dim, or fewer with fewer ``images`` (N, C, S, S)); as ``train.start_from_parent`` projects."""
    import torch       # here, not above: the server imports this module for OwnTrainer, without torch

    scaffold.eval()
    with torch.no_grad():
        codes = torch.cat([scaffold.encode(images[i:i + 1000]) for i in range(0, len(images), 1000)])
        mean = codes.mean(0)
        _, _, vh = torch.linalg.svd(codes - mean, full_matrices=False)
        return vh @ scaffold.to_code.weight, vh @ (scaffold.to_code.bias - mean)


def grow_from(child, smaller, directions: tuple) -> None:
    """Start ``child`` as exactly ``smaller`` (a conv net with a smaller code): the same weights, its code
    units first; the new units read ``directions``' next rows (``code_directions``) and are silent
    (zero decoder weights), so the child's reconstructions equal the smaller net's until it trains."""
    import torch

    from .train import start_from_parent

    if child.latent_dim <= smaller.latent_dim:
        raise ValueError(f"grow_from grows a code: z = {smaller.latent_dim} cannot grow to {child.latent_dim}")
    start_from_parent(child, smaller, torch.empty(0))       # growing reads no pictures
    weights, biases = directions
    p, z = smaller.latent_dim, min(child.latent_dim, len(weights))
    with torch.no_grad():
        child.to_code.weight[p:z], child.to_code.bias[p:z] = weights[p:z], biases[p:z]


def knn_accuracy(coords: np.ndarray, labels: np.ndarray, heldout: np.ndarray, k: int = VOTE_K) -> float:
    """Share of held-out pictures whose class wins among the k training pictures nearest on the map."""
    train = np.setdiff1d(np.arange(len(labels)), heldout)
    d = ((coords[heldout, None, :] - coords[None, train, :]) ** 2).sum(-1)
    k = min(k, len(train))
    nearest = train[np.argpartition(d, k - 1, axis=1)[:, :k]]
    n_classes = int(labels.max()) + 1
    votes = np.apply_along_axis(np.bincount, 1, labels[nearest], minlength=n_classes)
    return float((votes.argmax(1) == labels[heldout]).mean())


def roc_auc(members: np.ndarray, others: np.ndarray) -> float:
    """Probability that a non-member's error exceeds a member's (ties count half)."""
    larger = (others[:, None] > members[None, :]).mean()
    ties = (others[:, None] == members[None, :]).mean()
    return float(larger + 0.5 * ties)


def non_members(heldout: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Generated pictures that are not of the dataset, (M, C, S, S) float32 in [0, 1] per category."""
    rng = np.random.default_rng(seed)
    n, shape = len(heldout), heldout.shape[1:]
    flat = rng.random((n, shape[0], 1, 1)).astype(np.float32) * np.ones((1, *shape), np.float32)
    shuffled = heldout.reshape(n, shape[0], -1)[:, :, rng.permutation(shape[1] * shape[2])].reshape(heldout.shape)
    return {"noise": rng.random((n, *shape)).astype(np.float32), "flat colour": flat,
            "shuffled pixels": np.ascontiguousarray(shuffled)}


class _Progress:
    """Turns steps into what the page shows: the model, its epoch, the time left; checks for a cancel."""

    def __init__(self, recipe: OwnRecipe, n_train: int, report, stop: threading.Event | None):
        self.recipe, self.report, self.stop = recipe, report, stop
        self.steps_per_epoch = max(1, -(-n_train // recipe.batch_size))
        self.done_steps, self.step_seconds = 0, None
        self.started = time.monotonic()
        self.model, self.index = "", 0
        self.maps_started, self.maps_done = None, 0     # monotonic time the first map began, maps finished

    def check(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise Cancelled()

    def stage(self, stage: str, **extra) -> None:
        self.check()
        self.report({"stage": stage, "model": self.model, "model_index": self.index,
                     "n_models": len(ladder_order(self.recipe)), "seconds_left": self.seconds_left(), **extra})

    def seconds_left(self) -> float | None:
        if self.maps_started is not None:      # the steps are done: what is left is the maps (and a moment more)
            done = self.maps_done
            per_map = (time.monotonic() - self.maps_started) / done if done else None
            left = MAP_SECONDS_GUESS if per_map is None else per_map * (len(self.recipe.latent_dims) - done)
            return round(left, 0)
        if self.step_seconds is None:
            return None
        return round(self.step_seconds * (self.recipe.total_steps - self.done_steps) + MAP_SECONDS_GUESS, 0)

    def on_step(self, step: int, total: int, loss: float) -> None:
        self.done_steps += 1
        self.step_seconds = (time.monotonic() - self.started) / self.done_steps
        if step % 2 == 0 or step == total:
            self.stage("training", step=step, steps=total, epoch=-(-step // self.steps_per_epoch),
                       epochs=-(-total // self.steps_per_epoch), loss=round(loss, 2))


def build_dataset(images: np.ndarray, labels: np.ndarray | None, classes: tuple[str, ...], name: str,
                  owner_key: str, recipe: OwnRecipe = RECIPE, directory: Path | None = None,
                  report=lambda progress: None, stop: threading.Event | None = None,
                  source: dict | None = None, device: str = "cpu") -> OwnDataset:
    """Train everything on ``images`` (N, C, S, S) uint8 and publish the dataset; returns it.

    ``device``: where the networks train ("cuda" for benchmarks/gpu_check.py; PCA and UMAP run on the CPU).

    labels: (N,) int64 class indices or None. ``report(dict)`` gets the progress; setting
    ``stop`` cancels (``Cancelled``). Whatever happens before the final rename, no dataset is
    left behind. ``source``: what the card says about the upload (counts of skipped files, notes).
    """
    from threadpoolctl import threadpool_limits

    # one BLAS thread, as torch gets one: two threads against a busy server made PCA's SVD 15x slower
    with threadpool_limits(1):
        return _build_dataset(images, labels, classes, name, owner_key, recipe, directory, report, stop, source, device)


def _build_dataset(images, labels, classes, name, owner_key, recipe, directory, report, stop, source,
                   device) -> OwnDataset:
    import torch
    from safetensors.numpy import save_file

    from .metrics import sse_per_image
    from .models import ModelConfig, PCAAutoencoder, build_model
    from .projection import MapSettings, fit_coords, settings_for
    from .train import Recipe, fit_network, start_from_parent
    from .zoo import round_to_storage_precision, save_model

    name = clean_name(name)
    directory = Path(directory or data_dir())
    remove_stale_builds(directory)
    check_room(directory)
    started = time.perf_counter()
    images = np.ascontiguousarray(images, np.uint8)
    image_shape = tuple(int(v) for v in images.shape[1:])
    n = len(images)
    heldout = heldout_rows(n, recipe)
    train_rows = np.setdiff1d(np.arange(n), heldout)
    x_all = torch.from_numpy(images).float() / 255.0
    x_train, x_heldout = x_all[train_rows], x_all[heldout]
    on_device = x_train.to(device)
    progress = _Progress(recipe, len(train_rows), report, stop)
    dataset_id = new_id()
    build = build_folder(dataset_id, directory)
    try:
        save_file({"images": images, "labels": (labels if labels is not None else np.full(n, -1)).astype(np.int64),
                   "heldout": heldout}, build / IMAGES_NAME)
        training = {"n_train": len(train_rows), "n_heldout": len(heldout), "torch": torch.__version__,
                    "threads": torch.get_num_threads()}
        pca_sse, conv_sse = {}, {}
        progress.stage("PCA")
        # PCA has at most as many directions as training pictures; one fit at the largest size gives
        # every smaller one, whose directions are the first z of it
        pca_dims = [z for z in recipe.latent_dims if z < len(train_rows)]
        largest = PCAAutoencoder.fit(x_train, max(pca_dims)) if pca_dims else None
        for z in pca_dims:
            pca = PCAAutoencoder(ModelConfig("pca", z, image_shape=image_shape))
            pca.mean.copy_(largest.mean)
            pca.components.copy_(largest.components[:z])
            pca = round_to_storage_precision(pca)
            pca_sse[z] = round(sse_per_image(pca, x_heldout), 4)
            save_model(pca, f"pca_z{z}", dataset_id, "pca", {}, training,
                       {"n_images": len(heldout), "sse_per_image": pca_sse[z]}, build)

        torch.manual_seed(recipe.seed)
        trained, scaffold, directions = {}, None, None
        scaffold_dim = max(recipe.latent_dims)
        for index, (z, parent) in enumerate(ladder_order(recipe), start=1):
            progress.model = f"scaffold (conv z = {z})" if parent is None else f"conv z = {z}"
            progress.index = index
            progress.stage("training", step=0, steps=0)
            config = ModelConfig("conv", z, width=recipe.width, image_shape=image_shape)
            step_recipe = Recipe("conv", dataset_id, config, batch_size=recipe.batch_size,
                                 lr=recipe.lr if parent is None else recipe.size_lr, seed=recipe.seed,
                                 init_from={None: None, "scaffold": f"scaffold_z{scaffold_dim}"}.get(
                                     parent, f"conv_z{parent}"))
            model = build_model(config).to(device)
            if parent == "scaffold":
                start_from_parent(model, scaffold, on_device)
            elif parent is not None:
                grow_from(model, trained[parent], directions)
            steps = {None: recipe.scaffold_steps, "scaffold": recipe.smallest_steps}.get(parent, recipe.size_steps)
            # every size sees the same batches in the same order: they differ in the code size alone
            generator = torch.Generator().manual_seed(recipe.seed)
            fit_network(model, on_device, step_recipe, generator, on_step=progress.on_step, total_steps=steps)
            if parent is None:       # the scaffold is kept only as the sizes' start
                scaffold, directions = model, code_directions(model, on_device)
                continue
            model = round_to_storage_precision(model)
            trained[z] = model
            conv_sse[z] = round(sse_per_image(model, x_heldout), 4)
            metrics = {"n_images": len(heldout), "sse_per_image": conv_sse[z]}
            if z in pca_sse:
                metrics.update(pca_sse_per_image=pca_sse[z], ratio_to_pca=round(conv_sse[z] / pca_sse[z], 4))
            recipe_card = {k: v for k, v in asdict(step_recipe).items() if k not in ("config", "family", "dataset")}
            save_model(model, f"conv_z{z}", dataset_id, "conv", {**recipe_card, "steps": steps}, training, metrics,
                       build)

        maps, knn, anomaly = {}, {}, {}
        progress.model = "latent maps"
        progress.maps_started = time.monotonic()
        for z in sorted(trained):
            progress.stage("maps", latent_dim=z)
            with torch.inference_mode():
                codes = torch.cat([trained[z].encode(x_all[i:i + 500].to(device)).cpu()
                                   for i in range(0, n, 500)]).numpy()
            settings = settings_for(z, MapSettings(recipe.map_method, n_neighbors=min(recipe.umap_neighbors, n - 1),
                                                   seed=recipe.seed))
            coords = fit_coords(codes, settings)
            maps[f"codes_{z}"] = codes.astype(np.float16)
            maps[f"coords_{z}"] = coords.astype(np.float32)
            if labels is not None:
                knn[z] = round(knn_accuracy(coords, labels, heldout), 4)
            progress.maps_done += 1
        save_file(maps, build / MAPS_NAME)

        progress.model = "anomaly references"
        progress.stage("anomaly")
        others = non_members(x_heldout.numpy(), recipe.seed)
        for z, model in trained.items():
            with torch.inference_mode():
                x = x_heldout.to(device)
                member = (model.reconstruct(x) - x).pow(2).flatten(1).sum(1).double().cpu().numpy()
                category_auc = {}
                for category, pictures in others.items():
                    x = torch.from_numpy(pictures).to(device)
                    sse = (model.reconstruct(x) - x).pow(2).flatten(1).sum(1).double().cpu().numpy()
                    category_auc[category] = round(roc_auc(member, sse), 4)
            anomaly[str(z)] = {"quantiles": [round(float(q), 4) for q in np.percentile(member, QUANTILE_LEVELS)],
                               "n_images": len(heldout), "category_auc": category_auc,
                               "auc": round(float(np.mean(list(category_auc.values()))), 4)}
        default_z = max(anomaly, key=lambda z: (anomaly[z]["auc"], -int(z)))

        dims = sorted(trained)
        card = {
            "id": dataset_id, "name": name, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "image_shape": list(image_shape), "classes": list(classes), "n_images": n,
            "owner_key_sha256": key_digest(owner_key),
            "recipe": asdict(recipe), "source": source or {},
            "metrics": {
                "heldout": f"{len(heldout)} pictures ({recipe.heldout_share:.0%}, seed {recipe.seed}) never trained on",
                "sse": f"squared error summed over the {int(np.prod(image_shape)):,} values of a picture, mean over "
                       "the held-out pictures",
                "conv_sse_per_image": {str(z): conv_sse[z] for z in dims},
                "pca_sse_per_image": {str(z): pca_sse[z] for z in sorted(pca_sse)},
                "map_knn_accuracy": {str(z): knn[z] for z in sorted(knn)} or None,
                "anomaly": {"default_latent_dim": int(default_z), "by_latent_dim": anomaly},
            },
            "seconds": round(time.perf_counter() - started, 1),
        }
        progress.stage("saving")
        return publish(build, card)
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)


# ------------------------------------------------------------------------------ server side

@dataclass
class Job:
    """One teacher's training, from the queue to its end."""

    job_id: str
    name: str
    owner: str                     # the page's session id: who may cancel it
    owner_key: str                 # shown once, when the dataset is done
    recipe: str
    folder: Path                   # the job's files: the pictures in, progress out
    state: str = "waiting"         # waiting, training, finished, cancelled, failed
    dataset_id: str | None = None
    error: str = ""
    process: subprocess.Popen | None = field(default=None, repr=False)
    last_progress: dict | None = None  # the worker's last report, kept when its folder is removed


@dataclass(frozen=True)
class JobStatus:
    """What the page shows about one job."""

    state: str                     # waiting, training, finished, cancelled, failed, unknown
    place: int = 0                 # in the queue: 1 = next
    progress: dict | None = None   # the worker's last report (stage, model, step, epoch, seconds_left, ...)
    dataset_id: str | None = None
    owner_key: str | None = None   # only in the first "finished" status its owner reads
    error: str = ""


class OwnTrainer:
    """One training at a time for the whole server, the rest queued; every method is thread-safe."""

    def __init__(self, directory: Path | None = None, python: str = sys.executable, recipe: str | None = None):
        """``recipe``: "full" or "reduced", by default $AE_OWN_RECIPE or "full" (the browser test's server
        trains the reduced one)."""
        self.directory, self.python = directory, python
        self.recipe = recipe or os.environ.get("AE_OWN_RECIPE", "full")
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[Job] = deque()
        self._current: Job | None = None
        self._key_shown: set[str] = set()

    def submit(self, images: np.ndarray, labels: np.ndarray | None, classes: tuple[str, ...], name: str,
               owner: str, recipe: str | None = None, source: dict | None = None) -> str:
        """Queue a training; returns the job's id. OwnDataError when the queue or the data folder is full."""
        name = clean_name(name)
        recipe = recipe or self.recipe
        if recipe not in RECIPES:
            raise ValueError(f"unknown recipe {recipe!r}")
        check_room(self.directory)
        with self._lock:
            if len(self._queue) >= MAX_WAITING:
                raise OwnDataError("{count} trainings are already waiting on this server: try again in a few "
                                   "minutes.", count=len(self._queue))
            job = Job(new_id(), name, owner, new_owner_key(), recipe, Path(tempfile.mkdtemp(prefix="ae-demo-own-")))
            write_job(job.folder, images, labels, classes, name, job.owner_key, recipe,
                      Path(self.directory or data_dir()), source)
            self._jobs[job.job_id] = job
            self._queue.append(job)
            self._start_next()
        return job.job_id

    def status(self, job_id: str, owner: str | None = None) -> JobStatus:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return JobStatus("unknown")
            if job.state == "waiting":
                return JobStatus("waiting", place=list(self._queue).index(job) + 1)
            progress = job.last_progress or _read_json(job.folder / PROGRESS_NAME)
            if job.state == "finished":
                key = None
                if owner == job.owner and job_id not in self._key_shown:
                    key = job.owner_key
                    self._key_shown.add(job_id)
                return JobStatus("finished", progress=progress, dataset_id=job.dataset_id, owner_key=key)
            return JobStatus(job.state, progress=progress, error=job.error)

    def cancel(self, job_id: str, owner: str | None = None) -> bool:
        """Cancel a waiting or running job (only ``owner``'s, when given); True when one was cancelled."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or (owner is not None and owner != job.owner) or job.state not in ("waiting", "training"):
                return False
            if job.state == "waiting":
                self._queue.remove(job)
                job.state = "cancelled"
                shutil.rmtree(job.folder, ignore_errors=True)
                return True
            job.state = "cancelled"
            process = job.process
        try:
            process.stdin.write(b"stop\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        return True

    def close(self) -> None:
        with self._lock:
            self._queue.clear()
            if self._current is not None and self._current.process.poll() is None:
                self._current.process.kill()

    # -- under the lock ---------------------------------------------------------------

    def _start_next(self) -> None:
        if self._current is not None or not self._queue:
            return
        job = self._queue.popleft()
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        with open(job.folder / "stderr.txt", "wb") as stderr:
            # cwd: ``-m`` finds this checkout's package first, whatever else is on the path
            job.process = subprocess.Popen([self.python, "-m", "ae_demo.own_training", str(job.folder)],
                                           cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE,
                                           stdout=subprocess.DEVNULL, stderr=stderr)
        job.state = "training"
        self._current = job
        threading.Thread(target=self._wait, args=(job,), daemon=True).start()

    def _wait(self, job: Job) -> None:
        code = job.process.wait()
        with self._lock:
            result = _read_json(job.folder / "result.json")
            if job.state != "cancelled":
                if code == 0 and result and result.get("dataset_id"):
                    job.state, job.dataset_id = "finished", result["dataset_id"]
                else:
                    job.state = "failed"
                    said = (result or {}).get("message")   # an OwnDataError's template and values: translatable
                    job.error = (Message(said["template"], **said["params"]) if isinstance(said, dict) else
                                 (result or {}).get("error") or _tail(job.folder / "stderr.txt", code))
            job.last_progress = _read_json(job.folder / PROGRESS_NAME)
            # the pictures and the owner key leave the disk with the job: only the dataset is kept
            shutil.rmtree(job.folder, ignore_errors=True)
            remove_stale_builds(self.directory)   # a worker killed mid-build (a cancel it did not answer) left one
            self._current = None
            self._start_next()


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _tail(path: Path, code: int) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()[-3:]
    except OSError:
        lines = []
    return f"the training process ended with code {code}: " + " / ".join(lines)


def _write_json(path: Path, value: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value))
    tmp.replace(path)


# ------------------------------------------------------------------------------- child side

def write_job(folder: Path, images: np.ndarray, labels: np.ndarray | None, classes: tuple[str, ...], name: str,
              owner_key: str, recipe: str, directory: Path, source: dict | None = None) -> None:
    """The files ``python -m ae_demo.own_training folder`` reads: the pictures and what to do with them."""
    np.savez(folder / "pictures.npz", images=images, labels=labels if labels is not None else np.zeros(0, np.int64))
    (folder / "job.json").write_text(json.dumps(
        {"name": name, "classes": list(classes), "owner_key": owner_key, "recipe": recipe,
         "directory": str(directory), "source": source or {}}))


def run_job(folder: Path, stop: threading.Event) -> int:
    """Train the job in ``folder``; writes progress.json as it goes and result.json at the end."""
    job = json.loads((folder / "job.json").read_text())
    with np.load(folder / "pictures.npz") as stored:
        images, labels = stored["images"], stored["labels"]
    started = time.time()

    def report(progress: dict) -> None:
        _write_json(folder / PROGRESS_NAME, {**progress, "elapsed": round(time.time() - started, 1)})

    try:
        dataset = build_dataset(images, labels if labels.size else None, tuple(job["classes"]), job["name"],
                                job["owner_key"], RECIPES[job["recipe"]], Path(job["directory"]), report, stop,
                                job["source"])
    except Cancelled:
        _write_json(folder / "result.json", {"error": "cancelled"})
        return 1
    except OwnDataError as error:
        _write_json(folder / "result.json", {"error": str(error),
                                             "message": {"template": error.template, "params": error.params}})
        return 1
    _write_json(folder / "result.json", {"dataset_id": dataset.id})
    return 0


def _watch_stdin(stop: threading.Event) -> None:
    """"stop" or the end of stdin (the server is gone) sets ``stop``."""
    def watch() -> None:
        for line in sys.stdin:
            if line.strip() == "stop":
                break
        stop.set()

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ae_demo.own_training", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the job's folder (OwnTrainer writes it)")
    args = parser.parse_args(argv)
    if hasattr(os, "nice"):
        os.nice(NICE)      # before importing torch, which alone costs seconds of CPU
    import torch

    torch.set_num_threads(1)
    stop = threading.Event()
    _watch_stdin(stop)
    return run_job(args.folder, stop)


if __name__ == "__main__":
    sys.exit(main())
