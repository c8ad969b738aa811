"""The classroom demos, one module each, each a section below the others, computed only while open.

Each demo sits in a container with its contract key (``learn_live``, ``denoise``, ``anomaly``,
``generate``, ``arithmetic``) holding an expander keyed ``demo_<name>_open``; a link
``?demo=<name>`` opens it (once per visit, before any widget is made). A closed demo returns
at once: it costs a stroke nothing.
"""
from __future__ import annotations

import streamlit as st

from .. import state

PARAM = "demo"
NAMES = ("learn_live", "denoise", "anomaly", "generate", "arithmetic")


def follow_the_url() -> None:
    """At the top of the page: ``?demo=<name>`` opens that demo's expander once; the page's input stays."""
    name = st.query_params.get(PARAM, "")
    if name in NAMES and state.visitor().demo_applied != name:
        state.set_widget(state.demo_open_key(name), True)
        state.visitor().demo_applied = name


def opened(name: str, label: str):
    """The demo's expander (inside its container, which the caller opens): its ``.open`` is True only when expanded."""
    return st.expander(label, key=state.demo_open_key(name), on_change="rerun")
