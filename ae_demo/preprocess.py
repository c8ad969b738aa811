"""Turn a drawing, an uploaded file or a webcam photo into a 28x28 MNIST-style digit.

There is one path for every upload and photo, modelled on how MNIST itself was made: the NIST digits were
white ink on black, size-normalised to fit a 20x20 box keeping their aspect ratio (anti-aliasing
gives the grey levels) and placed in a 28x28 field with their centre of mass at the centre.
Everything before that (decoding, EXIF orientation, transparency, bit depth, polarity, uneven
lighting, paper texture) exists to get real-world input to the point where those steps apply.

A drawing from the page's canvas is clean white on black already, so :func:`prepare_drawing` takes
it straight to the framing steps that every path shares (:func:`_frame`).

Every problem with the user's input comes out as :class:`InputError`, whose message says what was
wrong and what to do; any other exception escaping :func:`prepare_upload` or
:func:`preprocess_to_mnist` is a bug. This module must not import streamlit.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from .messages import Message, MessageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024     # also each picture uploader's max_upload_size (MB)
MAX_PIXELS = 40_000_000                 # refuse decoding above this (decompression bombs)

MIN_SIDE = 8            # smaller than this there is no digit to find
WORK_MAX_SIDE = 1024    # inputs are shrunk to this before the float work: plenty for a 20x20 result
RAW_MAX_SIDE = 512      # Prepared.raw is for display only
BOX = 20                # MNIST: the digit fits a 20x20 box ...
FIELD = 28              # ... inside a 28x28 field ...
CENTRE = 14.0           # ... with its centre of mass at row 14, column 14
MID = 80                # side of the intermediate raster where stroke width is measured (4x BOX)

# Pillow's `info` dict travels with an image through copy/transpose/convert, so decode_image uses it
# to hand its notes (e.g. "animated GIF: used the first frame") on to preprocess_to_mnist.
NOTES_KEY = "ae_demo.notes"


class InputError(MessageError, ValueError):
    """A problem with the user's input; str(error) is a message a user can act on (what was wrong, what to do).

    ``template``: the message in English with named placeholders, ``params`` their values, so that a page can
    show it in the visitor's language (``ui.i18n.error_text``); a message with no params is its own template.
    """


@dataclass(frozen=True)
class Prepared:
    """What one input became."""

    raw: Image.Image          # the input after EXIF orientation and transparency, RGB, longest side <= 512 px
    image: np.ndarray         # (28, 28) float32 in [0, 1], white ink on black: what the model sees
    notes: tuple[str, ...]    # human notes, e.g. "light background detected: inverted"


# --------------------------------------------------------------------------------------- decoding

# Signatures of files people do upload but Pillow cannot read, to say what to do instead.
_FOREIGN_FORMATS = (
    (b"%PDF", Message("a PDF document"), Message("export the page as PNG or JPEG")),
    (b"PK\x03\x04", Message("a ZIP archive (or an Office document)"), Message("upload one image file")),
    (b"\x1f\x8b", Message("a gzip-compressed file"), Message("unpack it and upload the image inside")),
)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")


def _size_text(n: int) -> Message:
    """Bytes as a human size, e.g. 12.3 MB."""
    return Message("{size:.1f} MB", size=n / 1024 / 1024) if n >= 1024 * 1024 else \
        Message("{size:.1f} KB", size=n / 1024)


def _unreadable(data: bytes, name: str) -> InputError:
    """Why Pillow could not identify ``data``, as specifically as the first bytes allow."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if name.lower().endswith((".svg", ".svgz")) or b"<svg" in head:
        return InputError("'{name}' is an SVG, a vector drawing with no pixels to read: "
                          "export it as PNG (most editors: File > Export) and upload that.", name=name)
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return InputError("'{name}' is a HEIC/HEIF/AVIF photo, which cannot be read here: save it as JPEG or PNG "
                          "(on an iPhone: Settings > Camera > Formats > Most Compatible) and upload that.", name=name)
    for magic, what, fix in _FOREIGN_FORMATS:
        if data.startswith(magic):
            return InputError("'{name}' is {what}, not an image: {fix}.", name=name, what=what, fix=fix)
    try:
        text = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c.isspace() for c in text):
        return InputError("'{name}' contains text, not an image: upload a PNG, JPEG, GIF, BMP, WebP or TIFF "
                          "picture of a digit.", name=name)
    return InputError("'{name}' is not an image format that can be read here: "
                      "upload a PNG, JPEG, GIF, BMP, WebP or TIFF picture of a digit.", name=name)


