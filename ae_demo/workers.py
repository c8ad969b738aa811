"""Worker processes: how the server starts a child and talks to it, and how the child behaves, in one place.

Both workers of the server, the UMAP map fitter (``map_fitter``) and the live training
(``live_training``'s child, ``live_child``), are started the same way and speak the same way:

- ``start``: ``python -m <module>`` of this checkout (so it imports this package, never the
  server's ``__main__``, which under ``streamlit run`` is the page script), with its working
  directory and ``PYTHONPATH`` at the checkout (and, for a torch child, one thread for OpenMP and MKL);
- the server writes pickled messages to the child's stdin (``send``), the child reads them
  (``messages``) and may answer with pickled messages on its stdout (``replies_channel``): the
  map fitter one reply per request, which the server waits for (``receive``), the live training a
  snapshot after every epoch, which a server thread takes as they come (``follow``); the end of
  the child's stdin means the server is gone, the end of its stdout that the child is;
- the child lowers its priority before any heavy import (``lower_priority``) and leaves as soon
  as the server is gone (``exit_with_parent``).

This module imports nothing heavy: the server's side needs no torch, and neither does a child
before it has lowered its priority.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

IMPORT_ROOT = Path(__file__).resolve().parents[1]  # the checkout ``ae_demo`` imports from, installed or not
NICENESS = 10  # a worker's priority below the server's: strokes and pages come first, a worker gets an idle core


def start(module: str, *args: str, python: str = sys.executable, stdout: Any = subprocess.PIPE,
          stderr: Any = None, one_thread: bool = False) -> subprocess.Popen:
    """Start ``python -m module args…`` as a worker of this checkout; its stdin is the server's pipe to it.
    ``one_thread``: OpenMP and MKL on one thread (a torch child: the server's other core stays free)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(IMPORT_ROOT), os.environ.get("PYTHONPATH")]))}
    if one_thread:
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.Popen([python, "-m", module, *args], stdin=subprocess.PIPE, stdout=stdout, stderr=stderr,
                            env=env, cwd=IMPORT_ROOT)


def send(stream: BinaryIO, message: Any) -> None:
    """Write one pickled message (server to child on its stdin, or child to server on its stdout)."""
    pickle.dump(message, stream)
    stream.flush()


def receive(stream: BinaryIO) -> Any:
    """Read one pickled message; EOFError when the other side is gone."""
    return pickle.load(stream)


def messages(stream: BinaryIO) -> Iterator[Any]:
    """The messages on ``stream`` until it ends (in a child: until the server is gone)."""
    while True:
        try:
            yield receive(stream)
        except EOFError:
            return


def follow(stream: BinaryIO, on_message: Callable[[Any], None]) -> threading.Thread:
    """In the server: call ``on_message`` with each message on ``stream`` (a child's stdout), in order, on a
    daemon thread of its own, until the child is gone; then close ``stream``. Join the thread to be sure
    every message the child sent has been handled."""

    def read() -> None:
        with stream:
            try:
                for message in messages(stream):
                    on_message(message)
            except pickle.UnpicklingError:
                pass    # the child was killed in the middle of a message: it is gone all the same

    thread = threading.Thread(target=read, daemon=True, name="worker-messages")
    thread.start()
    return thread


def server_messages() -> Iterator[Any]:
    """In a child: the server's messages on its stdin, until the server is gone. Read unbuffered, so that a
    daemon thread may wait on them while the process ends (a buffered stdin's lock aborts the interpreter's
    shutdown)."""
    return messages(os.fdopen(os.dup(sys.stdin.fileno()), "rb", buffering=0))


def lower_priority(niceness: int = NICENESS) -> None:
    """In a child, first thing: its work (an import of torch or umap alone costs seconds) yields to the server."""
    if hasattr(os, "nice"):
        os.nice(niceness)


def exit_with_parent(poll_s: float = 1.0) -> None:
    """In a child: end this process as soon as the server that started it is gone, whatever it is doing."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(poll_s)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def replies_channel() -> BinaryIO:
    """In a child that answers on its stdout: that stream for pickled replies, with anything else printed
    (a library's warnings) sent to stderr, so that it cannot corrupt the replies."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return replies
