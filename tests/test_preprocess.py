"""ae_demo.preprocess: every kind of drawing, upload and photo -> a centred 28x28 digit, or an InputError.

All inputs are generated here, in memory: no network, no files outside pytest's tmp.
"""
from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ae_demo.preprocess import (MAX_PIXELS, MAX_UPLOAD_BYTES, InputError, Prepared, as_plain_image, decode_image,
                                prepare_drawing, prepare_upload, preprocess_to_mnist)

# A "7" with a crossbar, and an "L": asymmetric shapes in unit coordinates (x, y) in [0, 1].
SEVEN = [[(0.1, 0.05), (0.9, 0.05), (0.35, 0.95)], [(0.3, 0.5), (0.75, 0.5)]]
ELL = [[(0.2, 0.05), (0.2, 0.95), (0.85, 0.95)]]
DASH = [[(0.1, 0.5), (0.9, 0.5)]]


def draw(shape=SEVEN, size=(280, 280), box=None, ink=255, paper=0, mode="L", width=None) -> Image.Image:
    """``shape`` drawn with lines in ``box`` (x0, y0, x1, y1; default: the middle 70%) of a new image."""
    w, h = size
    x0, y0, x1, y1 = box or (0.15 * w, 0.15 * h, 0.85 * w, 0.85 * h)
    image = Image.new(mode, size, paper)
    pen = ImageDraw.Draw(image)
    stroke = width or max(1, round(0.12 * (y1 - y0)))
    for line in shape:
        points = [(x0 + u * (x1 - x0), y0 + v * (y1 - y0)) for u, v in line]
        pen.line(points, fill=ink, width=stroke, joint="curve")
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(a.shape)
    return float((ys * a).sum() / a.sum()), float((xs * a).sum() / a.sum())


def corr(a: np.ndarray, b: np.ndarray) -> float:
    """Best correlation of two 28x28 images over shifts of up to one pixel.

    Centring shifts by whole pixels, as MNIST did, so a centre of mass near x.5 may round either
    way: the same digit can come out one pixel apart.
    """
    return max(float(np.corrcoef(np.roll(a, (dy, dx), (0, 1)).ravel(), b.ravel())[0, 1])
               for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def assert_digit(prepared: Prepared) -> np.ndarray:
    """A plausible MNIST-style digit: (28, 28) float32 in [0, 1], max 1, in a 20x20 box, mass at (14, 14)."""
    assert isinstance(prepared, Prepared)
    a = prepared.image
    assert a.shape == (28, 28) and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() == pytest.approx(1.0, abs=1e-6)
    cy, cx = centre_of_mass(a)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1, (cy, cx)
    rows, cols = np.flatnonzero(a.any(1)), np.flatnonzero(a.any(0))
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert max(height, width) <= 20 and max(height, width) >= 17, (height, width)
    assert isinstance(prepared.raw, Image.Image) and prepared.raw.mode == "RGB"
    assert max(prepared.raw.size) <= 512
    assert all(isinstance(n, str) for n in prepared.notes)
    return a


def reference(shape=SEVEN) -> np.ndarray:
    """The clean result for ``shape``: white ink on black, as a 280x280 uint8 array."""
    return preprocess_to_mnist(np.asarray(draw(shape))).image


def raises_input_error(call, *words: str) -> str:
    """Run ``call``; it must raise InputError whose message contains every word (case-insensitive)."""
    with pytest.raises(InputError) as caught:
        call()
    message = str(caught.value)
    for word in words:
        assert word.lower() in message.lower(), message
    return message


# ------------------------------------------------------------------------------- the basics

def test_clean_drawing_is_a_centred_mnist_digit():
    a = assert_digit(preprocess_to_mnist(np.asarray(draw())))
    # the ink is white on black, the background exactly 0 and most of the field
    assert (a == 0).mean() > 0.6


def test_digit_drawn_off_centre_comes_out_centred():
    image = draw(size=(300, 200), box=(10, 10, 70, 90))   # top-left corner
    assert_digit(preprocess_to_mnist(image))


def test_small_in_a_corner_and_large_in_the_centre_agree():
    small = preprocess_to_mnist(draw(box=(200, 200, 260, 260))).image
    large = preprocess_to_mnist(draw(box=(20, 20, 260, 260))).image
    assert corr(small, large) > 0.8


def test_already_mnist_input_is_nearly_unchanged():
    once = reference()
    twice = assert_digit(preprocess_to_mnist(once))       # (28, 28) float32 in [0, 1]
    assert corr(once, twice) > 0.95


def test_different_digits_stay_different():
    assert corr(reference(SEVEN), reference(ELL)) < 0.6


# --------------------------------------------------------------------------- decoding errors

def test_empty_file():
    raises_input_error(lambda: prepare_upload(b"", "digit.png"), "empty", "digit.png")


def test_text_named_png():
    raises_input_error(lambda: prepare_upload(b"hello, this is not a picture\n" * 20, "digit.png"),
                       "text", "PNG")


def test_random_bytes():
    data = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    raises_input_error(lambda: prepare_upload(data, "x.bin"), "not an image", "PNG")


@pytest.mark.parametrize("name", ["digit.svg", "digit.png"])
def test_svg_says_export_png(name):
    svg = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">'
           b'<path d="M4 4 L24 4 L10 24" stroke="black"/></svg>')
    raises_input_error(lambda: prepare_upload(svg, name), "SVG", "vector", "PNG")