def _too_many_pixels(name: str, width: int, height: int) -> InputError:
    return InputError(
        "'{name}' is {width}x{height} pixels ({megapixels:.0f} megapixels), more than the {limit:.0f}-megapixel "
        "limit: scale it down (a digit needs no more than about 1000 pixels a side) and upload it again.",
        name=name, width=width, height=height, megapixels=width * height / 1e6, limit=MAX_PIXELS / 1e6)


def decode_image(data: bytes, name: str = "upload") -> Image.Image:
    """Bytes of an uploaded file -> a loaded PIL image (any mode; the first frame if animated).

    data: the file's bytes, at most MAX_UPLOAD_BYTES. name: the file name, used in messages.
    Notes about the decoding (animation, ...) ride along in ``image.info[NOTES_KEY]`` (a tuple of
    str) for :func:`preprocess_to_mnist`. Raises InputError for an empty, oversized, truncated or
    damaged file, a non-image (SVG, text, PDF, HEIC, ...) and a decompression bomb.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError("'{name}' could not be read as a file (got {type}): upload it again.", name=name,
                         type=type(data).__name__)
    data = bytes(data)
    if not data:
        raise InputError("'{name}' is empty (0 bytes): choose the image file again, or pick another one.", name=name)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError("'{name}' is {size}, more than the {limit} limit: scale the picture down or save it as "
                         "JPEG, then upload it again.", name=name, size=_size_text(len(data)),
                         limit=_size_text(MAX_UPLOAD_BYTES))
    notes: list[str] = []
    try:
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make the warning an error here.
        # (catch_warnings is process-wide, but the filter only ever makes this check stricter.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))       # reads the header only: no pixels yet
            width, height = image.size
            # The bomb check must come before load(): a few KB of PNG can inflate to gigabytes.
            if width * height > MAX_PIXELS:
                raise _too_many_pixels(name, width, height)
            frames = getattr(image, "n_frames", 1)
            if frames > 1:
                image.seek(0)
                if image.format in ("TIFF", "MPO"):
                    notes.append(Message("multi-page {format}: used the first page (of {frames})",
                                         format=image.format, frames=frames))
                else:
                    notes.append(Message("animated {format}: used the first frame (of {frames})",
                                         format=image.format, frames=frames))
            if image.format == "JPEG":
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still leaves WORK_MAX_SIDE:
                # a 12-megapixel photo then costs a fraction of the time and memory.
                image.draft(None, (WORK_MAX_SIDE, WORK_MAX_SIDE))
            image.load()                                # truncated or corrupt data fails here
            if frames > 1:
                image = image.copy()                    # detach the first frame from the sequence
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InputError("'{name}' declares an enormous picture ({error}); it is refused to protect the server: "
                         "scale it down and upload it again.", name=name, error=str(error)) from error
    except UnidentifiedImageError as error:
        raise _unreadable(data, name) from error
    except MemoryError as error:
        raise InputError("'{name}' is too large to decode: scale it down and upload it again.", name=name) from error
    except Exception as error:  # noqa: BLE001 - Pillow's plugins raise many types on malformed data
        raise InputError("'{name}' looks truncated or damaged ({error}): upload the complete file again, or open "
                         "and re-save it as PNG or JPEG.", name=name,
                         error=": ".join((type(error).__name__, str(error)))) from error
    image.info[NOTES_KEY] = tuple(notes)
    return image


# --------------------------------------------------------------------------- to an 8-bit image

def _check_size(width: int, height: int) -> None:
    """InputError unless both sides reach MIN_SIDE and the pixel count stays within MAX_PIXELS."""
    if min(width, height) < MIN_SIDE:
        if max(width, height) >= 4 * MIN_SIDE:
            raise InputError("The image is too thin ({width}x{height} pixels); use at least {side}x{side} pixels "
                             "with the digit clearly visible.", width=width, height=height, side=MIN_SIDE)
        raise InputError("The image is too small ({width}x{height} pixels); use at least {side}x{side} pixels "
                         "with the digit clearly visible.", width=width, height=height, side=MIN_SIDE)
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(Message("The image"), width, height)


def _array_to_pil(array: np.ndarray, notes: list[str]) -> Image.Image:
    """(H, W), (H, W, 1|2|3|4) array (uint8, bool, int or float) -> an L, LA, RGB or RGBA image.

    uint8 is taken as is; bools and values in [0, 1] are scaled by 255; other values within 0..255
    are taken as 8-bit levels; anything else (e.g. 16-bit data) is scaled by its real range to 0..255.
    """
    if array.dtype.kind not in "buif":
        raise InputError("An image array of type {dtype} cannot be used: pass uint8 or float pixels.",
                         dtype=str(array.dtype))
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (2, 3, 4))):
        raise InputError("An image array of shape {shape} cannot be used: pass (H, W) grey or (H, W, 3|4) RGB(A) "
                         "pixels.", shape=str(array.shape))
    _check_size(array.shape[1], array.shape[0])     # before min()/max(), which fail on empty arrays
    if array.dtype == np.uint8:
        levels = array
    elif array.dtype == np.bool_:
        levels = array.astype(np.uint8) * 255
    else:
        values = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(values.min()), float(values.max())
        if lo >= 0.0 and hi <= 1.0:      # floats in [0, 1], or a 0/1 integer mask
            values = values * 255.0
        elif not (lo >= 0.0 and hi <= 255.0):
            values = (values - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(values)
            notes.append(Message("values {lo:g}..{hi:g}: scaled to 8 bits", lo=lo, hi=hi))
        levels = np.round(values).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(levels))


def _high_bit_to_l(image: Image.Image, notes: list[str]) -> Image.Image:
    """A 16-bit, 32-bit or float (I;16*, I, F) image -> L, mapping its real min..max to 0..255.

    Such images (scanners, microscopes, exported 16-bit PNGs) rarely use their full range, and
    Pillow's own conversion to L clips at 255, which would turn most of them white.
    """
    mode = image.mode
    if mode.startswith("I;16"):
        image = image.convert("I")       # Pillow resamples I and F, not every I;16 variant
    width, height = image.size
    shrunk = _work_size(width, height)
    if shrunk != (width, height):
        image = image.resize(shrunk, Image.Resampling.BOX)
    values = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(values.min()), float(values.max())
    if mode.startswith("I;16") or (mode == "I" and lo >= 0 and hi < 65536):
        what = Message("16-bit image")
    else:
        what = Message("floating-point image") if mode == "F" else Message("32-bit image")
    notes.append(Message("{what}: scaled to 8 bits (its range {lo:g}..{hi:g} -> 0..255)", what=what, lo=lo, hi=hi))
    scaled = (values - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(values)
    return Image.fromarray(np.round(scaled).astype(np.uint8))


def _work_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) shrunk so the longest side is WORK_MAX_SIDE, keeping a usable short side."""
    longest, shortest = max(width, height), min(width, height)
    if longest <= WORK_MAX_SIDE:
        return width, height
    # Extreme aspect ratios would otherwise lose the short side entirely.
    scale = max(WORK_MAX_SIDE / longest, min(1.0, 4 * MIN_SIDE / shortest))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_8bit(image: Image.Image, notes: list[str]) -> Image.Image:
    """Any PIL mode -> L, RGB or RGBA (8 bits a channel), shrunk to the working size."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        return _high_bit_to_l(image, notes)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    target = "RGBA" if has_alpha else ("L" if image.mode in ("1", "L") else "RGB")
    try:
        image = image.convert(target)
    except (ValueError, OSError) as error:
        # Exotic modes Pillow cannot convert: its first band is lightness (LAB) or luma (YCbCr).
        try:
            image = image.getchannel(0).convert("L")
        except Exception:  # noqa: BLE001 - nothing else to try
            raise InputError("Pictures in colour mode {mode} cannot be used: save it as an ordinary RGB PNG or JPEG "
                             "and upload that.", mode=image.mode) from error
    shrunk = _work_size(*image.size)
    if shrunk != image.size:
        # BOX averages whole source pixels: proper anti-aliasing and the fastest way down.
        image = image.resize(shrunk, Image.Resampling.BOX)
    return image


# ------------------------------------------------------------------------------ pixel helpers

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)    # ITU-R 601, as Pillow's convert("L")


def _flatten_alpha(colour: np.ndarray, alpha: np.ndarray, notes: list[str]) -> np.ndarray:
    """Composite (H, W, C) colour in [0, 1] with (H, W) alpha in [0, 1] over a flat background.

    Alpha is coverage: where something was drawn. The background is chosen so that what was drawn
    stays visible: if the visible pixels carry their own contrast (a photo with a transparent
    surround) the surround takes their median, i.e. becomes paper; if they are one flat colour (a
    canvas stroke, or a digit drawn only in the alpha channel with RGB all 0) the surround takes
    the opposite brightness, so alpha itself becomes the ink.
    """
    luma = colour @ _LUMA if colour.shape[2] == 3 else colour[:, :, 0]
    visible = alpha > 0.5
    if not visible.any():
        visible = alpha > 0
    seen = luma[visible]
    if np.percentile(seen, 95) - np.percentile(seen, 5) > 0.25:
        background = float(np.median(seen))
        notes.append(Message("transparent surround: filled with the picture's background colour"))
    else:
        background = 1.0 if float(np.average(luma, weights=alpha)) < 0.5 else 0.0
        notes.append(Message("transparency: the drawn (opaque) pixels taken as the ink"))
    return colour * alpha[:, :, None] + background * (1.0 - alpha[:, :, None])


def _filter3(grid: np.ndarray, reduce) -> np.ndarray:
    """min or max over each 3x3 neighbourhood of a small 2-D array (edges replicated)."""
    padded = np.pad(grid, 1, mode="edge")
    h, w = grid.shape
    return reduce(np.stack([padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)]), axis=0)


def _background(gray: np.ndarray) -> np.ndarray:
    """Smooth estimate of the background of an (H, W) image whose ink is bright; same shape.

    The image is cut into about 8x8 cells; each cell's median is its background level (ink covers
    less than half of most cells), a 3x3 grey opening on that grid removes the cells that ink
    filled, and bilinear interpolation spreads the grid back out. Anything much smaller than ~1/4
    of the image (strokes, texture) is thus kept out of the estimate, while lighting gradients,
    shadows and the edge of the paper are in it and are subtracted.
    """
    h, w = gray.shape
    cell = int(np.ceil(max(h, w) / 8))
    cy, cx = min(cell, h), min(cell, w)
    gh, gw = -(-h // cy), -(-w // cx)
    padded = np.pad(gray, ((0, gh * cy - h), (0, gw * cx - w)), mode="edge")
    blocks = padded.reshape(gh, cy, gw, cx).transpose(0, 2, 1, 3).reshape(gh, gw, cy * cx)
    grid = np.median(blocks, axis=2).astype(np.float32)
    # Extend the grid by extrapolating linearly ("odd" reflection: 2 * edge - inner). The opening
    # then sees the lighting gradient continue past the edge, rather than a flat edge that would
    # make it underestimate the outer cells, and the half cell between the outer cell centres and
    # the image edge follows the gradient instead of staying flat. Either would leave a bright
    # rim in a dim corner.
    # Never extrapolate below the darkest cell, though: a cell that ink filled would reflect as a
    # negative background, and subtracting that would paint ghost ink along the edge.
    pads = [(2, 2) if n > 1 else (0, 0) for n in grid.shape]
    grid = np.maximum(np.pad(grid, pads, mode="reflect", reflect_type="odd"), grid.min())
    grid = _filter3(_filter3(grid, np.min), np.max)
    grid = grid[1:-1] if pads[0][0] else grid
    grid = grid[:, 1:-1] if pads[1][0] else grid
    oy, ox = (cy if pads[0][0] else 0), (cx if pads[1][0] else 0)
    spread = Image.fromarray(grid).resize((grid.shape[1] * cx, grid.shape[0] * cy), Image.Resampling.BILINEAR)
    return np.asarray(spread)[oy:oy + h, ox:ox + w]


def _otsu(values: np.ndarray) -> float | None:
    """Otsu's threshold of values in [0, 1] over 256 bins; None when they are all one level."""
    hist = np.bincount(np.clip(np.round(values * 255), 0, 255).astype(np.int64).ravel(), minlength=256)
    p = hist / hist.sum()
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * omega - mu) ** 2 / (omega * (1.0 - omega))
    between[~np.isfinite(between)] = -1.0
    k = int(np.argmax(between))
    return None if between[k] <= 0 else (k + 0.5) / 255.0


