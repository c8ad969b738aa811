"""New images from random codes: the VAE's prior against the plain model's box."""
import numpy as np
import pytest

from ae_demo.generation import (code_maps_2d, fitted_gaussian_codes, generate, ink_strength, load_generators,
                                 neighbour_gaps, prior_circles, share_inside)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module", params=[2, 16])
def generators(request):
    return load_generators("mnist", request.param)


def test_samples_are_sixteen_images_in_range_that_change_with_the_seed(generators):
    a, b, again = generate(*generators, seed=0), generate(*generators, seed=1), generate(*generators, seed=0)
    z = generators[0].latent_dim
    for images in (a.vae_images, a.plain_images):
        assert images.shape == (16, 28, 28) and images.dtype == np.float32
        assert images.min() >= 0 and images.max() <= 1
    assert a.vae_codes.shape == a.plain_codes.shape == (16, z)
    assert not np.allclose(a.vae_images, b.vae_images) and not np.allclose(a.plain_images, b.plain_images)
    assert np.array_equal(a.vae_images, again.vae_images) and np.array_equal(a.plain_codes, again.plain_codes)


def test_the_plain_codes_fill_the_box_of_its_held_out_codes(generators):
    _, _, _, plain_map = generators
    result = generate(*generators, n=200, seed=3)
    assert np.allclose(result.box_low, plain_map.codes.min(0)) and np.allclose(result.box_high, plain_map.codes.max(0))
    assert (result.plain_codes >= result.box_low).all() and (result.plain_codes <= result.box_high).all()
    assert np.abs(result.vae_codes.mean(0)).max() < 0.25 and np.allclose(result.vae_codes.std(0), 1, atol=0.15)


def test_the_plain_models_random_codes_fall_into_holes_the_vaes_do_not(generators):
    result = generate(*generators, n=64, seed=0)
    assert np.median(result.plain_gaps) > 1.5 * np.median(result.vae_gaps)


def test_a_held_out_code_is_no_gap_away_and_a_far_one_many():
    reference = np.random.default_rng(0).normal(size=(300, 4))
    gaps = neighbour_gaps(np.vstack([reference[:1], reference[:1] + 100]), reference)
    assert gaps[0] == 0 and gaps[1] > 50


def test_the_prior_circles_are_closed_circles_of_one_and_two_sigma():
    circles = prior_circles()
    assert set(circles) == {1.0, 2.0}
    for radius, points in circles.items():
        assert points.shape[1] == 2 and np.allclose(np.linalg.norm(points, axis=1), radius, atol=1e-6)
        assert np.array_equal(points[0], points[-1])


def test_the_two_dimensional_maps_hold_both_models_held_out_codes():
    vae, vae_map, _, plain_map = load_generators("mnist", 2)
    maps = code_maps_2d(vae_map, plain_map)
    assert maps.vae_codes.shape == (2000, 2) and maps.plain_codes.shape == (2000, 2)
    assert np.array_equal(maps.vae_labels, vae_map.labels) and np.array_equal(maps.plain_labels, plain_map.labels)
    assert np.array_equal(maps.vae_indices, np.arange(2000)) and np.array_equal(maps.plain_indices, np.arange(2000))
    assert set(maps.circles) == {1.0, 2.0}
    # the VAE's means of the held-out images are its encoder's output, not something else
    from ae_demo.maps import encode_images
    from ae_demo.zoo import load_verified_reference
    images = load_verified_reference("mnist").images[vae_map.indices[:5]]
    assert np.allclose(encode_images(vae, images), maps.vae_codes[:5], atol=1e-4)


def test_the_fitted_gaussians_codes_have_the_held_out_codes_mean_and_spread(generators):
    _, _, _, plain_map = generators
    codes = fitted_gaussian_codes(plain_map.codes, 4000, seed=0)
    spread = plain_map.codes.std(0)
    assert np.allclose(codes.mean(0), plain_map.codes.mean(0), atol=0.1 * spread.max())
    assert np.allclose(codes.std(0), spread, rtol=0.1)
    again = generate(*generators, seed=5)
    assert np.array_equal(again.fitted_codes, generate(*generators, seed=5).fitted_codes)
    assert again.fitted_images.shape == (16, 28, 28) and 0 <= again.fitted_images.min() <= again.fitted_images.max() <= 1


def test_the_fitted_gaussian_lands_nearer_real_codes_than_the_box(generators):
    """The box is the naive comparison; the Gaussian fitted to the codes is the fair one (issue 18)."""
    result = generate(*generators, n=64, seed=0)
    assert np.median(result.fitted_gaps) < np.median(result.plain_gaps)


def test_ink_strength_is_one_for_solid_strokes_and_lower_for_a_blur():
    stroke = np.zeros((1, 28, 28), np.float32)
    stroke[0, 6:22, 12:16] = 1.0
    blurred = stroke.copy()
    for _ in range(3):   # a box blur, three times: the same ink spread thin
        padded = np.pad(blurred[0], 1)
        blurred[0] = sum(padded[i:i + 28, j:j + 28] for i in range(3) for j in range(3)) / 9
    assert ink_strength(stroke)[0] == 1.0 and ink_strength(blurred)[0] < 0.6
    assert ink_strength(np.zeros((1, 28, 28)))[0] == 0.0


def test_the_prior_shares_inside_the_circles_are_the_chi_squared_ones():
    draws = np.random.default_rng(0).standard_normal((200_000, 2))
    radius = np.linalg.norm(draws, axis=1)
    for r in (1.0, 2.0):
        assert abs((radius < r).mean() - share_inside(r)) < 0.005
