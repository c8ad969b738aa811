"""Watch it learn: the training itself in this process, then the server side with its child process."""
import os
import threading
import time

import numpy as np
import pytest

from ae_demo.live_child import train_live
from ae_demo.live_training import NICE, N_UNSEEN, Busy, LiveRun, LiveTrainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _train(latent_dim=8, epochs=4, deadline=None, should_stop=lambda: False):
    reports = []
    state = train_live("mnist", latent_dim, seed=0, epochs=epochs, deadline=deadline or time.time() + 300,
                       report=reports.append, should_stop=should_stop)
    return state, reports


def test_a_few_hundred_steps_lower_the_loss_and_sharpen_the_eight_pictures():
    state, reports = _train(epochs=4)                        # 4 x 50 steps
    assert state == "finished" and [r["epoch"] for r in reports] == [0, 1, 2, 3, 4]
    last = reports[-1]
    steps, losses = last["loss_history"].T
    assert steps.tolist() == list(range(1, 201))
    assert losses[-50:].mean() < 0.8 * losses[:50].mean()
    assert last["shown_sse"].shape == (5,) and last["shown_sse"][-1] < 0.6 * last["shown_sse"][0]
    assert last["images"].shape == last["reconstructions"].shape == (8, 28, 28)
    assert np.array_equal(reports[0]["images"], last["images"])    # the same 8 fixed images throughout
    assert last["codes"].shape == (0, 2)                            # codes only for a 2-D code


def test_a_two_dimensional_code_gives_the_map_of_the_unseen_images():
    _, reports = _train(latent_dim=2, epochs=1)
    assert reports[-1]["codes"].shape == (N_UNSEEN, 2) and reports[-1]["code_labels"].shape == (N_UNSEEN,)
    assert set(reports[-1]["code_labels"].tolist()) == set(range(10))
    assert not np.allclose(reports[0]["codes"], reports[-1]["codes"])   # the map moves as it learns


def test_training_stops_when_asked_and_at_its_deadline():
    calls = []
    state, reports = _train(epochs=40, should_stop=lambda: calls.append(1) or len(calls) > 60)
    assert state == "stopped" and reports[-1]["state"] == "stopped" and reports[-1]["epoch"] == 1
    state, reports = _train(epochs=40, deadline=time.time())      # already due: one epoch, then done
    assert state == "finished" and reports[-1]["epoch"] == 1 and reports[-1]["state"] == "finished"


def test_a_latent_size_outside_two_to_thirty_two_is_refused():
    with pytest.raises(ValueError, match="2 … 32"):
        LiveTrainer().start(64)


def test_a_child_that_fails_is_reported_with_its_message(tmp_path):
    trainer = LiveTrainer(python="/bin/false")
    trainer.start(8)
    deadline = time.time() + 10
    while trainer.snapshot().running and time.time() < deadline:
        time.sleep(0.05)
    snapshot = trainer.snapshot()
    assert snapshot.state == "failed" and "ended with code 1" in snapshot.error
    trainer.close()
    assert trainer.snapshot().state == "idle"


def test_a_second_start_while_one_trains_gets_the_busy_answer_with_a_time():
    trainer = LiveTrainer()
    try:
        run = trainer.start(32, owner="teacher")
        busy = trainer.start(2, owner="pupil")
        assert isinstance(busy, Busy) and busy.run == run and busy.at_the_latest  # no epoch done yet
        assert busy.free_at == run.deadline and 0 < busy.seconds_left <= trainer.max_seconds
        assert time.strftime("%H:%M:%S", time.localtime(run.deadline)) in busy.message()
        assert trainer.stop() and trainer.snapshot().state == "stopped"
    finally:
        trainer.close()


def test_visitors_pressing_start_at_once_get_one_run_between_them():
    trainer = LiveTrainer()
    barrier = threading.Barrier(8)
    answers = []

    def press(owner: str) -> None:
        barrier.wait()
        answers.append(trainer.start(8, owner=owner))

    threads = [threading.Thread(target=press, args=(f"visitor {i}",)) for i in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        runs = [a for a in answers if isinstance(a, LiveRun)]
        assert len(runs) == 1 and all(isinstance(a, Busy) and a.run == runs[0] for a in answers if a is not runs[0])
    finally:
        trainer.close()


def _wait_for(trainer, condition, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        snapshot = trainer.snapshot()
        if condition(snapshot):
            return snapshot
        time.sleep(0.1)
    raise AssertionError(f"timed out; last state {trainer.snapshot().state}")


@pytest.mark.slow
def test_one_run_at_a_time_the_second_visitor_is_told_when_it_will_be_free_and_stop_works():
    trainer = LiveTrainer(epochs=40)
    try:
        run = trainer.start(16, seed=1, owner="teacher")
        assert isinstance(run, LiveRun) and run.owner == "teacher"
        busy = trainer.start(8, owner="pupil")
        assert isinstance(busy, Busy) and busy.run == run
        assert time.time() < busy.free_at <= run.deadline and "free in" in busy.message()
        _wait_for(trainer, lambda s: s.epoch >= 2)
        later = trainer.start(8, owner="pupil")
        assert isinstance(later, Busy) and not later.at_the_latest and later.free_at < run.deadline
        assert os.getpriority(os.PRIO_PROCESS, run.pid) >= os.getpriority(os.PRIO_PROCESS, 0) + NICE - 1
        with open(f"/proc/{run.pid}/cmdline", "rb") as cmdline:
            assert b"\0-m\0ae_demo.live_child\0" in cmdline.read()
        assert not trainer.stop(owner="pupil")                    # only the owner (or the server) stops it
        assert trainer.stop(owner="teacher")
        stopped = trainer.snapshot()
        assert stopped.state == "stopped" and stopped.epoch < 40 and stopped.reconstructions.shape == (8, 28, 28)
        second = trainer.start(8, owner="pupil")                  # free again at once
        assert isinstance(second, LiveRun) and second.run_id == run.run_id + 1
    finally:
        trainer.close()


@pytest.mark.slow
def test_a_live_run_trains_in_its_child_and_stops_by_itself():
    trainer = LiveTrainer(epochs=6)
    try:
        run = trainer.start(2, seed=0)
        snapshot = _wait_for(trainer, lambda s: not s.running)
        assert snapshot.state == "finished" and snapshot.epoch == 6 and snapshot.run == run
        steps, losses = snapshot.loss_history.T
        assert len(steps) == 300 and losses[-50:].mean() < 0.8 * losses[:50].mean()
        assert snapshot.shown_sse[-1] < snapshot.shown_sse[0] and snapshot.unseen_sse.shape == (7,)
        assert snapshot.codes.shape == (N_UNSEEN, 2) and snapshot.code_labels.shape == (N_UNSEEN,)
        assert (snapshot.epoch_times[-1] - run.started_at) < 60
    finally:
        trainer.close()
