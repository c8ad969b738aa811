"""Turning 28x28 arrays into pictures people can see from the back of a room."""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from plotly.colors import hex_to_rgb, sequential

# Per-pixel error colours: cividis, dark blue (0) -> grey -> yellow (1), a map made perceptually uniform and
# readable with colour-vision deficiency (Nuñez et al. 2018, PLOS ONE); Plotly's ten stops of it, interpolated.
ERROR_COLOURS = np.array([hex_to_rgb(c) for c in sequential.Cividis], dtype=np.float32)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """float in [0, 1] -> uint8 0..255, rounded; uint8 as it is."""
    return image if image.dtype == np.uint8 else (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


def enlarge(image: np.ndarray, scale: int = 4) -> np.ndarray:
    """(28, 28) float in [0, 1] (or (28, 28, 3) uint8) -> uint8 scaled up by ``scale`` with hard pixel edges.

    Browsers blur a small image they stretch; repeating pixels here keeps the digits crisp.
    """
    return _to_uint8(image).repeat(scale, axis=0).repeat(scale, axis=1)


def png_bytes(image: np.ndarray) -> bytes:
    """(H, W) float in [0, 1] or (H, W) / (H, W, 3) uint8 -> the bytes of a PNG file of it."""
    buffer = io.BytesIO()
    Image.fromarray(_to_uint8(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_uri(image: np.ndarray) -> str:
    """(H, W) float in [0, 1] or (H, W) / (H, W, 3) uint8 -> a ``data:image/png;base64,...`` URI.

    An image inline in the page costs the browser no request of its own: the ladder's
    fourteen pictures arrive with the page update that names them.
    """
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode()


class InlinePictures:
    """A fixed stack of images, (N, H, W), as inline PNGs, each encoded the first time it is asked for.

    For pictures a page shows a changing few of (the nearest neighbours of every stroke): one
    lookup each instead of a cache call each. Safe to share between threads: two that ask for
    the same new picture at once both encode it and store the same string.
    """

    def __init__(self, images: np.ndarray):
        self._images = images
        self._uris: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._images)

    def uri(self, index: int) -> str:
        """The ``data:image/png;base64,...`` URI of image ``index``."""
        uri = self._uris.get(index)
        if uri is None:
            uri = self._uris[index] = png_data_uri(self._images[index])
        return uri


def error_heatmap(reconstruction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(28, 28), (28, 28) in [0, 1] -> (28, 28, 3) uint8: absolute error per pixel in ``ERROR_COLOURS``
    (dark blue: exact, yellow: wrong by the whole range)."""
    error = np.clip(np.abs(reconstruction - target), 0, 1) * (len(ERROR_COLOURS) - 1)
    low = np.minimum(error.astype(int), len(ERROR_COLOURS) - 2)
    frac = (error - low)[..., None]
    return ((1 - frac) * ERROR_COLOURS[low] + frac * ERROR_COLOURS[low + 1] + 0.5).astype(np.uint8)


def image_strip(images: np.ndarray, gap: int = 2) -> np.ndarray:
    """(N, H, W) float in [0, 1] -> (H, N*W + (N-1)*gap) uint8, side by side with dark gaps."""
    n, h, w = images.shape
    strip = np.full((h, n * w + (n - 1) * gap), 40, np.uint8)
    for i, image in enumerate(images):
        strip[:, i * (w + gap): i * (w + gap) + w] = _to_uint8(image)
    return strip


def _rgb(colour: str) -> tuple[int, int, int]:
    """'#1f77b4' -> (31, 119, 180)."""
    return tuple(int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))


def _star(x: float, y: float, radius: float) -> list[tuple[float, float]]:
    """The ten corners of a five-pointed star centred on (x, y), point up, in pixels."""
    angles = np.pi / 2 + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, radius, radius * 0.45)
    return list(zip(x + radii * np.cos(angles), y - radii * np.sin(angles)))


def _to_pixels(points: np.ndarray, centre: np.ndarray, scale: float, size: int) -> np.ndarray:
    """(M, 2) map units -> (M, 2) pixel x, y of a size x size picture centred on ``centre``; y flips."""
    xy = (np.asarray(points, np.float64).reshape(-1, 2) - centre) * scale
    return np.stack([size / 2 + xy[:, 0], size / 2 - xy[:, 1]], 1)


@dataclass(frozen=True)
class MapPicture:
    """A map drawn once as a picture; ``stars_svg`` draws inputs on it (an overlay, the picture untouched).

    A picture costs the browser one image where a chart of thousands of points costs it a
    redraw on every update, so the small maps beside the main one are pictures.
    """

    pixels: np.ndarray    # (size, size, 3) uint8
    centre: np.ndarray    # (2,) map units at the picture's centre
    scale: float          # pixels per map unit
    class_centres: tuple[tuple[int, float, float], ...] = ()   # (class, x, y): each class's median, in pixels

    @classmethod
    def draw(cls, coords: np.ndarray, labels: np.ndarray, class_colours: tuple[str, ...], *, background: str,
             size: int = 360, point_radius: float = 1.8) -> "MapPicture":
        """(N, 2) positions in map units, coloured by their (N,) class; one scale for both axes
        (the larger span fits, with a 4 % margin), y pointing up as on the interactive map.

        ``class_centres``: where each class's name goes (its median position), so that a page can write it there
        as text, in its visitor's language, and a class can be told by its name as well as by its colour
        (colour-vision deficiency, grey print)."""
        coords = np.asarray(coords, np.float64)
        labels = np.asarray(labels)
        low, high = coords.min(0), coords.max(0)
        centre, scale = (low + high) / 2, (1 - 2 * 0.04) * size / max(float((high - low).max()), 1e-9)
        image = Image.new("RGB", (size, size), _rgb(background))
        draw = ImageDraw.Draw(image)
        palette = [_rgb(c) for c in class_colours]
        r = point_radius
        for (x, y), label in zip(_to_pixels(coords, centre, scale, size), labels):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=palette[int(label) % len(palette)])
        centres = []
        for label in np.unique(labels):
            (x, y), = _to_pixels(np.median(coords[labels == label], 0), centre, scale, size)
            centres.append((int(label), float(x), float(y)))
        return cls(np.asarray(image), centre, scale, tuple(centres))

    def to_pixels(self, points: np.ndarray) -> np.ndarray:
        """(M, 2) map units -> (M, 2) pixel x, y (y down, as images count)."""
        return _to_pixels(points, self.centre, self.scale, self.pixels.shape[0])

    def star_positions(self, stars: np.ndarray) -> list[tuple[float, float, float]]:
        """(M, 2) map positions -> (x, y, radius) in pixels for each star, kept inside the picture;
        the last (the current input) larger."""
        size = self.pixels.shape[0]
        spots = np.clip(self.to_pixels(stars), 0.03 * size, 0.97 * size)
        return [(float(x), float(y), size * (0.045 if i == len(spots) - 1 else 0.03)) for i, (x, y) in enumerate(spots)]

    def stars_svg(self, stars: np.ndarray, colours: tuple[str, str], outline: str) -> str:
        """An SVG of the picture's size with a star on each of (M, 2) map positions, to lay over the picture:
        the picture is encoded once per server, and each input costs a few hundred bytes of SVG.
        ``colours``: (the last star's, the current input's; the others'), each outlined in ``outline``."""
        size = self.pixels.shape[0]
        shapes = []
        for i, (x, y, radius) in enumerate(self.star_positions(stars)):
            colour = colours[0] if i == len(stars) - 1 else colours[1]
            corners = " ".join(f"{px:.1f},{py:.1f}" for px, py in _star(x, y, radius))
            shapes.append(f'<polygon points="{corners}" fill="{colour}" stroke="{outline}" stroke-width="2"/>')
        return (f'<svg viewBox="0 0 {size} {size}" xmlns="http://www.w3.org/2000/svg" '
                f'aria-hidden="true">{"".join(shapes)}</svg>')


def app_icon(encoder: str, code: str, decoder: str, size: int = 64) -> Image.Image:
    """The page's icon, drawn here so the page asks no font or icon server for one: an
    autoencoder's silhouette, wide (input) -> narrow (the code) -> wide (reconstruction), in these colours."""
    picture = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    s, waist = size / 64, size / 2
    draw.polygon([(4 * s, 6 * s), (28 * s, 26 * s), (28 * s, 38 * s), (4 * s, 58 * s)], fill=_rgb(encoder))
    draw.polygon([(60 * s, 6 * s), (36 * s, 26 * s), (36 * s, 38 * s), (60 * s, 58 * s)], fill=_rgb(decoder))
    draw.rectangle([(28 * s, waist - 6 * s), (36 * s, waist + 6 * s)], fill=_rgb(code))
    return picture


def feature_mosaic(maps: np.ndarray, channels: int = 8, columns: int = 4, gap: int = 1) -> np.ndarray:
    """(C, H, W) feature maps -> (rows*H + gaps, columns*W + gaps) uint8: the first ``channels``,
    each stretched to its own min..max (black = its lowest value, white = its highest)."""
    maps = np.asarray(maps, np.float32)[:channels]
    n, h, w = maps.shape
    rows = -(-n // columns)
    low = maps.reshape(n, -1).min(1)[:, None, None]
    high = maps.reshape(n, -1).max(1)[:, None, None]
    scaled = (maps - low) / np.maximum(high - low, 1e-8)
    mosaic = np.full((rows * h + (rows - 1) * gap, columns * w + (columns - 1) * gap), 60, np.uint8)
    for i, tile in enumerate(scaled):
        r, c = divmod(i, columns)
        mosaic[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = _to_uint8(tile)
    return mosaic


def bars_picture(values: np.ndarray, *, colour: str, background: str, width: int = 224, height: int = 112
                 ) -> np.ndarray:
    """(N,) numbers -> (height, width, 3) uint8 bar chart around a zero line (up: positive); for
    N beyond the picture's width, the bars are a column of pixels each."""
    values = np.asarray(values, np.float32)
    image = Image.new("RGB", (width, height), _rgb(background))
    draw = ImageDraw.Draw(image)
    top = max(float(np.abs(values).max()), 1e-8)
    zero = height / 2 if (values < 0).any() else height - 2
    span = zero - 2
    step = width / len(values)
    for i, v in enumerate(values):
        x0, x1 = i * step, max(i * step + 0.5, (i + 1) * step - (1 if step > 3 else 0))
        y = zero - span * float(v) / top
        draw.rectangle((x0, min(y, zero), x1, max(y, zero)), fill=_rgb(colour))
    draw.line((0, zero, width, zero), fill=(120, 120, 120))
    return np.asarray(image)


def tile_grid(tiles: np.ndarray, columns: int, highlight: dict[int, str] | None = None, gap: int = 2,
              scale: int = 1) -> np.ndarray:
    """(N, H, W) tiles -> (rows*(H+gap)+gap, columns*(W+gap)+gap, 3) uint8, each tile stretched to its
    own min..max (black lowest, white highest); ``highlight``: tile index -> colour of a frame around it."""
    tiles = np.asarray(tiles, np.float32)
    n, h, w = tiles.shape
    rows = -(-n // columns)
    low = tiles.reshape(n, -1).min(1)[:, None, None]
    high = tiles.reshape(n, -1).max(1)[:, None, None]
    grey = _to_uint8((tiles - low) / np.maximum(high - low, 1e-8))
    grid = np.full((rows * (h + gap) + gap, columns * (w + gap) + gap, 3), 40, np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        y, x = gap + r * (h + gap), gap + c * (w + gap)
        if highlight and i in highlight:
            grid[y - gap:y + h + gap, x - gap:x + w + gap] = _rgb(highlight[i])
        grid[y:y + h, x:x + w] = grey[i][..., None]
    return grid.repeat(scale, 0).repeat(scale, 1) if scale > 1 else grid
