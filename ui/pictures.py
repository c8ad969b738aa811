"""Grids of inline pictures: one HTML element of <figure>s, for the ladder rows, the neighbours and the input."""
from __future__ import annotations

import html
from typing import NamedTuple


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
    """HTML: one grid of ``kind`` (``ae-ladder``, ``ae-strip`` or ``ae-input``, styled by ``ui.page_style``),
    a <figure> per picture, in one element: one update for the browser and no image requests.
    An ordered list, so that a screen reader announces how many pictures there are and reads them in order;
    ``label``: what the list is, for it to announce."""
    named = f' aria-label="{html.escape(label)}"' if label else ""
    items = "".join(f"<li>{_figure(picture)}</li>" for picture in pictures)
    return f'<ol class="{kind}"{named} style="--cells: {len(pictures)}">{items}</ol>'
