"""The page's own CSS: how pictures scale, the grids of figures, the maps' frames, what hides and what waits."""
from __future__ import annotations

import streamlit as st

from . import rerun, theme


def page_style() -> None:
    """28x28 images are sent as they are and scaled up by the browser with hard pixel edges:
    sharper than a blurred stretch, and 16x less to encode and send than pre-enlarged PNGs.
    The ladder is a grid of figures (``ui.pictures``); the rerun timers (``ui.rerun``) take no room;
    what is below the ladder is laid out only when scrolled to."""
    hidden = ", ".join(f".st-key-{key}" for key in rerun.TIMER_KEYS)
    # .ae-ladder: the ladder; .ae-strip: other rows of pictures (the neighbours); .ae-input: the current input
    grids = ".ae-ladder, .ae-strip, .ae-input"
    st.html("<style>.stImage img, [data-testid='stImage'] img, .ae-ladder img, .ae-strip img, .ae-input img,"
            " .ae-network img { image-rendering: pixelated; }"
            ".ae-input .ae-raw img { image-rendering: auto; }"
            f"{grids} {{ display: grid; grid-template-columns: repeat(var(--cells), minmax(0, 1fr)); gap: 1rem; }}"
            ".ae-ladder figure, .ae-strip figure, .ae-input figure { margin: 0; }"
            f"{grids} {{ list-style: none; padding: 0; margin: 0 0 1rem 0; }}"
            ".ae-ladder img, .ae-strip img, .ae-input img { width: 100%; display: block; }"
            ".ae-ladder .ae-title { font-weight: 600; margin-bottom: 0.25rem; }"
            ".ae-detail { font-size: 0.875rem; opacity: 0.65; margin-top: 0.25rem; }"
            ".ae-map { margin: 0; } .ae-map-frame { position: relative; overflow: hidden; }"
            " .ae-map img { width: 100%; display: block; }"
            ".ae-map img.ae-stars { position: absolute; inset: 0; height: 100%; pointer-events: none; }"
            # a class's name at its centre, white on a dark outline as the map's dots are on its dark background
            ".ae-map-label { position: absolute; transform: translate(-50%, -50%); pointer-events: none;"
            " color: #ffffff; font-weight: 600; font-size: 0.9rem; line-height: 1; white-space: nowrap;"
            f" text-shadow: 0 0 2px {theme.BACKGROUND}, 0 0 3px {theme.BACKGROUND}, 0 0 4px {theme.BACKGROUND}; }}"
            ".ae-map:not(.ae-main-map) .ae-map-label { font-size: 0.75rem; }"
            f".ae-main-map {{ max-width: {theme.MAIN_MAP_PX}px; }}"
            " .ae-legend { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem;"
            " margin-top: 0.5rem; font-size: 0.875rem; } .ae-key i { display: inline-block; width: 0.7rem;"
            f" height: 0.7rem; border-radius: 50%; margin-right: 0.35rem; }} .ae-star-key {{ color: {theme.HIGHLIGHT};"
            " margin-right: 0.35rem; }"
            ".ae-network { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }"
            ".ae-network figure { margin: 0; width: 150px; } .ae-network img { width: 100%; display: block; }"
            ".ae-network .ae-title { font-weight: 600; } .ae-arrow { font-size: 1.5rem; opacity: 0.6; }"
            # a phone: the ladder's pictures wrap in rows of three or four instead of shrinking to a sliver
            "@media (max-width: 640px) { .ae-ladder, .ae-strip { grid-template-columns: repeat(auto-fill, minmax(96px, 1fr)); }"
            " .ae-network figure { width: 44vw; } }"
            # the canvas's undo/redo/clear icons show above its top edge while the pointer is over it: room for
            # them, so that they do not cover the input tabs' labels
            ".st-key-draw_canvas { margin-top: 1.75rem; }"
            # sections a tour scrolls to are not hidden under Streamlit's header
            "[class*='st-key-'] { scroll-margin-top: 4.5rem; }"
            f"{hidden} {{ display: none; }}"
            # every student: a focus ring that shows on any background (WCAG 2.4.7); the slider's value in a
            # red with 4.5:1 on the dark page (Streamlit's own measures 4.09); no motion for those who ask none
            f":focus-visible {{ outline: 3px solid {theme.FOCUS_RING} !important; outline-offset: 2px; }}"
            f"[data-testid='stSliderThumbValue'] p {{ color: {theme.SLIDER_VALUE} !important; }}"
            "@media (prefers-reduced-motion: reduce) { *, *::before, *::after { animation-duration: 0.01ms !important;"
            " animation-iteration-count: 1 !important; transition-duration: 0.01ms !important;"
            " scroll-behavior: auto !important; } }"
            ".st-key-below_the_ladder > div { content-visibility: auto; contain-intrinsic-size: auto 400px; }</style>")
