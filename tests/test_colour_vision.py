"""Colour that every student can read: the class colours stay apart under colour-vision deficiency, the error
heatmap's colours keep their order, and the page's text keeps 4.5:1 contrast in both themes.

Simulation: Machado, Oliveira & Fernandes 2009 at severity 100 (full dichromacy), as colorspacious implements it.
Distance: CIEDE2000 (colour-science's implementation) between the simulated colours in CIELab (D65).
"""
from __future__ import annotations

import itertools
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest

with warnings.catch_warnings():   # colour-science warns that matplotlib, which it does not need here, is absent
    warnings.simplefilter("ignore")
    import colour
from colorspacious import cspace_convert

from ae_demo.display import ERROR_COLOURS
from ui import presentation
from ui.theme import BACKGROUND, CLASS_COLOURS

ROOT = Path(__file__).resolve().parents[1]
DEFICIENCIES = {"deuteranopia": "deuteranomaly", "protanopia": "protanomaly", "tritanopia": "tritanomaly"}

# The smallest CIEDE2000 distance any two class colours may have, with normal vision and after each simulation.
# 1 is about the least difference seen between two large patches side by side; the map's points are a few
# pixels wide, and the smaller a mark the larger the difference it needs to be told apart (Stone, Szafir &
# Setlur 2014, "An engineering model for color difference as a function of size"). 10 leaves that margin
# several times over. Plotly's D3 palette, used before, measured 1.3 (orange against green, protanopia).
MIN_DELTA_E00 = 10.0


def _srgb1(hex_colours) -> np.ndarray:
    """('#rrggbb', ...) -> (N, 3) sRGB in [0, 1]."""
    return np.array([[int(h.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)] for h in hex_colours])


def _seen_as(rgb: np.ndarray, deficiency: str | None) -> np.ndarray:
    """(N, 3) sRGB in [0, 1] -> (N, 3) CIELab as seen with ``deficiency`` (None: normal vision)."""
    if deficiency is not None:
        cvd = {"name": "sRGB1+CVD", "cvd_type": DEFICIENCIES[deficiency], "severity": 100}
        rgb = np.clip(cspace_convert(rgb, cvd, "sRGB1"), 0, 1)
    return cspace_convert(rgb, "sRGB1", "CIELab")


def smallest_distance(hex_colours, deficiency: str | None) -> tuple[float, tuple[str, str]]:
    """The smallest pairwise CIEDE2000 distance among the colours as seen with ``deficiency``, and that pair."""
    lab = _seen_as(_srgb1(hex_colours), deficiency)
    return min((float(colour.delta_E(lab[i], lab[j], method="CIE 2000")), (hex_colours[i], hex_colours[j]))
               for i, j in itertools.combinations(range(len(hex_colours)), 2))


@pytest.mark.parametrize("deficiency", [None, *DEFICIENCIES])
def test_the_ten_class_colours_stay_apart(deficiency):
    assert len(set(CLASS_COLOURS)) == 10
    distance, pair = smallest_distance(CLASS_COLOURS, deficiency)
    assert distance >= MIN_DELTA_E00, f"{pair} are {distance:.1f} apart (CIEDE2000) for {deficiency or 'normal vision'}"


def test_the_threshold_rejects_the_palette_it_replaced():
    d3 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
    assert smallest_distance(d3, "protanopia")[0] < MIN_DELTA_E00


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB in [0, 1] -> relative luminance (WCAG 2.1)."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def contrast(a: np.ndarray, b: np.ndarray) -> float:
    """WCAG contrast ratio of two sRGB colours in [0, 1]."""
    high, low = sorted((float(_luminance(a)), float(_luminance(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_class_colour_stands_out_from_the_map_background():
    background = _srgb1([BACKGROUND])[0]     # the pictures' background
    for hex_colour, rgb in zip(CLASS_COLOURS, _srgb1(CLASS_COLOURS)):
        assert contrast(rgb, background) >= 3.0, hex_colour        # WCAG 1.4.11, non-text contrast


@pytest.mark.parametrize("deficiency", [None, *DEFICIENCIES])
def test_the_error_colours_grow_lighter_with_the_error_for_every_eye(deficiency):
    lightness = _seen_as(ERROR_COLOURS / 255, deficiency)[:, 0]
    assert (np.diff(lightness) > 3).all(), lightness.round(1)


def _theme() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]


def _presented(rgb: np.ndarray) -> np.ndarray:
    """What presentation mode's ``filter: invert(1) hue-rotate(180deg)`` makes of an sRGB colour in [0, 1]
    (the filter matrices of the CSS Filter Effects spec, applied in sRGB as browsers do)."""
    inverted = 1 - rgb
    cos, sin = np.cos(np.pi), np.sin(np.pi)
    rotate = (np.array([[.213, .715, .072]] * 3)
              + cos * np.array([[.787, -.715, -.072], [-.213, .285, -.072], [-.213, -.715, .928]])
              + sin * np.array([[-.213, -.715, .928], [.143, .140, -.283], [-.787, .715, .072]]))
    return np.clip(rotate @ inverted, 0, 1)


@pytest.mark.parametrize("presented", [False, True], ids=["dark page", "presentation's light page"])
def test_text_keeps_4_5_to_1_contrast_in_both_themes(presented):
    theme = _theme()
    assert "invert(1) hue-rotate(180deg)" in presentation._CSS
    look = _presented if presented else (lambda rgb: rgb)
    text, background, panel = (look(_srgb1([theme[k]])[0])
                               for k in ("textColor", "backgroundColor", "secondaryBackgroundColor"))
    assert contrast(text, background) >= 4.5 and contrast(text, panel) >= 4.5
    # Streamlit draws captions and help in the text colour at 60 % opacity
    caption = 0.6 * _srgb1([theme["textColor"]])[0] + 0.4 * _srgb1([theme["backgroundColor"]])[0]
    assert contrast(look(caption), background) >= 4.5
