"""Watch it learn: a small dense autoencoder trained live, in a process of its own.

A visitor picks a latent size (2 … 32) and presses Start; a 784-256-z-256-784 network
(``models.DenseAutoencoder``, the zoo's training loss) trains on 1,600 of the bundled
held-out images, and after every epoch the page can show the loss so far, the
reconstructions of 8 fixed images it never trains on (one of each of the classes 0 … 7) and,
for a 2-D code, the codes of 400 unseen images coloured by class. Something recognisable
comes within a few seconds on one core.

Server side, :class:`LiveTrainer` (one per server, thread-safe) runs at most one training
at a time: a second ``start`` gets a :class:`Busy` answer saying who trains and when the
server should be free. Every run stops by itself after ``EPOCHS`` epochs or ``MAX_SECONDS``
seconds, whichever comes first, so a forgotten run frees the server.

This module is the server's side. The training runs in ``ae_demo.live_child``, a worker
started and spoken to as every worker of the server (``ae_demo.workers``): it imports only
this package, torch and numpy, at low priority with torch on one thread, so visitors' strokes
keep the other core and the server's GIL. Its stdin carries the server's messages ("stop"
ends the run; the end of the stream, the server gone, ends the process); what it has trained
so far it writes after every epoch to a snapshot file (``snapshot.npz``, replaced atomically)
that ``LiveTrainer.snapshot`` reads when a page asks, however often that is.

This module imports no torch: the server side needs none.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import workers
from .datasets import DEFAULT_DATASET

LATENT_DIMS = (2, 4, 8, 16, 32)   # what the page offers; any size in MIN_LATENT … MAX_LATENT is accepted
MIN_LATENT, MAX_LATENT = 2, 32
HIDDEN = (256,)        # one hidden layer: the zoo's (512, 256) is twice as slow per epoch for little more here
BATCH_SIZE = 32        # 50 steps an epoch: the curve and pictures move often, each step a few ms on one core
LEARNING_RATE = 3e-3   # Adam, constant: measured fastest to SSE 20 at z = 32 among 1e-3 … 3e-3
EPOCHS = 40            # the budget ...
MAX_SECONDS = 120.0    # ... or this, whichever comes first (a loaded machine is slower)
N_TRAIN, N_UNSEEN = 1600, 400   # bundled held-out rows: i % 5 != 0 train, i % 5 == 0 never trained on
SHOWN_CLASSES = tuple(range(8))  # the 8 fixed images: the first unseen image of each of these classes
NICE = workers.NICENESS
STOP_WAIT_S = 5.0      # after "stop", how long the child gets to write its last snapshot before it is killed
SNAPSHOT_NAME = "snapshot.npz"


# ---------------------------------------------------------------------------- what the page sees

@dataclass(frozen=True)
class LiveRun:
    """One live training, as started."""

    run_id: int
    dataset: str
    latent_dim: int
    seed: int
    owner: str          # who started it (the page passes its session's id)
    started_at: float   # time.time()
    epochs: int         # the budget in epochs
    deadline: float     # time.time() by which it stops at the latest
    pid: int            # the training process


@dataclass(frozen=True)
class Busy:
    """The answer to a second ``start`` while a run trains: whose it is and when it should end."""

    run: LiveRun
    free_at: float      # time.time(): the estimated end, never later than run.deadline
    at_the_latest: bool  # True before the first epoch: free_at is then the deadline itself

    @property
    def seconds_left(self) -> float:
        return max(0.0, self.free_at - time.time())

    def message(self) -> str:
        """A sentence for the visitor who was turned away."""
        clock = time.strftime("%H:%M:%S", time.localtime(self.free_at))
        when = "at most" if self.at_the_latest else "about"
        return (f"Busy: someone else is training a latent size {self.run.latent_dim} model on this server. "
                f"It will be free in {when} {max(1, round(self.seconds_left))} s (at {clock}); "
                "you can watch it meanwhile.")


@dataclass(frozen=True)
class LiveSnapshot:
    """The state of the current (or last) run, as the page draws it."""

    state: str                  # "idle" (nothing yet), "starting", "training", "finished", "stopped" or "failed"
    run: LiveRun | None
    epoch: int = 0              # epochs done (0: the untrained network)
    loss_history: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    # ^ (S, 2): step, training loss (binary cross-entropy summed over 784 pixels, mean over the batch, nats)
    images: np.ndarray | None = None           # (8, 28, 28) float32 in [0, 1]: the fixed unseen images
    reconstructions: np.ndarray | None = None  # (8, 28, 28) float32 in [0, 1]: what the network makes of them now
    shown_sse: np.ndarray | None = None        # (epoch + 1,) mean SSE (784 pixels) of the 8, after each epoch
    unseen_sse: np.ndarray | None = None       # (epoch + 1,) mean SSE of all 400 unseen images, after each epoch
    epoch_times: np.ndarray | None = None      # (epoch + 1,) time.time() at the end of each epoch (0: before it)
    codes: np.ndarray | None = None            # (400, 2) float32: the unseen images' codes, for a 2-D code only
    code_labels: np.ndarray | None = None      # (400,) their classes
    error: str = ""                            # what went wrong, for "failed"

    @property
    def running(self) -> bool:
        return self.state in ("starting", "training")


# ------------------------------------------------------------------------------- server side

class LiveTrainer:
    """At most one live training at a time, for the whole server; every method is thread-safe."""

    def __init__(self, epochs: int = EPOCHS, max_seconds: float = MAX_SECONDS, python: str = sys.executable):
        self.epochs, self.max_seconds, self.python = epochs, max_seconds, python
        self._lock = threading.Lock()
        self._run: LiveRun | None = None
        self._process: subprocess.Popen | None = None
        self._folder: Path | None = None
        self._stop_asked = False
        self._cached: tuple[int, LiveSnapshot] | None = None   # (file mtime_ns, snapshot read from it)
        self._next_id = 1

    def start(self, latent_dim: int, seed: int = 0, dataset: str = DEFAULT_DATASET, owner: str = "") -> LiveRun | Busy:
        """Start a run, or say who is training and until when (``Busy``)."""
        if not MIN_LATENT <= int(latent_dim) <= MAX_LATENT:
            raise ValueError(f"latent size must be {MIN_LATENT} … {MAX_LATENT}, not {latent_dim}")
        with self._lock:
            if self._alive():
                return self._busy()
            self._clean_up()
            started = time.time()
            deadline = started + self.max_seconds
            self._folder = Path(tempfile.mkdtemp(prefix="ae-demo-live-"))
            self._stop_asked, self._cached = False, None
            with open(self._folder / "stderr.txt", "wb") as stderr:
                self._process = workers.start(
                    "ae_demo.live_child", "--dataset", dataset, "--latent-dim", str(latent_dim), "--seed", str(seed),
                    "--epochs", str(self.epochs), "--deadline", repr(deadline), "--out", str(self._folder),
                    python=self.python, stdout=subprocess.DEVNULL, stderr=stderr, one_thread=True)
            self._run = LiveRun(self._next_id, dataset, int(latent_dim), int(seed), owner, started, self.epochs,
                                deadline, self._process.pid)
            self._next_id += 1
            return self._run

    def stop(self, owner: str | None = None) -> bool:
        """Stop the running training (only ``owner``'s, when given); True if one was stopped.

        The child writes its last snapshot and ends; one that has not written any yet (still
        importing torch) has nothing to keep and is killed at once.
        """
        with self._lock:
            if not self._alive() or (owner is not None and owner != self._run.owner):
                return False
            self._stop_asked = True
            process = self._process
            if self._read_snapshot() is None:
                process.kill()
            else:
                try:
                    workers.send(process.stdin, "stop")
                except (BrokenPipeError, OSError):
                    pass    # it is ending anyway
        try:
            process.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return True

    def snapshot(self) -> LiveSnapshot:
        """The current or last run as it stands; reads the child's file only when it changed."""
        with self._lock:
            if self._run is None:
                return LiveSnapshot("idle", None)
            alive = self._alive()
            stored = self._read_snapshot()
            if alive:
                state = "training" if stored is not None else "starting"
            elif self._stop_asked:
                state = "stopped"
            elif self._process.returncode == 0 and stored is not None:
                state = "finished"
            else:
                return LiveSnapshot("failed", self._run, error=self._error_text())
            return LiveSnapshot(state, self._run) if stored is None else replace(stored, state=state)

    def close(self) -> None:
        """End any run at once and remove its files (the server is shutting down)."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.kill()
                self._process.wait()
            self._clean_up()
            self._run = None

    # -- under the lock ---------------------------------------------------------------

    def _alive(self) -> bool:
        """Is a child running? Also kills one that overran its deadline (it should stop itself)."""
        if self._process is None or self._process.poll() is not None:
            return False
        if time.time() > self._run.deadline + 30:
            self._process.kill()
            self._process.wait()
            return False
        return True

    def _busy(self) -> Busy:
        """Ends at now + the epochs left x the mean epoch time so far; before the first epoch, at the deadline."""
        stored = self._read_snapshot()
        run = self._run
        if stored is None or stored.epoch < 1:
            return Busy(run, run.deadline, at_the_latest=True)
        per_epoch = (stored.epoch_times[-1] - stored.epoch_times[0]) / stored.epoch
        return Busy(run, min(run.deadline, time.time() + (run.epochs - stored.epoch) * per_epoch), at_the_latest=False)

    def _read_snapshot(self) -> LiveSnapshot | None:
        path = self._folder / SNAPSHOT_NAME
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        if self._cached is None or self._cached[0] != mtime:
            with np.load(io.BytesIO(path.read_bytes())) as data:
                codes = data["codes"] if data["codes"].size else None
                self._cached = (mtime, LiveSnapshot(
                    str(data["state"]), self._run, int(data["epoch"]), data["loss_history"], data["images"],
                    data["reconstructions"], data["shown_sse"], data["unseen_sse"], data["epoch_times"],
                    codes, data["code_labels"] if codes is not None else None))
        return self._cached[1]

    def _error_text(self) -> str:
        tail = (self._folder / "stderr.txt").read_text(errors="replace").strip().splitlines()[-5:]
        return f"the training process ended with code {self._process.returncode}: " + " / ".join(tail)

    def _clean_up(self) -> None:
        if self._process is not None and self._process.stdin:
            self._process.stdin.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._process, self._folder = None, None
