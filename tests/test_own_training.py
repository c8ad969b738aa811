"""A teacher's own pictures trained into a dataset: what is kept, checked, refused, cancelled and listed."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

from ae_demo import own_data, own_training
from ae_demo.data import REPO_ROOT
from ae_demo.own_data import OwnDataError, delete_dataset, list_datasets, open_dataset
from ae_demo.own_training import REDUCED, Cancelled, OwnTrainer, build_dataset, heldout_rows, ladder_order

TINY = own_training.OwnRecipe(latent_dims=(2, 8), headline=8, width=4, batch_size=16, scaffold_steps=6,
                              smallest_steps=3, size_steps=3, map_method="pca")


def coloured_squares(n: int, side: int = 28, channels: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, C, S, S) uint8: a bright square in the channel of its class (0, 1, 2) on dark noise; (n,) labels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    images = rng.integers(0, 50, (n, channels, side, side)).astype(np.uint8)
    for i, label in enumerate(labels):
        r, c = rng.integers(0, side // 2, 2)
        images[i, label % channels, r:r + side // 2, c:c + side // 2] = 230
    return images, labels.astype(np.int64)


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    folder = tmp_path / "datasets"
    monkeypatch.setenv("AE_DATA_DIR", str(folder))
    return folder


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    yield


def test_the_data_folder_is_ae_data_dir_or_a_documented_default(monkeypatch, tmp_path):
    monkeypatch.setenv("AE_DATA_DIR", str(tmp_path))
    assert own_data.data_dir() == tmp_path
    monkeypatch.delenv("AE_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert own_data.data_dir() == tmp_path / "xdg" / "autoencoder-lab" / "datasets"


class TestBuild:
    def test_colour_with_classes(self, data_folder):
        images, labels = coloured_squares(60)
        seen = []
        dataset = build_dataset(images, labels, ("a", "b", "c"), "  Squares\n", "the-key", TINY, report=seen.append)
        assert dataset.folder == data_folder / dataset.id and own_data.ID_PATTERN.match(dataset.id)
        assert dataset.name == "Squares" and dataset.image_shape == (3, 28, 28) and dataset.classes == ("a", "b", "c")
        card = open_dataset(dataset.id).card          # every file checked against its sha256
        metrics = card["metrics"]
        assert set(metrics["conv_sse_per_image"]) == set(metrics["pca_sse_per_image"]) == {"2", "8"}
        assert set(metrics["map_knn_accuracy"]) == {"2", "8"}
        assert all(0 <= a <= 1 for a in metrics["map_knn_accuracy"].values())
        assert metrics["anomaly"]["default_latent_dim"] in (2, 8)
        assert len(metrics["anomaly"]["by_latent_dim"]["8"]["quantiles"]) == 101
        assert card["n_images"] == 60 and "the-key" not in json.dumps(card)
        assert set(card["files"]) >= {"images.safetensors", "maps.safetensors", "manifest.json"}
        conv = dataset.load_model("conv", 8)
        assert conv.reconstruct(torch.rand(2, 3, 28, 28)).shape == (2, 3, 28, 28)
        arrays = dataset.load_arrays()
        assert np.array_equal(arrays["images"], images) and np.array_equal(arrays["heldout"], heldout_rows(60, TINY))
        assert dataset.load_maps()[2]["coords"].shape == (60, 2)
        stages = {p["stage"] for p in seen}
        assert {"PCA", "training", "maps", "anomaly", "saving"} <= stages
        steps = [p for p in seen if p["stage"] == "training" and p.get("steps")]
        assert steps[-1]["seconds_left"] is not None and steps[-1]["epoch"] >= 1

    def test_grey_without_classes(self, data_folder):
        images, _ = coloured_squares(55, channels=1, side=32)
        dataset = build_dataset(images, None, (), "grey", "k", TINY)
        assert dataset.image_shape == (1, 32, 32) and dataset.classes == ()
        assert dataset.card["metrics"]["map_knn_accuracy"] is None
        assert (dataset.load_arrays()["labels"] == -1).all()

    def test_a_crash_halfway_leaves_no_dataset(self, data_folder):
        images, labels = coloured_squares(60)

        def crash(progress):
            if progress["stage"] == "maps":
                raise RuntimeError("killed")

        with pytest.raises(RuntimeError):
            build_dataset(images, labels, ("a", "b", "c"), "x", "k", TINY, report=crash)
        assert list(data_folder.iterdir()) == [] and list_datasets() == []

    def test_a_cancel_leaves_no_dataset(self, data_folder):
        stop = threading.Event()

        def cancel_at_training(progress):
            if progress["stage"] == "training":
                stop.set()

        with pytest.raises(Cancelled):
            build_dataset(*coloured_squares(60), ("a", "b", "c"), "x", "k", TINY, report=cancel_at_training, stop=stop)
        assert list(data_folder.iterdir()) == []


def _fill_to_the_limit(built, data_folder) -> None:
    """19 copies of ``built``'s card beside it: the data folder then holds its 20 datasets."""
    card = json.loads((built.folder / "card.json").read_text())
    for i in range(19):
        copy = data_folder / f"copy{i:012d}"
        copy.mkdir()
        (copy / "card.json").write_text(json.dumps({**card, "id": copy.name}))


