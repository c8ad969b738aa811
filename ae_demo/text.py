"""Texts that the page shows, kept here beside the facts they name (a family's name, a dataset's items).

``N_(message)`` marks ``message`` for extraction into the translation catalogs (``ui.i18n``, Babel) and returns
it unchanged: this package stays free of the page, and the page translates the text where it shows it
(``ui.i18n._``). A text with figures in it is a template with named placeholders, filled after translation.
"""
from __future__ import annotations


def N_(message: str) -> str:
    """Marks ``message`` for extraction and returns it as it is."""
    return message
