"""Fitting recomputed UMAP maps in one warm worker process of its own, at low priority.

    python -m ae_demo.map_fitter [--warm-up]     # the worker; MapFitter starts it

``import umap`` and numba's compiling take half a minute to a minute of mostly-Python work
on the first fit. In the server's own process that would hold the GIL and stall every page
it serves; in a worker it holds only the worker's, and once warm a 5,000-point fit takes
seconds. The worker is started as its own module (``python -m``), so it imports numpy, umap
and ``ae_demo.projection`` and nothing else: no torch, no models, and never the page script
(multiprocessing's "spawn" re-runs the parent's ``__main__``, which under ``streamlit run``
is ``app.py`` itself). One worker per server: fits queue rather than share two cores.

Protocol: pickled ``(codes, settings)`` requests on the worker's stdin, pickled
``("ok", coords)`` or ``("error", message)`` replies on its stdout. The worker exits when
its stdin closes, i.e. when the server that started it is gone.
"""
from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .projection import MapSettings, fit_coords, warm_up

WORKER_NICENESS = 10  # the server and the browser come first; a recompute still gets an idle core
_IMPORT_ROOT = Path(__file__).resolve().parents[1]  # where `ae_demo` imports from, installed or not


class MapFitterError(RuntimeError):
    """The worker could not fit the map; the message says why."""


class MapFitter:
    """Fits UMAP maps in the worker process; PCA and 2-D maps are fitted in place (they are quick).

    ``warm_up``: the worker compiles UMAP with a tiny fit as soon as it starts, so a visitor's
    first recompute does not wait for numba. Thread-safe: sessions' fits run one at a time.
    """

    def __init__(self, warm_up: bool = True):
        self._warm_up = warm_up
        self._lock = threading.Lock()
        self._process = self._start()

    def _start(self) -> subprocess.Popen:
        command = [sys.executable, "-m", "ae_demo.map_fitter", *(["--warm-up"] if self._warm_up else [])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_IMPORT_ROOT),
                                                                         os.environ.get("PYTHONPATH")]))}
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=_IMPORT_ROOT)

    @property
    def pid(self) -> int:
        return self._process.pid

    def fit(self, codes: np.ndarray, settings: MapSettings) -> np.ndarray:
        """(N, latent_dim) -> (N, 2) float32, as ``projection.fit_coords``; blocks until done.

        A worker that died (killed, out of memory) is started again once for this fit.
        """
        if settings.method != "umap":
            return fit_coords(codes, settings)
        with self._lock:
            for attempt in range(2):
                try:
                    pickle.dump((np.asarray(codes, np.float32), settings), self._process.stdin)
                    self._process.stdin.flush()
                    status, value = pickle.load(self._process.stdout)
                    break
                except (BrokenPipeError, EOFError, OSError):
                    if attempt:
                        raise MapFitterError("the map fitting process stopped twice; see the server's log") from None
                    self._process.kill()
                    self._process = self._start()
        if status != "ok":
            raise MapFitterError(value)
        return value

    def close(self) -> None:
        """Stop the worker (it also stops by itself when this process exits)."""
        with self._lock:
            if self._process.poll() is None:
                self._process.stdin.close()
                try:
                    self._process.wait(5)
                except subprocess.TimeoutExpired:
                    self._process.kill()


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Answer fit requests until ``requests`` ends. A failed fit is a reply, not the worker's end."""
    while True:
        try:
            codes, settings = pickle.load(requests)
        except EOFError:
            return
        try:
            reply = ("ok", fit_coords(codes, settings))
        except Exception as error:  # a bad setting for this data (e.g. n_neighbors > N): tell the caller
            reply = ("error", f"{type(error).__name__}: {error}")
        pickle.dump(reply, replies)
        replies.flush()


def _watch_parent() -> None:
    """Exit as soon as the server that started this worker is gone, even in the middle of a warm-up."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ae_demo.map_fitter", description=__doc__.splitlines()[0])
    parser.add_argument("--warm-up", action="store_true", help="compile UMAP with a tiny fit before serving")
    args = parser.parse_args(argv)
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)
    _watch_parent()
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print (numba, umap) goes to the log, not the replies
    if args.warm_up:
        warm_up()
    serve(sys.stdin.buffer, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