class TestKept:
    @pytest.fixture
    def built(self, data_folder):
        return build_dataset(*coloured_squares(60), ("a", "b", "c"), "kept", "owner", TINY)

    def test_a_restart_finds_it_and_an_altered_file_is_named(self, built):
        assert [d.id for d in list_datasets()] == [built.id]      # read from disk alone
        model_file = next(built.folder.glob("conv_z8-*.safetensors"))
        model_file.write_bytes(model_file.read_bytes()[:-1] + b"\x00")
        with pytest.raises(OwnDataError, match=f"altered: {model_file.name}"):
            open_dataset(built.id)

    def test_deleting_needs_the_owner_key(self, built):
        with pytest.raises(OwnDataError, match="not this dataset's owner key"):
            delete_dataset(built.id, "guess")
        delete_dataset(built.id, "owner")
        assert list_datasets() == [] and not built.folder.exists()
        with pytest.raises(OwnDataError, match="no dataset"):
            open_dataset(built.id)

    def test_a_killed_worker_s_build_is_cleared(self, built, data_folder):
        stale = data_folder / f"{own_data.BUILD_PREFIX}abc-{2 ** 22 + 12345}"   # a pid that does not run
        (stale / "sub").mkdir(parents=True)
        assert [d.id for d in list_datasets()] == [built.id]
        assert own_data.remove_stale_builds() == [stale] and not stale.exists()

    def test_at_most_twenty(self, built, data_folder, monkeypatch):
        _fill_to_the_limit(built, data_folder)
        with pytest.raises(OwnDataError, match="already keeps 20 datasets"):
            build_dataset(*coloured_squares(60), (), "one too many", "k", TINY)

    def test_a_workers_refusal_keeps_its_template_for_the_page(self, built, data_folder, tmp_path):
        """The worker's OwnDataError reaches the page as a Message (template and values), so it is translated."""
        import threading

        from ae_demo.messages import Message

        _fill_to_the_limit(built, data_folder)
        job = tmp_path / "job"
        job.mkdir()
        own_training.write_job(job, *coloured_squares(60), ("a", "b", "c"), "one too many", "k", "full", data_folder)
        assert own_training.run_job(job, threading.Event()) == 1
        said = own_training._read_json(job / "result.json")["message"]
        refused = Message(said["template"], **said["params"])
        assert refused.startswith("This server already keeps 20 datasets") and refused.params["most"] == 20

    @pytest.mark.parametrize("bad", ["../etc", "short", "x" * 16 + "/", ""])
    def test_an_id_that_is_no_id(self, bad, data_folder):
        with pytest.raises(OwnDataError, match="not a dataset id"):
            open_dataset(bad)


def test_ladder_order_is_the_scaffold_then_the_smallest_then_each_size_from_its_neighbour():
    assert ladder_order(own_training.RECIPE) == [(64, None), (2, "scaffold"), (4, 2), (8, 4), (16, 8), (32, 16),
                                                 (64, 32)]
    assert ladder_order(REDUCED) == [(32, None), (2, "scaffold"), (8, 2), (32, 8)]
    assert own_training.RECIPE.total_steps == 400 + 120 + 5 * 72
    assert own_training.RECIPE.steps_of(2) == 520 and own_training.RECIPE.steps_of(32) == 520 + 4 * 72


def test_a_grown_size_starts_as_exactly_its_neighbour_with_the_scaffold_s_next_directions():
    from ae_demo.models import ModelConfig, build_model
    from ae_demo.train import start_from_parent

    torch.manual_seed(0)
    images = torch.rand(40, 3, 32, 32)
    scaffold = build_model(ModelConfig("conv", 8, width=4, image_shape=(3, 32, 32))).eval()
    weights, biases = directions = own_training.code_directions(scaffold, images)
    assert weights.shape == (8, scaffold.body.features) and biases.shape == (8,)
    with torch.no_grad():
        along = scaffold.body.down(images) @ weights.T + biases          # the centred code along each direction
    assert along.mean(0).abs().max() < 1e-4
    assert torch.all(along.var(0)[:-1] >= along.var(0)[1:])          # largest variance first
    small = build_model(ModelConfig("conv", 2, width=4, image_shape=(3, 32, 32)))
    start_from_parent(small, scaffold, images)
    assert torch.allclose(small.to_code.weight, weights[:2], atol=1e-5)   # the top directions, as grow_from's next
    grown = build_model(ModelConfig("conv", 4, width=4, image_shape=(3, 32, 32)))
    own_training.grow_from(grown, small.eval(), directions)
    with torch.no_grad():
        assert torch.equal(grown.eval().reconstruct(images), small.reconstruct(images))   # exactly its neighbour
        assert torch.equal(grown.to_code.weight[2:], weights[2:4])
        assert torch.equal(grown.encode(images)[:, :2], small.encode(images))
    with pytest.raises(ValueError, match="cannot grow"):
        own_training.grow_from(small, grown, directions)


