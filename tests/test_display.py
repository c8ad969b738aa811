"""Pictures for people: enlarged digits, error heatmaps, strips, and maps drawn as pictures."""
from __future__ import annotations

import base64
import io
import re

import numpy as np
from PIL import Image

from ae_demo.display import MapPicture, enlarge, error_heatmap, image_strip, png_data_uri

COLOURS = ("#ff0000", "#0000ff")
BACKGROUND = "#0e1117"
YELLOW = np.array([255, 210, 31])


def test_enlarge_repeats_pixels():
    image = np.array([[0.0, 1.0]], np.float32)
    big = enlarge(image, 3)
    assert big.shape == (3, 6) and big.dtype == np.uint8
    assert (big[:, :3] == 0).all() and (big[:, 3:] == 255).all()


def test_error_heatmap_is_cividis_dark_blue_where_exact_and_yellow_where_fully_wrong():
    target = np.zeros((28, 28), np.float32)
    recon = target.copy()
    recon[0, 0], recon[0, 1] = 1.0, 0.5
    heat = error_heatmap(recon, target)
    assert heat.shape == (28, 28, 3)
    assert tuple(heat[0, 0]) == (0xfe, 0xe8, 0x38) and (heat[1:, 1:] == (0x00, 0x22, 0x4e)).all()
    # perceptually ordered: lightness rises with the error
    luma = heat[0, :2].astype(float) @ (0.2126, 0.7152, 0.0722)
    assert luma[0] > luma[1] > float(heat[1, 1].astype(float) @ (0.2126, 0.7152, 0.0722))


def test_image_strip_puts_images_side_by_side():
    strip = image_strip(np.ones((3, 28, 28), np.float32), gap=2)
    assert strip.shape == (28, 3 * 28 + 2 * 2) and (strip[:, 28:30] == 40).all()


def _colour_share(pixels: np.ndarray, colour) -> float:
    return float((np.abs(pixels.astype(int) - np.asarray(colour)).sum(-1) < 30).mean())


def test_map_picture_colours_points_by_class_with_y_up():
    coords = np.array([[0.0, 0.0], [0.0, 10.0]])          # class 0 at the bottom, class 1 at the top
    picture = MapPicture.draw(coords, np.array([0, 1]), COLOURS, background=BACKGROUND, size=100, point_radius=3)
    pixels = picture.pixels
    assert pixels.shape == (100, 100, 3)
    assert _colour_share(pixels[:50], (0, 0, 255)) > 0 and _colour_share(pixels[:50], (255, 0, 0)) == 0
    assert _colour_share(pixels[50:], (255, 0, 0)) > 0 and _colour_share(pixels[50:], (0, 0, 255)) == 0


def _svg_stars(svg: str) -> list[tuple[float, float, str]]:
    """(mean x, mean y, fill) of each star polygon in an SVG overlay."""
    stars = []
    for points, fill in re.findall(r'<polygon points="([^"]+)" fill="([^"]+)"', svg):
        xy = np.array([[float(v) for v in p.split(",")] for p in points.split()])
        stars.append((*xy.mean(0), fill))
    return stars


def test_stars_land_where_they_are_placed_and_leave_the_map_untouched():
    coords = np.array([[0.0, 0.0], [10.0, 10.0]])
    picture = MapPicture.draw(coords, np.array([0, 1]), COLOURS, background=BACKGROUND, size=300)
    before = picture.pixels.copy()
    # top left (another input), bottom right (current)
    svg = picture.stars_svg(np.array([[0.0, 10.0], [10.0, 0.0]]), ("#ffd21f", "#ffffff"), "#000000")
    assert (picture.pixels == before).all() and 'viewBox="0 0 300 300"' in svg
    (x1, y1, other), (x2, y2, current) = _svg_stars(svg)
    assert x1 < 100 and y1 < 100 and other == "#ffffff"
    assert x2 > 200 and y2 > 200 and current == "#ffd21f"
    # the star sits where the point at that position was drawn on the picture
    px, py = picture.to_pixels(np.array([[10.0, 0.0]]))[0]
    assert abs(x2 - px) < 3 and abs(y2 - py) < 3


def test_a_star_far_off_the_map_stays_inside_the_picture():
    picture = MapPicture.draw(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 0]), COLOURS, background=BACKGROUND,
                              size=300)
    ((x, y, _),) = _svg_stars(picture.stars_svg(np.array([[50.0, 50.0]]), ("#ffd21f", "#ffffff"), "#000000"))
    assert 0 < x < 300 and 0 < y < 300


def test_png_data_uri_carries_the_pixels():
    image = np.zeros((28, 28), np.float32)
    image[5, 7] = 1.0
    image[20, 3] = 0.5
    uri = png_data_uri(image)
    assert uri.startswith("data:image/png;base64,")
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert decoded.shape == (28, 28) and decoded[5, 7] == 255 and decoded[20, 3] == 128 and decoded.sum() == 255 + 128
    colour = png_data_uri(np.full((4, 4, 3), (10, 20, 30), np.uint8))
    assert np.asarray(Image.open(io.BytesIO(base64.b64decode(colour.split(",", 1)[1]))))[0, 0].tolist() == [10, 20, 30]


def test_inline_pictures_encode_each_image_once_and_as_png_data_uri_does(monkeypatch):
    from ae_demo import display

    images = np.random.default_rng(0).random((5, 28, 28)).astype(np.float32)
    pictures = display.InlinePictures(images)
    encoded = []
    real = display.png_data_uri
    monkeypatch.setattr(display, "png_data_uri", lambda image: encoded.append(1) or real(image))
    assert pictures.uri(3) == real(images[3]) and pictures.uri(3) == real(images[3])
    assert len(encoded) == 1 and len(pictures) == 5


def test_map_picture_knows_each_class_centre_for_its_name():
    """The page writes each class's name at its centre, as text over the picture (ui.latent_map.starred_picture):
    the picture gives that centre (the class's median) in its own pixels, and draws no letters itself."""
    coords = np.array([[0.0, 0.0]] * 20 + [[10.0, 10.0]] * 20 + [[10.0, 0.0]])
    labels = np.array([0] * 20 + [2] * 20 + [2])
    picture = MapPicture.draw(coords, labels, COLOURS, background=BACKGROUND, size=200)
    expected = picture.to_pixels(np.array([[0.0, 0.0], [10.0, 10.0]]))
    assert [c[0] for c in picture.class_centres] == [0, 2]      # a class with no dots has no centre
    assert np.allclose([c[1:] for c in picture.class_centres], expected)
    assert _colour_share(picture.pixels, (255, 255, 255)) == 0