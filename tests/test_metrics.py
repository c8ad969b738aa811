"""The project's one SSE, on torch tensors and on the page's numpy pictures alike."""
import numpy as np
import pytest
import torch

from ae_demo.metrics import psnr, sse


def test_sse_sums_each_images_squared_error_for_tensors_and_arrays():
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 28, 28), np.float32), rng.random((3, 28, 28), np.float32)
    expected = ((a.astype(np.float64) - b) ** 2).reshape(3, -1).sum(1)
    on_arrays = sse(a, b)
    on_tensors = sse(torch.from_numpy(a)[:, None], torch.from_numpy(b)[:, None])
    assert isinstance(on_arrays, np.ndarray) and on_arrays.shape == (3,)
    assert np.allclose(on_arrays, expected, rtol=1e-5) and np.allclose(on_tensors.numpy(), expected, rtol=1e-5)
    assert sse(a, a).tolist() == [0.0, 0.0, 0.0]


def test_psnr_of_an_error_of_one_tenth_everywhere_is_20_db():
    target = torch.zeros(1, 1, 28, 28)
    assert float(psnr(target + 0.1, target)[0]) == pytest.approx(20.0, abs=1e-4)

