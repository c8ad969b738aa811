"""Presentation mode (``?present=1``, or the sidebar's toggle): readable from the back of a room.

Body text of 20 px and more, the ladder's seven pictures in one row beside the canvas (200 px
and more at 1920 px wide, as large as fits at 1280), narrow page margins, no Streamlit toolbar
or "Deploy" button, the sidebar collapsed, and a light page for projectors that wash out dark ones.
"""
from __future__ import annotations

import streamlit as st

from . import state
from .i18n import _

PARAM = "present"

# A light page from the dark theme: invert everything, turning hues back, then invert the
# pictures again so digits, photos and the canvas look as they are.
_CSS = """<style>
[data-testid="stToolbar"], [data-testid="stAppDeployButton"], [data-testid="stMainMenu"],
[data-testid="stDecoration"], [data-testid="stStatusWidget"] { display: none !important; }
.stApp { font-size: 20px; }
.stApp p, .stApp li, .stApp label, .stApp [data-testid="stCaptionContainer"], .stApp .ae-detail,
.stApp [data-testid="stWidgetLabel"] p, .stApp figcaption, .stApp button p { font-size: 20px !important; }
.stApp h1 { font-size: 3rem !important; } .stApp h2, .stApp h3 { font-size: 2.1rem !important; }
.ae-ladder .ae-title { font-size: 22px; }
[data-testid="stMainBlockContainer"] { padding: 3.75rem 1rem 2rem; } .ae-ladder { gap: 0.5rem; }
.stApp h1 { padding-top: 0 !important; }
[data-testid="stTab"] span[role="img"] { display: none; } [role="tablist"] { gap: 0.4rem !important; }
.stApp { filter: invert(1) hue-rotate(180deg); }
.stApp img, .stApp canvas, .stApp video, .stApp iframe, .stApp .ae-map-label { filter: invert(1) hue-rotate(180deg); }
</style>"""


def is_on() -> bool:
    """From the URL on a link's first load, then from the toggle."""
    if not state.has_widget(state.PRESENT_MODE):
        state.set_widget(state.PRESENT_MODE, st.query_params.get(PARAM) == "1")
    return bool(state.widget(state.PRESENT_MODE))


def _follow_toggle() -> None:
    if state.widget(state.PRESENT_MODE):
        st.query_params[PARAM] = "1"
    else:
        st.query_params.pop(PARAM, None)


def toggle() -> None:
    st.sidebar.toggle(_("Presentation mode"), key=state.PRESENT_MODE, on_change=_follow_toggle,
                      help=_("Large type and pictures, a light page, no toolbar: for a projector. Link: {link}")
                      .format(link="?present=1"))


def style() -> None:
    if is_on():
        st.html(_CSS)