def test_heic_says_save_as_jpeg():
    heic = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100
    raises_input_error(lambda: prepare_upload(heic, "IMG_0001.HEIC"), "HEIC", "JPEG")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file(fmt):
    noisy = Image.fromarray(np.random.default_rng(1).integers(0, 256, (200, 200), dtype=np.uint8))
    data = encode(noisy, fmt)
    raises_input_error(lambda: prepare_upload(data[: len(data) // 2], f"digit.{fmt.lower()}"),
                       "truncated or damaged", "upload")


def test_file_over_the_upload_limit():
    raises_input_error(lambda: decode_image(b"\x89PNG" + b"\x00" * MAX_UPLOAD_BYTES, "huge.png"), "MB", "limit")


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit all-black PNG of width x height, built by streaming zero rows through zlib.

    Never holds more than ~1 MB of pixels: 30000x30000 is 112 MB raw and ~110 KB compressed.
    """
    row = b"\x00" * (1 + (width + 7) // 8)                  # filter byte + packed bits
    per_chunk = max(1, (1 << 20) // len(row))
    compressor, parts = zlib.compressobj(6), []
    for start in range(0, height, per_chunk):
        parts.append(compressor.compress(row * min(per_chunk, height - start)))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"".join(parts))
            + _png_chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [30_000, 7_000])   # past Pillow's own limit, and past only ours
def test_decompression_bomb_is_refused_before_decoding(side):
    assert side * side > MAX_PIXELS
    data = bomb_png(side, side)
    assert len(data) < MAX_UPLOAD_BYTES
    started = time.perf_counter()
    message = raises_input_error(lambda: prepare_upload(data, "bomb.png"), "scale it down")
    assert time.perf_counter() - started < 2.0             # no pixels were decoded
    if side == 7_000:
        assert "7000x7000" in message and "megapixel" in message


def test_damaged_image_opened_lazily_elsewhere():
    data = encode(Image.fromarray(np.random.default_rng(5).integers(0, 256, (100, 100), dtype=np.uint8)))
    lazy = Image.open(io.BytesIO(data[:300]))              # header fine, pixels missing
    raises_input_error(lambda: preprocess_to_mnist(lazy), "could not be read", "re-save")


def test_module_never_imports_streamlit():
    import ast
    import ae_demo.preprocess as module
    tree = ast.parse(open(module.__file__, encoding="utf-8").read())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not any(name.split(".")[0] == "streamlit" for name in imported)


# ------------------------------------------------------------------------------ size limits

def test_one_pixel_image():
    raises_input_error(lambda: prepare_upload(encode(Image.new("L", (1, 1), 255)), "dot.png"),
                       "too small", "1x1", "8x8")


def test_one_by_twenty_thousand():
    data = encode(Image.new("L", (1, 20_000), 0))
    raises_input_error(lambda: prepare_upload(data, "line.png"), "1x20000", "8x8")


def test_long_thin_strip_gives_a_result_or_a_clear_error():
    strip = draw(DASH, size=(3000, 12), box=(100, 0, 2900, 12), width=6)
    try:
        result = preprocess_to_mnist(strip)
    except InputError as error:
        assert "digit" in str(error).lower()
    else:
        a = result.image
        assert a.shape == (28, 28) and a.max() == pytest.approx(1.0)


def test_tiny_array():
    raises_input_error(lambda: preprocess_to_mnist(np.zeros((4, 4), np.uint8)), "too small", "8x8")


# ---------------------------------------------------------------------------- blank inputs

@pytest.mark.parametrize("colour", [0, 255, 128])
def test_flat_colour_is_blank(colour):
    data = encode(Image.new("RGB", (100, 100), (colour, colour, colour)))
    raises_input_error(lambda: prepare_upload(data, "flat.png"), "blank", "draw or upload")


def test_empty_canvas():
    canvas = np.zeros((280, 280, 4), np.uint8)            # streamlit-drawable-canvas before any stroke
    raises_input_error(lambda: preprocess_to_mnist(canvas), "transparent", "draw")


def test_opaque_black_canvas_is_blank():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    raises_input_error(lambda: preprocess_to_mnist(canvas), "blank")


def test_blank_paper_photo_finds_no_digit():
    rng = np.random.default_rng(2)
    ys, xs = np.mgrid[0:300, 0:400] / 300.0
    paper = 0.5 + 0.3 * xs - 0.1 * ys + rng.normal(0, 0.03, xs.shape)
    data = encode(Image.fromarray(np.clip(paper * 255, 0, 255).astype(np.uint8)), "JPEG", quality=90)
    raises_input_error(lambda: prepare_upload(data, "paper.jpg"), "no digit")


def test_a_speck_is_not_a_digit():
    speck = np.zeros((100, 100), np.uint8)
    speck[40:42, 60:62] = 255
    raises_input_error(lambda: preprocess_to_mnist(speck), "speck", "larger")


def test_pure_noise_finds_no_digit():
    noise = np.random.default_rng(3).integers(0, 256, (120, 120), dtype=np.uint8)
    raises_input_error(lambda: preprocess_to_mnist(noise), "no digit")


# ------------------------------------------------------------------------- canvas and alpha

def test_canvas_white_strokes_on_opaque_black():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[..., :3] = np.asarray(draw())[..., None]
    result = preprocess_to_mnist(canvas)
    a = assert_digit(result)
    assert not any("invert" in n for n in result.notes)
    assert corr(a, reference()) > 0.98


@pytest.mark.parametrize("background", ["opaque black", "transparent"])
def test_the_canvas_path_frames_a_drawing_as_the_photo_path_does(background):
    """prepare_drawing (the canvas's PNG) gives the digit preprocess_to_mnist gives for the same strokes."""
    canvas = np.zeros((280, 280, 4), np.uint8)
    strokes = np.asarray(draw())
    canvas[..., :3] = 255 if background == "transparent" else strokes[..., None]
    canvas[..., 3] = strokes if background == "transparent" else 255
    result = prepare_drawing(encode(Image.fromarray(canvas)))
    assert corr(assert_digit(result), reference()) > 0.97


def test_the_canvas_path_keeps_the_ink_of_a_dense_scribble():
    """Wide strokes crossing each other: framing keeps how much of its bounding box the ink covers.
    (A clean canvas has no background to remove; the photo path's background estimate takes a dense
    blob of ink for background and loses most of it.)"""
    scribble = np.asarray(draw([[(0.1, 0.1), (0.9, 0.9), (0.1, 0.9), (0.9, 0.1), (0.5, 0.05), (0.5, 0.95)]],
                               width=55))
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., :3], canvas[..., 3] = scribble[..., None], 255
    drawn = prepare_drawing(encode(Image.fromarray(canvas))).image

    def cover(a: np.ndarray, level: float) -> float:
        rows, cols = np.flatnonzero((a > level).any(1)), np.flatnonzero((a > level).any(0))
        return float((a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] > level).mean())

    assert cover(drawn, 0.5) == pytest.approx(cover(scribble, 128), abs=0.1)


def test_an_empty_canvas_is_an_input_error():
    for canvas in (np.zeros((280, 280, 4), np.uint8), np.dstack([np.zeros((280, 280, 3), np.uint8),
                                                                 np.full((280, 280), 255, np.uint8)])):
        raises_input_error(lambda: prepare_drawing(encode(Image.fromarray(canvas))), "empty", "draw")


@pytest.mark.parametrize("rgb", [0, 255])
def test_digit_drawn_only_in_the_alpha_channel(rgb):
    """Transparent black or transparent white, with the digit only in alpha (RGB one flat colour)."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = np.asarray(draw())
    via_png = prepare_upload(encode(Image.fromarray(rgba)), "alpha.png")
    for result in (preprocess_to_mnist(rgba), via_png):
        assert corr(assert_digit(result), reference()) > 0.95


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_transparent_files_keep_an_alpha_only_digit(fmt):
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = np.asarray(draw())
    result = prepare_upload(encode(Image.fromarray(rgba), fmt), f"alpha.{fmt.lower()}")
    assert corr(assert_digit(result), reference()) > 0.9


def test_canvas_black_strokes_on_transparent_background():
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = np.asarray(draw())                     # strokes are black, opaque; elsewhere clear
    assert corr(assert_digit(preprocess_to_mnist(rgba)), reference()) > 0.95


def test_photo_with_transparent_surround_uses_the_paper():
    """An opaque photo of black-on-white paper in the middle of a transparent PNG."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = np.asarray(draw(ink=0, paper=255))[..., None]
    rgba[..., 3] = 0
    rgba[20:260, 20:260, 3] = 255
    assert corr(assert_digit(preprocess_to_mnist(rgba)), reference()) > 0.95


# --------------------------------------------------------------------- modes and bit depths

@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "CMYK", "YCbCr", "I", "F", "HSV"])
def test_pil_modes(mode):
    image = draw(ink=0, paper=255).convert("RGB").convert(mode)
    result = preprocess_to_mnist(image)
    assert corr(assert_digit(result), reference()) > 0.95


