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
ends the run; the end of the stream, the server gone, ends the process); its stdout carries
the child's: what it has trained so far, sent before the first epoch and after every epoch.
A thread of the server takes them as they come and keeps the latest in memory, which
``LiveTrainer.snapshot`` returns when a page asks, however often that is.

This module imports no torch: the server side needs none.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from . import workers
from .datasets import DEFAULT_DATASET
from .messages import Message

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
STOP_WAIT_S = 5.0      # after "stop", how long the child gets to send its last snapshot before it is killed
ERROR_LINES = 5        # the last lines of a failed child's stderr that its error message quotes


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

    def message(self) -> Message:
        """A sentence for the visitor who was turned away."""
        clock = time.strftime("%H:%M:%S", time.localtime(self.free_at))
        seconds = max(1, round(self.seconds_left))
        if self.at_the_latest:
            return Message("Busy: someone else is training a latent size {latent_dim} model on this server. It will "
                           "be free in at most {seconds} s (at {clock}); you can watch it meanwhile.",
                           latent_dim=self.run.latent_dim, seconds=seconds, clock=clock)
        return Message("Busy: someone else is training a latent size {latent_dim} model on this server. It will be "
                       "free in about {seconds} s (at {clock}); you can watch it meanwhile.",
                       latent_dim=self.run.latent_dim, seconds=seconds, clock=clock)


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

class _Child:
    """One training process and what it has said so far: its latest snapshot and the end of its stderr,
    each taken by a thread of its own as it comes, so that neither pipe fills and stalls the child."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self._lock = threading.Lock()
        self._latest: dict | None = None
        self._stderr_tail: deque[str] = deque(maxlen=ERROR_LINES)
        self._readers = [workers.follow(process.stdout, self._keep),
                         threading.Thread(target=self._tail, args=(process.stderr,), daemon=True)]
        self._readers[1].start()

    def _keep(self, fields: dict) -> None:
        with self._lock:
            self._latest = fields

    def _tail(self, stream) -> None:
        with stream:
            for line in stream:
                self._stderr_tail.append(line.decode(errors="replace").strip())

    def latest(self) -> dict | None:
        """The fields of the last snapshot it sent (see ``live_child.train_live``), None before the first."""
        with self._lock:
            return self._latest

    def ended(self) -> None:
        """The process is gone: wait until every message and line it wrote has been taken."""
        for reader in self._readers:
            reader.join(STOP_WAIT_S)

    def error_lines(self) -> list[str]:
        return [line for line in self._stderr_tail if line]


class LiveTrainer:
    """At most one live training at a time, for the whole server; every method is thread-safe."""

    def __init__(self, epochs: int = EPOCHS, max_seconds: float = MAX_SECONDS, python: str = sys.executable):
        self.epochs, self.max_seconds, self.python = epochs, max_seconds, python
        self._lock = threading.Lock()
        self._run: LiveRun | None = None
        self._child: _Child | None = None
        self._stop_asked = False
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
            self._stop_asked = False
            process = workers.start(
                "ae_demo.live_child", "--dataset", dataset, "--latent-dim", str(latent_dim), "--seed", str(seed),
                "--epochs", str(self.epochs), "--deadline", repr(deadline),
                python=self.python, stdout=subprocess.PIPE, stderr=subprocess.PIPE, one_thread=True)
            self._child = _Child(process)
            self._run = LiveRun(self._next_id, dataset, int(latent_dim), int(seed), owner, started, self.epochs,
                                deadline, process.pid)
            self._next_id += 1
            return self._run

    def stop(self, owner: str | None = None) -> bool:
        """Stop the running training (only ``owner``'s, when given); True if one was stopped.

        The child sends its last snapshot and ends; one that has not sent any yet (still
        importing torch) has nothing to keep and is killed at once.
        """
        with self._lock:
            if not self._alive() or (owner is not None and owner != self._run.owner):
                return False
            self._stop_asked = True
            process = self._child.process
            if self._child.latest() is None:
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
        """The current or last run as it stands: the latest snapshot its child sent."""
        with self._lock:
            if self._run is None:
                return LiveSnapshot("idle", None)
            alive = self._alive()
            if not alive:
                self._child.ended()
            stored = self._latest_snapshot()
            if alive:
                state = "training" if stored is not None else "starting"
            elif self._stop_asked:
                state = "stopped"
            elif self._child.process.returncode == 0 and stored is not None:
                state = "finished"
            else:
                return LiveSnapshot("failed", self._run, error=self._error_text())
            return LiveSnapshot(state, self._run) if stored is None else replace(stored, state=state)

    def close(self) -> None:
        """End any run at once (the server is shutting down)."""
        with self._lock:
            if self._child is not None and self._child.process.poll() is None:
                self._child.process.kill()
                self._child.process.wait()
            self._clean_up()
            self._run = None

    # -- under the lock ---------------------------------------------------------------

    def _alive(self) -> bool:
        """Is a child running? Also kills one that overran its deadline (it should stop itself)."""
        if self._child is None or self._child.process.poll() is not None:
            return False
        if time.time() > self._run.deadline + 30:
            self._child.process.kill()
            self._child.process.wait()
            return False
        return True

    def _busy(self) -> Busy:
        """Ends at now + the epochs left x the mean epoch time so far; before the first epoch, at the deadline."""
        stored = self._latest_snapshot()
        run = self._run
        if stored is None or stored.epoch < 1:
            return Busy(run, run.deadline, at_the_latest=True)
        per_epoch = (stored.epoch_times[-1] - stored.epoch_times[0]) / stored.epoch
        return Busy(run, min(run.deadline, time.time() + (run.epochs - stored.epoch) * per_epoch), at_the_latest=False)

    def _latest_snapshot(self) -> LiveSnapshot | None:
        fields = self._child.latest()
        if fields is None:
            return None
        codes = fields["codes"] if fields["codes"].size else None
        return LiveSnapshot(
            fields["state"], self._run, int(fields["epoch"]), fields["loss_history"], fields["images"],
            fields["reconstructions"], fields["shown_sse"], fields["unseen_sse"], fields["epoch_times"],
            codes, fields["code_labels"] if codes is not None else None)

    def _error_text(self) -> str:
        return (f"the training process ended with code {self._child.process.returncode}: "
                + " / ".join(self._child.error_lines()))

    def _clean_up(self) -> None:
        if self._child is not None and self._child.process.stdin:
            self._child.process.stdin.close()
        self._child = None