def _box_blur(a: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)-square window, twice (close to a Gaussian), via cumulative sums."""
    for _ in range(2):
        for axis in (0, 1):
            pad = [(0, 0), (0, 0)]
            pad[axis] = (radius + 1, radius)
            c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float64)
            n = a.shape[axis]
            hi = np.take(c, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
            lo = np.take(c, np.arange(0, n), axis=axis)
            a = ((hi - lo) / (2 * radius + 1)).astype(np.float32)
    return a


def _resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize a float (H, W) array to (height, width) without ringing.

    Shrinking uses BOX, i.e. area averaging: the anti-aliasing MNIST's normalisation did. Lanczos
    would add faint ghost lines two pixels off every stroke edge. Enlarging uses BILINEAR, smooth
    and likewise free of overshoot.
    """
    shrink = width <= a.shape[1] and height <= a.shape[0]
    method = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
    return np.array(Image.fromarray(a.astype(np.float32)).resize((width, height), method))


def _stroke_width(a: np.ndarray) -> float:
    """Mean stroke width in pixels of the ink (> half the max) in ``a``: 2 * area / perimeter."""
    mask = np.pad(a > 0.5 * a.max(), 1)
    perimeter = np.count_nonzero(np.diff(mask, axis=0)) + np.count_nonzero(np.diff(mask, axis=1))
    return 2.0 * np.count_nonzero(mask) / max(perimeter, 1)


