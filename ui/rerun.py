"""What reruns when: the page's CSS, two browser timers, and the visit's first paint.

A stroke reruns only the workbench (a fragment: the inputs, the ladder and the main map). The
rest of the page follows in one whole-page run asked for by a timer in the browser
``PAGE_FOLLOWS_DRAWING_MS`` after the last stroke of a drawing, so a digit drawn in five
strokes redraws the charts once. A pick, an upload, a photo, another current input or map
size run the whole page at once (``follow_if_due``). A visit's first run shows the inputs and
the ladder and stops; the other timer asks for the whole page as soon as that is on the screen.
After its websocket reconnects, the browser asks for the whole page (``rerun_after_reconnect``).
"""
from __future__ import annotations

import hashlib
import html
from typing import Callable, NamedTuple

import streamlit as st

from . import state, theme

PAGE_FOLLOWS_DRAWING_MS = 1000  # the whole page catches up with a drawing this long after its last stroke
_TIMER_KEYS = ("page_follows", "first_paint")


def page_style() -> None:
    """28x28 images are sent as they are and scaled up by the browser with hard pixel edges:
    sharper than a blurred stretch, and 16x less to encode and send than pre-enlarged PNGs.
    The ladder is a grid of figures (see ``ladder._ladder_row``); the rerun timers take no room;
    what is below the ladder is laid out only when scrolled to."""
    hidden = ", ".join(f".st-key-{key}" for key in _TIMER_KEYS)
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
            ".ae-map { margin: 0; } .ae-map-frame { position: relative; } .ae-map img { width: 100%; display: block; }"
            ".ae-map img.ae-stars { position: absolute; inset: 0; height: 100%; pointer-events: none; }"
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


class Picture(NamedTuple):
    """One figure of a picture grid: an inline picture, its alt text, a caption; an optional title and CSS class."""
    uri: str
    alt: str
    caption: str
    title: str | None = None
    css: str = ""


def _figure(picture: Picture) -> str:
    css = f' class="{picture.css}"' if picture.css else ""
    title = f'<div class="ae-title">{html.escape(picture.title)}</div>' if picture.title is not None else ""
    return (f'<figure{css}>{title}<img src="{picture.uri}" alt="{html.escape(picture.alt)}">'
            f'<figcaption class="ae-detail">{html.escape(picture.caption)}</figcaption></figure>')


def picture_grid(kind: str, pictures: list[Picture], label: str = "") -> str:
    """HTML: one grid of ``kind`` (``ae-ladder``, ``ae-strip`` or ``ae-input``, styled by ``page_style``),
    a <figure> per picture, in one element: one update for the browser and no image requests.
    An ordered list, so that a screen reader announces how many pictures there are and reads them in order;
    ``label``: what the list is, for it to announce."""
    named = f' aria-label="{html.escape(label)}"' if label else ""
    items = "".join(f"<li>{_figure(picture)}</li>" for picture in pictures)
    return f'<ol class="{kind}"{named} style="--cells: {len(pictures)}">{items}</ol>'


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
    assert key in _TIMER_KEYS, key  # page_style hides them by key
    _RERUN_TIMER(key=key, data={"token": token, "delay_ms": delay_ms}, on_fired_change=on_fire)


def inputs_signature(items: list[state.InputItem], current: state.InputItem, also: str = "") -> str:
    """A short token for what the page shows: the inputs' images, which one is current, and ``also``."""
    digest = hashlib.sha1(current.key.encode() + b"\0" + also.encode())
    for item in items:
        digest.update(item.key.encode() + b"\0" + item.prepared.image.tobytes())
    return digest.hexdigest()[:16]


def page_follows_inputs(items: list[state.InputItem], current: state.InputItem, also: str = "") -> None:
    """At the end of the workbench: when its inputs changed since the whole page last ran, have it follow."""
    signature = inputs_signature(items, current, also)
    if state.in_page_run():
        state.set_page_input(signature)
    stale = signature != state.page_input()
    delay = PAGE_FOLLOWS_DRAWING_MS if current.kind is state.InputKind.DRAWING else 0
    rerun_timer(signature if stale else None, delay, key="page_follows", on_fire=state.mark_page_due)


def follow_if_due() -> None:
    """First thing in the workbench: when the whole page is due (``state.mark_page_due``), it runs now.

    The page-follows timer and the inputs that change the whole page at once (a sample pick, an
    upload, a webcam photo, another current input, another map size) sit in the workbench, a
    fragment: their events rerun the workbench, which would redo the inputs, the ladder and the
    map, a stroke's worth of work, before the whole page ran and drew it all again. Their
    callbacks mark the page due before the workbench starts instead, and it hands over at once.
    In a whole-page run (or under AppTest, which runs the whole script every time) it is already
    running: the mark is just cleared.
    """
    if state.take_page_due() and not state.in_page_run():
        st.rerun(scope="app")


def first_paint() -> bool:
    """True in a visit's first run, which shows the inputs and the ladder and stops there.

    The charts and maps cost the browser seconds to load and draw (Plotly's bundle, WebGL),
    and the ladder came out only with them; so the first run leaves them out, and a timer
    asks for the whole page as soon as this part is on the screen.
    """
    if not state.first_run_of_visit():
        return False
    st.caption("Drawing the error chart and the maps…")
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
