"""Plotly charts in two parts: what every visitor sees, built once per server, and a visitor's own traces.

A page run used to build its main map (thousands of points in ten traces) and the error chart
through Plotly's figure objects, which check every property as it is set: a fifth of what a
whole-page run cost. Now the shared part is built and checked once (``*_base``, cached by
``ui.resources``) and kept as Plotly's own dict form; each run only adds its stars, as plain
trace dicts, and ``assemble`` hands the result to ``st.plotly_chart`` as it is.
"""
from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go

from ae_demo.display import png_data_uri
from ae_demo.maps import LatentMap
from ae_demo.zoo import FAMILIES, Zoo

from . import theme
from .i18n import N_, _


class _Assembled(go.Figure):
    """A figure already in Plotly's dict form (``{"data": [...], "layout": {...}}``).

    ``st.plotly_chart`` asks a figure for ``to_dict()`` and serialises that; this one returns its
    dict as it is instead of rebuilding (and re-checking) every trace. Its base was checked when it
    was built, and the traces added to it are the few star traces written below.
    """

    def __init__(self, spec: dict):  # noqa: D107 - deliberately no go.Figure.__init__: nothing to rebuild
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


def assemble(base: dict, traces: list[dict]) -> go.Figure:
    """``base`` (a figure's ``to_dict()``, never modified: it is shared) with ``traces`` drawn on top."""
    return _Assembled({"data": [*base["data"], *traces], "layout": base["layout"]})


def star(x: float, y: float, name: str, current: bool) -> dict:
    """One input as a star trace named ``your input · <name>`` (what the browser tests look for; in the visitor's
    language); the current one larger, in the same yellow as on the map pictures (``theme.STAR_COLOURS``)."""
    named = _("your input · {name}").format(name=name)
    return {"type": "scattergl", "x": [float(x)], "y": [float(y)], "mode": "markers",
            "name": named, "hovertemplate": f"{html.escape(named)}<extra></extra>",
            "marker": {"symbol": "star", "size": 24 if current else 14,
                       "color": theme.STAR_COLOURS[0] if current else theme.STAR_COLOURS[1],
                       "line": {"color": theme.STAR_OUTLINE, "width": 1.5}}}


def map_base(lm: LatentMap, classes: tuple[str, ...], images: np.ndarray, colours: tuple[str, ...], height: int,
             thumbnails: int = 0, grid: np.ndarray | None = None, say: Callable[[str], str] = str) -> dict:
    """The map's shared part: one trace per class of (N, 2) ``lm.coords``, optional thumbnails, the layout.

    images (M, 28, 28): the held-out images ``lm.indices`` point into (thumbnails);
    grid (G, 2): invisible points everywhere, so that a click on empty space picks a place to decode;
    say: a text in the language this base is built for (``i18n.fixed``; it is shared by that language's visitors).
    """
    classes = tuple(say(name) for name in classes)
    fig = go.Figure()
    for label, name in enumerate(classes):
        rows = np.flatnonzero(lm.labels == label)
        fig.add_trace(go.Scattergl(
            x=lm.coords[rows, 0], y=lm.coords[rows, 1], mode="markers", name=name,
            marker=dict(size=4, color=colours[label], opacity=0.7),
            customdata=np.stack([lm.indices[rows], np.full(len(rows), label)], 1),
            hovertemplate=f"{html.escape(name)}<br>" + html.escape(say(N_("held-out #{index}"))).format(
                index="%{customdata[0]}") + "<extra></extra>"))
        if len(rows):  # the class named at its centre too, not by colour alone
            x, y = np.median(lm.coords[rows], 0)
            fig.add_annotation(x=float(x), y=float(y), text=f"<b>{html.escape(name)}</b>", showarrow=False,
                               font=dict(size=15, color="#ffffff"), bgcolor="rgba(14,17,23,0.75)")
    if grid is not None:
        fig.add_trace(go.Scattergl(x=grid[:, 0], y=grid[:, 1], mode="markers", name=say(N_("decode here")),
                                   marker=dict(size=12, opacity=0), showlegend=False,
                                   hovertemplate=html.escape(say(N_("decode ({x}, {y})"))).format(
                                       x="%{x:.2f}", y="%{y:.2f}") + "<extra></extra>"))
    if thumbnails:
        span = lm.span
        for row in np.linspace(0, len(lm.indices) - 1, thumbnails).astype(int):
            fig.add_layout_image(source=png_data_uri(images[int(lm.indices[row])]),
                                 x=float(lm.coords[row, 0]), y=float(lm.coords[row, 1]),
                                 xref="x", yref="y", sizex=span / 30, sizey=span / 30,
                                 xanchor="center", yanchor="middle", layer="above")
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=0, b=0), showlegend=True,
                      legend=dict(itemsizing="constant"), dragmode="pan" if grid is None else "select",
                      xaxis=dict(showticklabels=grid is not None, zeroline=False),
                      yaxis=dict(showticklabels=grid is not None, zeroline=False,
                                 scaleanchor="x" if grid is not None else None))
    return fig.to_dict()


def map_stars(placed: np.ndarray, names: list[str]) -> list[dict]:
    """placed (M, 2) and names (M,): the inputs, the current one last (drawn on top, larger, yellow)."""
    return [star(x, y, name, current=i == len(names) - 1) for i, ((x, y), name) in enumerate(zip(placed, names))]


def error_chart_base(zoo: Zoo, dataset: str, say: Callable[[str], str] = str) -> dict:
    """Held-out SSE per image against latent size, one line per ladder family and PCA (from the cards); ``say``:
    a text in the language this base is built for (``i18n.fixed``)."""
    fig = go.Figure()
    for fam in (*zoo.ladder_families(dataset), "pca"):
        members = zoo.cards(dataset, fam)
        fig.add_trace(go.Scatter(x=[c.latent_dim for c in members], y=[c.metrics.get("sse_per_image") for c in members],
                                 mode="lines+markers",
                                 name=say(N_("{family} (held-out mean)")).format(family=say(FAMILIES[fam])),
                                 line=dict(color=theme.FAMILY_COLOURS[fam], dash="dot" if fam == "pca" else "solid")))
    # whole-number ticks in readable type: Plotly's default log ticks are bare leading digits (5, 2, 10, 5 …)
    ticks = dict(tickfont=dict(size=15), title_font=dict(size=16), minor=dict(showgrid=False))
    fig.update_layout(xaxis=dict(title=say(N_("latent size z")), type="log", tickvals=[2, 4, 8, 16, 32, 64], **ticks),
                      yaxis=dict(title=say(N_("SSE per image (784 pixels)")), type="log", tickformat="d",
                                 tickvals=[1, 2, 5, 10, 20, 50, 100], **ticks),
                      height=380, margin=theme.chart_margin(), legend=dict(orientation="h", y=-0.25))
    return fig.to_dict()
