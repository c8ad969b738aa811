"""The page's look: every colour and size that more than one module uses, named for its role.

A section module keeps a colour or a size of its own only when nothing else uses it. The
drawing helpers of ``ae_demo.display`` take their colours as arguments; the page passes these.
"""
from __future__ import annotations

# --- colours ---------------------------------------------------------------------------------

BACKGROUND = "#0e1117"   # the dark theme's page (.streamlit/config.toml's backgroundColor): pictures sit on it
HIGHLIGHT = "#ffd21f"    # the current input and what it lights up: its star, its units, the code
OTHER_STAR = "#ffffff"   # the other inputs' stars
STAR_OUTLINE = "#000000"
STAR_COLOURS = (HIGHLIGHT, OTHER_STAR)   # the current input's star, the others'
BLUE = "#4c9be8"         # the convolutional net, the encoder, a chart's main curve
GREEN = "#2bb673"        # the denoising net, the decoder
RED = "#e8554e"          # PCA, and a chart's target or threshold line
GREY = "#7f7f7f"         # a reference line a curve is compared with: the noisy input itself, the lowest loss
FOCUS_RING = HIGHLIGHT   # the keyboard focus's outline: 3:1 and more on the dark page and on every picture edge
SLIDER_VALUE = "#ff7a70"  # a slider's value over its thumb: Streamlit's red measures 4.09:1 on BACKGROUND, this 7.4:1

# Ten colours, one per class, the same on every map of the app: Petroff's ten-colour sequence (Petroff 2021,
# "Accessible Color Sequences for Data Visualization"; matplotlib's "petroff10"), chosen to stay apart under
# colour-vision deficiency, with its purple lightened from #832db6 so that every colour has 3:1 contrast with
# the dark map background (WCAG 1.4.11). Plotly's D3 palette before it made orange and green one colour under
# protanopia. tests/test_colour_vision.py measures the distances after simulation.
CLASS_COLOURS = ("#3f90da", "#ffa90e", "#bd1f01", "#94a4a2", "#8f3ac2",
                 "#a96b59", "#e76300", "#b9ac70", "#717581", "#92dadd")

# One colour per model family, on the error chart and its stars.
FAMILY_COLOURS = {"conv": BLUE, "dense": "#f5a623", "vae": "#b36ae2", "dae": GREEN, "pca": RED}

# --- sizes -------------------------------------------------------------------------------------

MAIN_MAP_PX = 720        # the main map's picture, and the widest the page shows it (rerun's CSS)


def chart_margin(top: int = 10) -> dict:
    """Plotly margins of the page's charts: tight on three sides, ``top`` px for a title."""
    return dict(l=10, r=10, t=top, b=10)
