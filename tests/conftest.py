"""Shared fixtures: tiny generated datasets, so no test reads ../shared or the internet; the page under AppTest."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ae_demo.data import OFFICIAL_FILES, TEN_K_FILES, write_idx


def blob_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28) uint8 bright squares at class-dependent places, and (n,) labels 0..9."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = np.zeros((n, 28, 28), np.uint8)
    for i, label in enumerate(labels):
        r, c = 4 + 2 * (label // 5) * 4, 4 + 4 * (label % 5)
        images[i, r:r + 8, c:c + 4] = rng.integers(180, 256)
    return images, labels.astype(np.uint8)


@pytest.fixture
def blobs():
    """``blob_images`` for a test: (n, seed) -> images, labels."""
    return blob_images


@pytest.fixture
def official_dir(tmp_path):
    """A folder in the official four-file layout: 120 training and 40 test images."""
    for split, n in (("train", 120), ("test", 40)):
        images, labels = blob_images(n, seed=len(split))
        write_idx(tmp_path / OFFICIAL_FILES[split][0], images)
        write_idx(tmp_path / OFFICIAL_FILES[split][1], labels)
    return tmp_path


@pytest.fixture
def ten_k_dir(tmp_path):
    """A folder in the mnist-10k layout: 50 images, every fifth held out."""
    images, labels = blob_images(50)
    write_idx(tmp_path / TEN_K_FILES[0], images)
    write_idx(tmp_path / TEN_K_FILES[1], labels)
    return tmp_path


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module, as the app serves (device.use_one_cpu_thread_per_call):
    on a busy machine two threads spin against each other and a one-image pass takes 100x longer."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- the page under Streamlit's AppTest ----------------------------------------------------

APP = Path(__file__).resolve().parents[1] / "app.py"
PAGE_TIMEOUT_S = 180  # a run's limit: the first run of a test module loads torch and the models


def _fresh_page(**query) -> AppTest:
    """The page before its first run, with ``query`` in its URL (``?dataset=fashion`` …)."""
    at = AppTest.from_file(str(APP), default_timeout=PAGE_TIMEOUT_S)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def _open_page(**query) -> AppTest:
    """The page as a visitor gets it: the first run (workbench only), then the whole page,
    which the browser asks for at once (a timer AppTest does not run; here a second run)."""
    return _fresh_page(**query).run().run()


@pytest.fixture(scope="session")
def app_file() -> Path:
    """app.py, the page's script (for a test that runs it in a process of its own)."""
    return APP


@pytest.fixture(scope="session")
def fresh_page():
    """``fresh_page(**query)``: the page not yet run, for a test of its first run."""
    return _fresh_page


@pytest.fixture(scope="session")
def open_page():
    """``open_page(**query)``: the page after the two runs a browser's first visit makes."""
    return _open_page


@pytest.fixture(scope="session")
def ladder_images() -> int:
    """Pictures in the default view's ladder block, counted from the zoo: the input and one picture per
    bottleneck size, once for the default family and once for PCA."""
    from ae_demo.datasets import DATASETS, DEFAULT_DATASET
    from ae_demo.zoo import read_zoo

    return 2 * (len(read_zoo().latent_dims(DEFAULT_DATASET, DATASETS[DEFAULT_DATASET].default_model.family)) + 1)