def test_sixteen_bit_grayscale():
    levels = np.where(np.asarray(draw()) > 0, 3000, 1000).astype(np.uint16)   # a narrow slice of 0..65535
    image = Image.fromarray(levels)
    assert image.mode == "I;16"
    decoded = decode_image(encode(image), "deep.png")
    for candidate in (image, decoded):
        result = preprocess_to_mnist(candidate)
        assert corr(assert_digit(result), reference()) > 0.95
        assert any("16-bit" in n for n in result.notes)


def test_cmyk_jpeg():
    image = draw(ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="CMYK")       # black K ink on white paper
    decoded = decode_image(encode(image, "JPEG", quality=95), "print.jpg")
    assert decoded.mode == "CMYK"
    result = preprocess_to_mnist(decoded)
    assert corr(assert_digit(result), reference()) > 0.9                  # JPEG fringes: a pixel wider
    assert any("inverted" in n for n in result.notes)


@pytest.mark.parametrize("array", [
    np.asarray(draw(), np.float32) / 255,                                  # float in [0, 1]
    np.asarray(draw()) > 0,                                                # bool
    (np.asarray(draw()) > 0).astype(np.int32),                             # a 0/1 integer mask
    np.asarray(draw()).astype(np.int64) * 1000,                            # ints beyond 8 bits
    np.repeat(np.asarray(draw())[..., None], 3, axis=2),                   # (H, W, 3)
    np.asarray(draw())[..., None],                                         # (H, W, 1)
])
def test_array_inputs(array):
    assert corr(assert_digit(preprocess_to_mnist(array)), reference()) > 0.95


