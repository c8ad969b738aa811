"""How the server and its workers talk (ae_demo.workers): pickled messages both ways; the end of a stream is the end."""
import os
import pickle

import numpy as np

from ae_demo import workers


def test_messages_go_through_a_pipe_in_order_and_end_with_it():
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as writer:
        workers.send(writer, "stop")
        workers.send(writer, (np.arange(3, dtype=np.float32), {"n_neighbors": 5}))
    with os.fdopen(read_end, "rb") as reader:
        got = list(workers.messages(reader))
    assert got[0] == "stop" and np.array_equal(got[1][0], [0, 1, 2]) and got[1][1] == {"n_neighbors": 5}
    assert len(got) == 2


def test_a_worker_runs_this_checkouts_package_with_one_thread_when_asked(tmp_path):
    code = "import ae_demo, os, sys; print(ae_demo.__file__, os.environ.get('OMP_NUM_THREADS'))"
    process = workers.start("ae_demo.workers", python=_python_running(code, tmp_path), one_thread=True)
    out, _ = process.communicate(timeout=60)
    path, threads = out.decode().split()
    assert path.startswith(str(workers.IMPORT_ROOT / "ae_demo")) and threads == "1"


def _python_running(code: str, folder) -> str:
    """A stand-in interpreter that ignores ``-m module`` and runs ``code``: what the worker's environment is."""
    import sys

    script = folder / "python.sh"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -c "{code}"\n')
    script.chmod(0o755)
    return str(script)


def test_the_server_follows_a_child_s_messages_as_they_come_until_it_is_gone():
    read_end, write_end = os.pipe()
    reader = os.fdopen(read_end, "rb")
    got = []
    thread = workers.follow(reader, got.append)
    with os.fdopen(write_end, "wb") as writer:
        for epoch in range(3):
            workers.send(writer, {"epoch": epoch, "codes": np.full((2, 2), epoch, np.float32)})
    thread.join(10)
    assert not thread.is_alive() and reader.closed                     # the child gone: the thread ends
    assert [m["epoch"] for m in got] == [0, 1, 2] and np.array_equal(got[-1]["codes"], np.full((2, 2), 2))


def test_a_child_killed_in_the_middle_of_a_message_ends_the_following_quietly():
    read_end, write_end = os.pipe()
    reader = os.fdopen(read_end, "rb")
    got = []
    with os.fdopen(write_end, "wb") as writer:
        workers.send(writer, "whole")
        writer.write(pickle.dumps(np.zeros(1000))[:100])             # half a message, then the end
    thread = workers.follow(reader, got.append)
    thread.join(10)
    assert not thread.is_alive() and got == ["whole"]