@pytest.mark.slow   # a process of its own that imports torch, then trains until it is killed
def test_a_worker_killed_halfway_leaves_no_dataset_and_a_restart_finds_the_finished_ones(data_folder, tmp_path):
    finished = build_dataset(*coloured_squares(60), ("a", "b", "c"), "finished", "k", TINY)
    job = tmp_path / "job"
    job.mkdir()
    own_training.write_job(job, *coloured_squares(60, seed=1), ("a", "b", "c"), "killed", "k2", "full", data_folder)
    worker = subprocess.Popen([sys.executable, "-m", "ae_demo.own_training", str(job)], cwd=REPO_ROOT,
                              stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 180
        while (own_training._read_json(job / own_training.PROGRESS_NAME) or {}).get("stage") != "training":
            assert worker.poll() is None, worker.stderr.read().decode()
            assert time.time() < deadline
            time.sleep(0.2)
        builds = list(data_folder.glob(own_data.BUILD_PREFIX + "*"))
        assert len(builds) == 1 and any(builds[0].iterdir())        # half written: the pictures, PCA
    finally:
        worker.kill()       # as a crash or the server's end would: nothing of the worker's own runs after it
        worker.wait()
    # a restart reads the disk alone: the finished dataset opens, the half-written one is no dataset
    assert [d.id for d in list_datasets()] == [finished.id]
    open_dataset(finished.id)
    assert own_data.remove_stale_builds() == builds and not builds[0].exists()    # the next training's first step
    assert [p.name for p in data_folder.iterdir()] == [finished.id]


@pytest.mark.slow
def test_the_server_runs_one_training_and_queues_the_next(data_folder):
    trainer = OwnTrainer()
    images, labels = coloured_squares(60)
    first = trainer.submit(images, labels, ("a", "b", "c"), "first", owner="teacher-1", recipe="reduced")
    second = trainer.submit(images, None, (), "second", owner="teacher-2", recipe="reduced")
    third = trainer.submit(images, None, (), "third", owner="teacher-3", recipe="reduced")
    assert trainer.status(second).state == "waiting" and trainer.status(second).place == 1
    assert trainer.status(third).place == 2
    assert not trainer.cancel(third, owner="teacher-1")         # not theirs
    assert trainer.cancel(third, owner="teacher-3") and trainer.status(third).state == "cancelled"
    deadline = time.time() + 900           # two trainings, each a process importing torch, on a busy machine
    while trainer.status(second).state not in ("finished", "failed") and time.time() < deadline:
        assert trainer.status(first).state != "failed", trainer.status(first).error
        time.sleep(1)
    assert trainer.status(second).state == "finished", trainer.status(second)
    done = trainer.status(first, owner="teacher-1")
    assert done.state == "finished" and done.owner_key
    assert trainer.status(first, owner="teacher-1").owner_key is None      # shown once
    assert not trainer._jobs[first].folder.exists()      # the job's pictures and key left the disk with it
    dataset = open_dataset(done.dataset_id)
    delete_dataset(dataset.id, done.owner_key)
    assert [d.name for d in list_datasets()] == ["second"]
    trainer.close()


@pytest.mark.slow
def test_a_running_training_can_be_cancelled(data_folder):
    trainer = OwnTrainer()
    job = trainer.submit(*coloured_squares(60), ("a", "b", "c"), "cancel me", owner="t")
    deadline = time.time() + 120
    while (trainer.status(job).progress or {}).get("stage") != "training" and time.time() < deadline:
        time.sleep(0.5)
    assert trainer.cancel(job, owner="t")
    while trainer.status(job).state == "training":
        time.sleep(0.2)
    assert trainer.status(job).state == "cancelled"
    deadline = time.time() + 60       # the trainer clears up in its own thread once the worker has ended
    while list(data_folder.iterdir()) and time.time() < deadline:
        time.sleep(0.5)
    assert [p.name for p in data_folder.iterdir()] == [] and list_datasets() == []
