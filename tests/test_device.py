"""The one device choice, and the package's independence from Streamlit."""
import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from ae_demo import device as device_module
from ae_demo.inference import load_family, run_ladder


@pytest.fixture
def fresh_choice():
    device_module.pick_device.cache_clear()
    yield
    device_module.pick_device.cache_clear()


def test_cuda_comes_first(monkeypatch, fresh_choice):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device_module.pick_device().type == "cuda"


def test_mps_before_cpu(monkeypatch, fresh_choice):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert device_module.pick_device().type == "mps"
    assert device_module.describe_device(torch.device("mps")) == "Apple MPS"


def test_cpu_otherwise(monkeypatch, fresh_choice):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert device_module.pick_device().type == "cpu"
    assert device_module.describe_device(torch.device("cpu")).startswith("CPU")


def test_the_choice_is_made_once(fresh_choice):
    assert device_module.pick_device() is device_module.pick_device()


def test_models_go_where_they_are_asked_and_give_numpy_back():
    models = load_family("mnist", "conv", torch.device("cpu"))
    assert all(next(m.parameters()).device.type == "cpu" for m in models.values())
    result = run_ladder(models, np.zeros((2, 28, 28), np.float32))
    assert result.reconstructions.shape == (6, 2, 28, 28) and isinstance(result.sse, np.ndarray)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_cuda_matches_cpu():
    images = np.random.default_rng(0).random((8, 28, 28)).astype(np.float32)
    cpu = run_ladder(load_family("mnist", "conv", torch.device("cpu")), images).reconstructions
    gpu = run_ladder(load_family("mnist", "conv", torch.device("cuda")), images).reconstructions
    assert np.abs(cpu - gpu).max() <= 1e-4


def test_the_package_never_imports_streamlit():
    for path in Path(device_module.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "streamlit" not in imported, path.name


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
def test_the_served_app_hands_the_gil_over_within_a_millisecond():
    """The server's set-up (ui.server.configure_process, run by the warm start) shortens the switch interval:
    a thread that gave up the GIL for a torch call or a socket send waits at most 1 ms to resume. Importing
    the page's modules alone changes nothing."""
    import subprocess
    import sys

    def interval(code: str) -> float:
        return float(subprocess.run([sys.executable, "-c", f"import sys, ui.resources, ui.server; {code}"
                                     "print(sys.getswitchinterval())"],
                                    capture_output=True, text=True, check=True, timeout=120).stdout)

    assert interval("") == pytest.approx(0.005)
    assert interval("ui.server.configure_process(); ") == pytest.approx(0.001)