@pytest.mark.parametrize("bad", [np.zeros((50, 50, 5), np.uint8), np.zeros((4, 50, 50, 3), np.uint8),
                                 np.zeros((50, 50), np.complex64), np.array([]), "digit.png", None])
def test_unusable_inputs_raise_input_error(bad):
    with pytest.raises(InputError):
        preprocess_to_mnist(bad)


def test_nan_array_is_blank():
    raises_input_error(lambda: preprocess_to_mnist(np.full((30, 30), np.nan)), "blank")


# ----------------------------------------------------------------------- formats and frames

@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"])
def test_formats_decode(fmt):
    data = encode(draw(ink=0, paper=255).convert("RGB"), fmt)
    result = prepare_upload(data, f"digit.{fmt.lower()}")
    assert corr(assert_digit(result), reference()) > 0.9                  # JPEG and WebP are lossy


def test_animated_gif_uses_the_first_frame():
    frames = [draw(SEVEN).convert("P"), draw(DASH).convert("P"), draw(ELL).convert("P")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    result = prepare_upload(data, "anim.gif")
    a = assert_digit(result)
    assert corr(a, reference(SEVEN)) > 0.95 and corr(a, reference(ELL)) < 0.6
    assert any("animated GIF" in n and "first frame" in n for n in result.notes)


def test_exif_rotated_jpeg_is_turned_upright():
    upright = draw(ELL, size=(240, 160), ink=0, paper=255).convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)   # how the camera wrote it
    exif = Image.Exif()
    exif[0x0112] = 6                                        # "rotate 90 CW to display"
    rotated = prepare_upload(encode(stored, "JPEG", quality=95, exif=exif), "IMG_1234.jpg")
    straight = prepare_upload(encode(upright, "JPEG", quality=95), "upright.jpg")
    ignored = preprocess_to_mnist(stored)                   # the same pixels, orientation unknown
    assert rotated.raw.size == (240, 160)
    assert any("EXIF" in n for n in rotated.notes)
    assert corr(assert_digit(rotated), straight.image) > 0.97
    assert corr(rotated.image, ignored.image) < 0.6


