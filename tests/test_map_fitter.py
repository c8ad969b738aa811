"""The map fitter: UMAP in a worker process of its own that never loads torch or the page."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ae_demo.map_fitter import MapFitter, MapFitterError
from ae_demo.projection import MapSettings, fit_coords

pytestmark = pytest.mark.slow  # the worker imports umap: seconds, more on numba's first compile

CODES = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)


@pytest.fixture
def fitter():
    fitter = MapFitter(warm_up=False)
    yield fitter
    fitter.close()


def _mapped_libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_umap_is_fitted_in_the_worker_and_pca_in_place(fitter):
    pca = fitter.fit(CODES, MapSettings(method="pca"))
    assert np.allclose(pca, fit_coords(CODES, MapSettings(method="pca")))
    coords = fitter.fit(CODES, MapSettings(n_neighbors=5))
    assert coords.shape == (300, 2) and coords.dtype == np.float32 and np.isfinite(coords).all()
    assert "umap" not in sys.modules  # the fitting happened elsewhere


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc (Linux)")
def test_the_worker_loads_neither_torch_nor_the_page(fitter):
    """Started as its own module: it must not re-run app.py (what multiprocessing's spawn did under streamlit)."""
    fitter.fit(CODES, MapSettings(n_neighbors=5))
    libraries = _mapped_libraries(fitter.pid)
    assert "numba" in libraries or "llvmlite" in libraries  # umap ran there
    assert "libtorch" not in libraries and "streamlit" not in libraries


def test_a_bad_setting_is_an_error_and_the_worker_keeps_serving(fitter):
    with pytest.raises(MapFitterError, match="metric"):
        fitter.fit(CODES, MapSettings(metric="no-such-metric"))
    assert fitter.fit(CODES, MapSettings(n_neighbors=5)).shape == (300, 2)


def test_a_worker_that_died_is_started_again(fitter):
    first = fitter.pid
    fitter._process.kill()
    fitter._process.wait()
    assert fitter.fit(CODES, MapSettings(n_neighbors=5)).shape == (300, 2)
    assert fitter.pid != first


def test_the_worker_exits_when_its_stdin_closes():
    fitter = MapFitter(warm_up=False)
    fitter.close()
    assert fitter._process.poll() is not None