def _dilate_disk(a: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation of ``a`` by a disk, the result padded by ``radius`` so nothing is cut."""
    p = np.pad(a, 2 * radius)
    h, w = a.shape[0] + 2 * radius, a.shape[1] + 2 * radius
    out = np.zeros((h, w), np.float32)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy * dy + dx * dx <= radius * radius + radius:   # + radius: a rounder small disk
                np.maximum(out, p[radius + dy:radius + dy + h, radius + dx:radius + dx + w], out=out)
    return out


# ----------------------------------------------------------------------------- the pipeline

def _frame(ink: np.ndarray, notes: list[str]) -> np.ndarray:
    """MNIST's framing: (H, W) ink in [0, 1] (0 = background) -> (28, 28) float32, the digit's bounding box
    fitted to 20x20 keeping its aspect ratio, its centre of mass at (14, 14). Raises InputError when
    there is no ink or only a speck; appends to ``notes`` when thin strokes are thickened."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise InputError("No digit found: the marks are too faint or too small. Draw or upload a larger, "
                         "darker digit.")
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    if max(crop.shape) < 4:
        # Blown up to 20x20, a speck would become a filled square that no model reads as a digit.
        raise InputError("No digit found, only a speck of {width}x{height} pixels: draw or upload a larger digit.",
                         width=crop.shape[1], height=crop.shape[0])

    # Stroke width is judged on an intermediate raster 4x the final size. MNIST's pen is about
    # 2-3 px in the 20 px box (9 px here); a fine pen photographed large comes out hairline-thin
    # at 20 px, so thicken strokes thinner than half that.
    ch, cw = crop.shape
    scale = MID / max(ch, cw)
    mid = _resize(crop, max(1, round(cw * scale)), max(1, round(ch * scale)))
    if mid.max() <= 0:
        raise InputError("No digit found: the marks are too faint or too small. Draw or upload a larger digit.")
    mid /= mid.max()
    width_px = _stroke_width(mid)
    if width_px < 4.5:
        mid = _dilate_disk(mid, max(1, round((9.0 - width_px) / 2)))
        notes.append(Message("thin strokes: thickened to MNIST's pen width"))

    # Fit the 20x20 box keeping the aspect ratio, then put the centre of mass at (14, 14).
    mh, mw = mid.shape
    scale = BOX / max(mh, mw)
    small = _resize(mid, max(1, round(mw * scale)), max(1, round(mh * scale)))
    small = np.clip(small / small.max(), 0.0, 1.0) if small.max() > 0 else small
    sh, sw = small.shape
    mass = small.sum()
    if mass <= 0:
        raise InputError("No digit found: the marks are too faint or too small. Draw or upload a larger digit.")
    ys, xs = np.indices(small.shape)
    cy, cx = float((ys * small).sum() / mass), float((xs * small).sum() / mass)
    # Shift by whole pixels as MNIST did (no resampling blur); clamp so nothing falls off the field.
    top = int(np.clip(round(CENTRE - cy), 0, FIELD - sh))
    left = int(np.clip(round(CENTRE - cx), 0, FIELD - sw))
    field = np.zeros((FIELD, FIELD), np.float32)
    field[top:top + sh, left:left + sw] = small
    return field


