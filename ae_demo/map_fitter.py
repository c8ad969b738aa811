"""Fitting recomputed UMAP maps in one warm worker process of its own, at low priority.

    python -m ae_demo.map_fitter [--warm-up]     # the worker; MapFitter starts it

``import umap`` and numba's compiling take half a minute to a minute of mostly-Python work
on the first fit. In the server's own process that would hold the GIL and stall every page
it serves; in a worker it holds only the worker's, and once warm a 5,000-point fit takes
seconds. The worker is started as its own module (``python -m``), so it imports numpy, umap
and ``ae_demo.projection`` and nothing else: no torch, no models, and never the page script
(multiprocessing's "spawn" re-runs the parent's ``__main__``, which under ``streamlit run``
is ``app.py`` itself). One worker per server: fits queue rather than share two cores.

Protocol (``ae_demo.workers``, as every worker of the server): pickled ``(codes, settings)``
requests on the worker's stdin, pickled ``("ok", coords)`` or ``("error", message)`` replies on
its stdout. The worker exits when its stdin closes, i.e. when the server that started it is gone.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from typing import BinaryIO

import numpy as np

from . import workers
from .projection import MapSettings, fit_coords, warm_up


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
        return workers.start("ae_demo.map_fitter", *(["--warm-up"] if self._warm_up else []))

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
                    workers.send(self._process.stdin, (np.asarray(codes, np.float32), settings))
                    status, value = workers.receive(self._process.stdout)
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
    for codes, settings in workers.messages(requests):
        try:
            reply = ("ok", fit_coords(codes, settings))
        except Exception as error:  # a bad setting for this data (e.g. n_neighbors > N): tell the caller
            reply = ("error", f"{type(error).__name__}: {error}")
        workers.send(replies, reply)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ae_demo.map_fitter", description=__doc__.splitlines()[0])
    parser.add_argument("--warm-up", action="store_true", help="compile UMAP with a tiny fit before serving")
    args = parser.parse_args(argv)
    workers.lower_priority()
    workers.exit_with_parent()  # even in the middle of a warm-up
    replies = workers.replies_channel()  # a stray print (numba, umap) goes to the log, not the replies
    if args.warm_up:
        warm_up()
    serve(sys.stdin.buffer, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
