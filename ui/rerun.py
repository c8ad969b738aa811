"""What reruns when: the visit's first paint, two browser timers, and the hand-over from the workbench
(a fragment) to the whole page. The flags they keep are ``state.Visitor.page``.

A stroke reruns only the workbench (a fragment: the inputs, the ladder and the main map). The
rest of the page follows in one whole-page run asked for by a timer in the browser
``PAGE_FOLLOWS_DRAWING_MS`` after the last stroke of a drawing, so a digit drawn in five
strokes redraws the charts once. A pick, an upload, a photo, another current input or map
size run the whole page at once (``mark_page_due``, then ``follow_if_due``). A visit's first
run shows the inputs and the ladder and stops; the other timer asks for the whole page as
soon as that is on the screen.
After its websocket reconnects, the browser asks for the whole page (``rerun_after_reconnect``).
"""
from __future__ import annotations

import contextlib
import hashlib
from typing import Callable

import streamlit as st

from . import state
from .i18n import _

PAGE_FOLLOWS_DRAWING_MS = 1000  # the whole page catches up with a drawing this long after its last stroke
TIMER_KEYS = ("page_follows", "first_paint")


# A timer in the browser that asks for a rerun once the page has shown a token for a while.
# Restarted by every new token, so a burst of strokes costs one rerun of the whole page, after it.
_RERUN_TIMER = st.components.v2.component("ae_demo.rerun_timer", js="""
export default function ({ data, setTriggerValue, parentElement }) {
  clearTimeout(parentElement.aeTimer);
  const token = data && data.token;
  if (token && token !== parentElement.aeFired) {
    parentElement.aeTimer = setTimeout(() => requestAnimationFrame(() => {
      parentElement.aeFired = token;
      setTriggerValue("fired", token);
    }), data.delay_ms);
  }
  return () => clearTimeout(parentElement.aeTimer);
}""")


def rerun_timer(token: str | None, delay_ms: int, key: str, on_fire: Callable[[], None] = lambda: None) -> None:
    """Mount the timer for ``token`` (None: no timer).

    Inside a fragment its firing reruns the fragment; outside one, the whole script.
    ``on_fire`` is called before that run starts (a Streamlit callback).
    """
    assert key in TIMER_KEYS, key  # ui.page_style hides them by key
    _RERUN_TIMER(key=key, data={"token": token, "delay_ms": delay_ms}, on_fired_change=on_fire)


def inputs_signature(items: list[state.InputItem], current: state.InputItem, also: str = "") -> str:
    """A short token for what the page shows: the inputs' images, which one is current, and ``also``."""
    digest = hashlib.sha1(current.key.encode() + b"\0" + also.encode())
    for item in items:
        digest.update(item.key.encode() + b"\0" + item.prepared.image.tobytes())
    return digest.hexdigest()[:16]


def page_follows_inputs(items: list[state.InputItem], current: state.InputItem, also: str = "") -> None:
    """At the end of the workbench: when its inputs changed since the whole page last ran, have it follow."""
    runs = state.visitor().page
    signature = inputs_signature(items, current, also)
    if runs.in_page_run:
        runs.shown_inputs = signature
    stale = signature != runs.shown_inputs
    delay = PAGE_FOLLOWS_DRAWING_MS if current.kind is state.InputKind.DRAWING else 0
    rerun_timer(signature if stale else None, delay, key="page_follows", on_fire=mark_page_due)


def mark_page_due() -> None:
    """A callback of an input that changes the whole page at once: the next run hands over to it
    (``follow_if_due``), and the browser's page-follows timer fires into it."""
    state.visitor().page.due = True


@contextlib.contextmanager
def whole_page_run():
    """Around the workbench in a whole-page run: inside it, ``follow_if_due`` knows the whole page is
    already running. The flag is cleared however the block ends (an st.stop or st.rerun raises)."""
    runs = state.visitor().page
    runs.in_page_run = True
    try:
        yield
    finally:
        runs.in_page_run = False


def follow_if_due() -> None:
    """First thing in the workbench: when the whole page is due (``mark_page_due``), it runs now.

    The page-follows timer and the inputs that change the whole page at once (a sample pick, an
    upload, a webcam photo, another current input, another map size) sit in the workbench, a
    fragment: their events rerun the workbench, which would redo the inputs, the ladder and the
    map, a stroke's worth of work, before the whole page ran and drew it all again. Their
    callbacks mark the page due before the workbench starts instead, and it hands over at once.
    In a whole-page run (or under AppTest, which runs the whole script every time) it is already
    running: the mark is just cleared.
    """
    runs = state.visitor().page
    due, runs.due = runs.due, False
    if due and not runs.in_page_run:
        st.rerun(scope="app")


def painting_first() -> bool:
    """True while a visit's first run is still drawing its part (the inputs and the ladder): what can wait for
    the whole page, such as an equation's KaTeX, waits, so a reload's first pictures come sooner."""
    return not state.visitor().page.drawn


def first_paint() -> bool:
    """True in a visit's first run, which shows the inputs and the ladder and stops there.

    The charts and maps cost the browser seconds to load and draw (Plotly's bundle, WebGL),
    and the ladder came out only with them; so the first run leaves them out, and a timer
    asks for the whole page as soon as this part is on the screen.
    """
    runs = state.visitor().page
    if runs.drawn:
        return False
    runs.drawn = True
    st.caption(_("Drawing the error chart and the maps…"))
    rerun_timer("whole page", 0, key="first_paint")
    return True


# An hour: any interval makes the browser rerun the whole page on a reconnect; this one costs one empty
# fragment run an hour. (Browsers fire a setInterval over 2**31 ms, ~24.8 days, at once.)
RECONNECT_WATCH_S = 3600


def rerun_after_reconnect() -> None:
    """Have the browser ask for a whole-page run whenever its websocket reconnects, so that a page whose
    replica died is drawn again by the replica it reconnects to, from its URL and its widgets' values.

    Streamlit's client reruns the page after a reconnect only when the last run was interrupted, was a
    fragment run, or the page has a ``run_every`` fragment (App.tsx, handleConnectionStateChanged): it
    expects the server to still hold the session. A replica that died held it; the one the balancer sends
    the browser to starts a new session that never ran the page, so it knows none of the page's fragments,
    and the first stroke (a rerun of the workbench fragment) is dropped: "The fragment with id … does not
    exist anymore" in its log, and a page that silently ignores the student. This empty fragment's
    ``run_every`` is what makes the client rerun the page on every reconnect; on a server that kept the
    session that run redraws the same view.
    """
    _reconnect_watch()


@st.fragment(run_every=RECONNECT_WATCH_S)
def _reconnect_watch() -> None:
    pass