def preprocess_to_mnist(image: Image.Image | np.ndarray) -> Prepared:
    """Any image -> a :class:`Prepared` 28x28 MNIST-style digit, or InputError.

    image: a PIL image in any mode (1, L, LA, P, PA, RGB, RGBA, CMYK, YCbCr, I;16, I, F, ...), or
    an (H, W), (H, W, 1|2|3|4) array of uint8, bool, ints or floats (floats in [0, 1]), such as the
    (H, W, 4) uint8 RGBA image_data of streamlit-drawable-canvas.
    Returns Prepared(raw=display image, image=(28, 28) float32 in [0, 1], white on black, notes).
    Raises InputError when the image is too small, blank, fully transparent or shows no digit.
    """
    notes: list[str] = []
    if isinstance(image, np.ndarray):
        pil = _array_to_pil(image, notes)
    elif isinstance(image, Image.Image):
        notes.extend(image.info.get(NOTES_KEY, ()))
        _check_size(*image.size)
        try:
            image.load()          # a lazily opened file fails here if it is damaged
        except Exception as error:  # noqa: BLE001 - Pillow's plugins raise many types on bad data
            raise InputError("The image could not be read ({error}): re-save it as PNG or JPEG and try again.",
                             error=": ".join((type(error).__name__, str(error)))) from error
        try:
            orientation = image.getexif().get(0x0112, 1)
            pil = ImageOps.exif_transpose(image)
        except Exception:  # noqa: BLE001 - malformed EXIF: the pixels themselves are fine
            orientation, pil = 1, image
            notes.append(Message("unreadable EXIF data: orientation left as stored"))
        if orientation in (2, 3, 4, 5, 6, 7, 8):
            notes.append(Message("EXIF orientation applied (photo turned upright)"))
    else:
        raise InputError("Cannot use a {type} as an image: pass a picture or a pixel array.",
                         type=type(image).__name__)

    pil = _to_8bit(pil, notes)
    pixels = np.asarray(pil, dtype=np.float32) / 255.0
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    colour = pixels[:, :, :3] if pixels.shape[2] >= 3 else pixels[:, :, :1]
    if pixels.shape[2] in (2, 4):
        alpha = pixels[:, :, -1]
        if alpha.max() == 0:
            raise InputError("The image is fully transparent (nothing is drawn): draw or upload a digit.")
        if alpha.min() < 1.0:    # fully opaque alpha says nothing: ignore it
            colour = _flatten_alpha(colour, alpha, notes)

    shown = np.round(np.clip(colour, 0.0, 1.0) * 255).astype(np.uint8)
    raw = Image.fromarray(shown[:, :, 0] if shown.shape[2] == 1 else shown).convert("RGB")
    raw.thumbnail((RAW_MAX_SIDE, RAW_MAX_SIDE), Image.Resampling.LANCZOS)

    gray = colour @ _LUMA if colour.shape[2] == 3 else colour[:, :, 0]
    if float(gray.max() - gray.min()) < 4 / 255:
        raise InputError("The image is blank (one flat colour): draw or upload a digit.")

    # Polarity. MNIST is white ink on black. The background level is the median of the border (a
    # digit rarely fills the frame); the ink lies on the side of it with the longer tail. That,
    # unlike "is the background brighter than 0.5", also handles a dim photo of white paper.
    h, w = gray.shape
    b = max(1, round(0.03 * min(h, w)))
    border = np.concatenate([gray[:b].ravel(), gray[-b:].ravel(), gray[:, :b].ravel(), gray[:, -b:].ravel()])
    level = float(np.median(border))
    dark_tail = level - float(np.percentile(gray, 0.2))
    light_tail = float(np.percentile(gray, 99.8)) - level
    dark_ink = dark_tail > light_tail if abs(dark_tail - light_tail) > 0.05 else level > 0.5
    if dark_ink:
        gray = 1.0 - gray
        notes.append(Message("light background detected: inverted"))

    # Uneven lighting, shadows, paper edges: subtract a smooth background estimate.
    ink = np.clip(gray - _background(gray), 0.0, 1.0)

    # Is there anything on the page beyond noise? Judge on a blurred copy: blurring shrinks noise
    # and paper grain several-fold but leaves pen strokes, which are wider than a few pixels here.
    radius = max(1, round(max(h, w) / 400))
    smooth = _box_blur(ink, radius)
    centre = float(np.median(smooth))
    spread = 1.4826 * float(np.median(np.abs(smooth - centre)))     # robust standard deviation
    # ... and the marks must stand out against the picture's own range of tones (robust
    # percentiles), so that what is left of a vignette or a shadow is not taken for a digit.
    tones = float(np.percentile(gray, 99.5) - np.percentile(gray, 0.5))
    if float(smooth.max()) - centre < max(8.0 * spread, 0.06 * tones, 0.02):
        raise InputError("No digit found: the image has no clear marks, only a flat background or noise. "
                         "Draw or photograph a digit with dark ink on light paper (or light on dark), "
                         "filling a good part of the picture.")

    # Soft threshold: Otsu splits ink from background; everything up to a little above the
    # background's noise (mean + 3 sd, never above Otsu's level) goes to 0, and the typical ink
    # level (90th percentile of the ink) goes to 1, as MNIST's saturated strokes.
    threshold = _otsu(ink)
    if threshold is None:
        raise InputError("No digit found: draw or upload a digit with clear contrast.")
    is_ink = ink > threshold
    rest = ink[~is_ink]
    low = min(threshold, float(rest.mean() + 3.0 * rest.std())) if rest.size else 0.0
    high = max(float(np.percentile(ink[is_ink], 90)), low + 1e-3)
    ink = np.clip((ink - low) / (high - low), 0.0, 1.0)
    # Keep only marks with some extent (the blurred image clears half Otsu's level) plus a pixel
    # of fringe: isolated noise pixels would otherwise stretch the bounding box.
    support = Image.fromarray(((smooth > threshold / 2) * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(3))
    ink = ink * (np.asarray(support) > 0)
    return Prepared(raw=raw, image=_frame(ink, notes), notes=tuple(notes))


def prepare_drawing(data: bytes) -> Prepared:
    """The canvas's PNG (white strokes on black, or on transparent) -> Prepared, as a drawing needs.

    A drawing is already what the real-world steps of :func:`preprocess_to_mnist` work towards:
    light ink on a dark, clean, even background. So it skips polarity, background removal, the
    noise test and the soft threshold (most of a stroke's preprocessing on the server) and goes straight to
    MNIST's framing (:func:`_frame`), which both share. Raises InputError for an empty canvas.
    """
    image = decode_image(data, "drawing")
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    ink = (rgba[:, :, :3] @ _LUMA) * rgba[:, :, 3]   # composited over black: a transparent canvas is black
    if float(ink.max()) < 0.05:
        raise InputError("The canvas is empty: draw a digit.")
    raw = Image.fromarray(np.round(ink * 255).astype(np.uint8)).convert("RGB")
    raw.thumbnail((RAW_MAX_SIDE, RAW_MAX_SIDE), Image.Resampling.LANCZOS)
    notes: list[str] = []
    ink = np.where(ink > 0.02, ink, 0.0)   # the faintest anti-aliasing fringe would only widen the box
    return Prepared(raw=raw, image=_frame(ink, notes), notes=tuple(notes))


def prepare_upload(data: bytes, name: str) -> Prepared:
    """Bytes of an uploaded file -> Prepared (decode_image + preprocess_to_mnist); raises only InputError."""
    return preprocess_to_mnist(decode_image(data, name))


def _source_picture(source: bytes | np.ndarray | Image.Image, name: str, notes: list[str],
                    upright: bool) -> Image.Image:
    """A file's bytes (decoded by :func:`decode_image`), a pixel array or a PIL image, as one PIL image.

    ``upright``: the picture (decoded from bytes or given) is turned upright by its EXIF orientation.
    Raises InputError for what is no picture, or one too small or too large.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = decode_image(bytes(source), name)
    if isinstance(source, np.ndarray):
        return _array_to_pil(source, notes)
    if not isinstance(source, Image.Image):
        raise InputError("Cannot use a {type} as an image: pass a picture or a pixel array.",
                         type=type(source).__name__)
    _check_size(*source.size)
    if not upright:
        return source
    try:
        return ImageOps.exif_transpose(source)
    except Exception:  # noqa: BLE001 - malformed EXIF: the pixels themselves are fine
        return source


def as_plain_image(source: bytes | np.ndarray | Image.Image, name: str = "upload") -> np.ndarray:
    """The fallback for an input that is no drawing: grayscale, the whole picture resized to 28x28.

    source: a file's bytes, a PIL image or an array, as :func:`decode_image` and
    :func:`preprocess_to_mnist` take them. Returns (28, 28) float32 in [0, 1]: no inversion,
    no background removal, no cropping to the ink and no centring, the aspect ratio not kept.
    For inputs that :func:`preprocess_to_mnist` refuses (pure noise shows "no digit") but that
    still need an answer, such as how unusual they are. Raises InputError only for what
    cannot be read as a picture at all (not an image, too small, empty).
    """
    notes: list[str] = []
    pil = _source_picture(source, name, notes, upright=False)
    gray = np.asarray(_to_8bit(pil, notes).convert("L"), dtype=np.float32) / 255.0
    return np.clip(_resize(gray, FIELD, FIELD), 0.0, 1.0).astype(np.float32)


def as_dataset_picture(source: bytes | np.ndarray | Image.Image, size: int, colour: bool,
                       name: str = "upload") -> np.ndarray:
    """A picture as a teacher's own dataset holds it: (C, size, size) float32 in [0, 1], C = 3 or 1.

    The framing of ``image_sets``: upright by EXIF, 8 bits a channel (CMYK, 16-bit and palette
    pictures converted as for every upload), transparency flattened, the largest centred square
    cut out (as torchvision's ``Resize`` + ``CenterCrop``) and resized to ``size``; grey is
    ITU-R 601 luma. No inversion, no cropping to ink: a photo stays a photo. Drawings and
    uploads on such a dataset go through here too, so they are framed as its pictures were.
    Raises InputError for what cannot be read as a picture (not an image, too small, empty).
    """
    notes: list[str] = []
    pil = _source_picture(source, name, notes, upright=True)
    pixels = np.asarray(_to_8bit(pil, notes), dtype=np.float32) / 255.0
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    rgb = pixels[:, :, :3] if pixels.shape[2] >= 3 else np.repeat(pixels[:, :, :1], 3, axis=2)
    if pixels.shape[2] in (2, 4):
        alpha = pixels[:, :, -1]
        if alpha.max() == 0:
            raise InputError("'{name}' is fully transparent: nothing is drawn on it.", name=name)
        if alpha.min() < 1.0:
            rgb = _flatten_alpha(rgb, alpha, notes)
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = rgb[top:top + side, left:left + side]
    planes = [square @ _LUMA] if not colour else [square[:, :, c] for c in range(3)]
    return np.clip(np.stack([_resize(p, size, size) for p in planes]), 0.0, 1.0).astype(np.float32)