# -------------------------------------------------------------------------------- photos

def test_phone_photo_with_uneven_lighting_and_noise():
    """Dark pen on paper, lit from one side with a shadowed corner, sensor noise, JPEG, colour cast."""
    rng = np.random.default_rng(4)
    h, w = 480, 640
    ys, xs = np.mgrid[0:h, 0:w]
    light = 0.35 + 0.55 * xs / w - 0.15 * (ys / h) ** 2              # left side dim, bottom darker
    pen = np.asarray(draw(size=(w, h), box=(190, 110, 450, 370), width=9), np.float32) / 255
    paper = 0.95 - 0.8 * pen                                           # ink reflects 15%
    lum = paper * light + rng.normal(0, 0.03, (h, w))
    lum += 0.04 * np.sin(xs / 3.0) * np.sin(ys / 4.0)                  # paper texture
    rgb = np.clip(np.stack([lum * 1.05, lum, lum * 0.9], axis=2) * 255, 0, 255).astype(np.uint8)
    result = prepare_upload(encode(Image.fromarray(rgb), "JPEG", quality=85), "IMG_0042.jpg")
    a = assert_digit(result)
    assert (a < 0.02).mean() >= 0.7                                    # a clean background
    assert corr(a, reference()) > 0.85
    assert any("inverted" in n for n in result.notes)


def test_thin_pen_is_thickened_towards_mnist():
    thin = preprocess_to_mnist(draw(size=(800, 800), box=(100, 100, 700, 700), width=3))
    assert any("thickened" in n for n in thin.notes)
    assert corr(assert_digit(thin), reference()) > 0.85


def test_raw_is_the_upright_rgb_input_shrunk_to_512():
    result = preprocess_to_mnist(draw(size=(1200, 600), box=(500, 100, 800, 500)))
    assert result.raw.mode == "RGB" and result.raw.size == (512, 256)


def test_the_plain_fallback_reads_noise_that_preprocessing_refuses():
    noise = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    with pytest.raises(InputError, match="No digit found"):
        preprocess_to_mnist(noise)
    plain = as_plain_image(noise)
    assert plain.shape == (28, 28) and plain.dtype == np.float32
    assert np.abs(plain - noise).max() <= 1 / 255 + 1e-6      # only the 8-bit rounding of the input


def test_the_plain_fallback_resizes_the_whole_picture_without_cropping_or_inverting():
    image = Image.new("L", (280, 140), 255)                    # white paper, a black left half
    ImageDraw.Draw(image).rectangle((0, 0, 139, 139), fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    plain = as_plain_image(buffer.getvalue(), "half.png")
    assert plain.shape == (28, 28)
    assert (plain[:, :14] == 0).all() and (plain[:, 14:] == 1).all()  # squeezed, not cropped, not inverted
    with pytest.raises(InputError, match="not an image"):
        as_plain_image(b"%PDF-1.4 ...", "slides.pdf")
