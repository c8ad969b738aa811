"""Corruptions (seeded, clipped, in place where asked) and the two nets' held-out error against the clean input."""
import numpy as np
import pytest

from ae_demo.corruption import (denoise, denoising_curve, erase_square, gaussian_noise, load_denoising_pair,
                                salt_and_pepper)
from ae_demo.zoo import load_verified_reference

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def digits():
    return load_verified_reference("mnist").images[:64].numpy().astype(np.float32) / 255.0


@pytest.mark.parametrize("corrupt", [lambda x, seed: gaussian_noise(x, 0.3, seed),
                                     lambda x, seed: salt_and_pepper(x, 0.2, seed),
                                     lambda x, seed: erase_square(x, 10, seed=seed)])
def test_corruptions_are_seeded_clipped_and_leave_the_input_alone(digits, corrupt):
    before = digits.copy()
    a, b, c = corrupt(digits, 1), corrupt(digits, 1), corrupt(digits, 2)
    assert a.shape == digits.shape and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(digits, before)


def test_gaussian_noise_has_the_asked_spread_where_it_is_not_clipped():
    grey = np.full((20, 28, 28), 0.5, np.float32)
    assert np.std(gaussian_noise(grey, 0.1) - grey) == pytest.approx(0.1, rel=0.05)


def test_salt_and_pepper_hits_the_asked_share_of_pixels_with_black_and_white():
    grey = np.full((20, 28, 28), 0.5, np.float32)
    out = salt_and_pepper(grey, 0.25)
    hit = out != 0.5
    assert hit.mean() == pytest.approx(0.25, abs=0.01)
    assert set(np.unique(out[hit])) == {0.0, 1.0} and (out[hit] == 1).mean() == pytest.approx(0.5, abs=0.03)


def test_an_erased_square_is_black_where_asked_and_nowhere_else():
    white = np.ones((3, 28, 28), np.float32)
    out = erase_square(white, 6, top=4, left=10)
    assert (out[:, 4:10, 10:16] == 0).all() and (out == 0).sum() == 3 * 36
    random_place = erase_square(white, 6, seed=3)
    assert ((random_place == 0).sum(axis=(1, 2)) == 36).all()       # always wholly inside the field


@pytest.fixture(scope="module")
def pair():
    return load_denoising_pair("mnist")


def test_the_denoising_net_beats_the_plain_one_at_its_training_noise(pair, digits):
    noisy = gaussian_noise(digits, 0.3, seed=0)
    result = denoise(*pair, digits, noisy)
    assert result.plain.shape == result.denoised.shape == digits.shape
    assert result.denoised_sse.mean() < 0.8 * result.plain_sse.mean()
    assert result.denoised_sse.mean() < result.corrupted_sse.mean()


def test_the_curve_is_judged_against_the_clean_images(pair):
    curve = denoising_curve("mnist", sigmas=(0.0, 0.3), n_images=100, pair=pair)
    assert curve.n_images == 100 and curve.sigmas.tolist() == pytest.approx([0.0, 0.3])
    assert curve.corrupted_sse[0] == 0                             # no noise: the input is the clean image
    assert curve.plain_sse[0] < curve.plain_sse[1]                 # noise costs the plain net
    assert curve.denoised_sse[1] < curve.plain_sse[1]              # σ = 0.3: the denoising net is better
