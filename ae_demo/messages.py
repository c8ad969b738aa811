"""Texts that ae_demo makes for people (an error, a note on an upload, a sentence about a result, a name it
keeps beside the facts it names), kept translatable: each is its English template with named placeholders plus
their values, so that a page can show it in the visitor's language (``ui.i18n.error_text``) while everything
else uses it as the English string. A fixed text (a family's name, a dataset's items) is marked with ``N_``
and translated where the page shows it (``ui.i18n._``).

    raise RoomError("A poll has {low} to {high} choices; this one has {count}.", low=2, high=6, count=9)
    notes.append(Message("{kind} {format}: used the first {unit} (of {frames})", kind=..., ...))

A value may itself be a ``Message`` (a verdict inside a sentence): it is translated too. ``python -m ui.i18n``
extracts the templates (``Message``, ``InputError``, ``ArchiveError``, ``RoomError``, ``OwnDataError``, and
``N_`` calls with a literal first argument). This module must not import streamlit.
"""
from __future__ import annotations

from collections.abc import Mapping


def N_(message: str) -> str:
    """Marks ``message`` for extraction into the translation catalogs and returns it as it is."""
    return message


def render(template: str, params: Mapping) -> str:
    """The English text: ``template`` filled with ``params`` (format specs as written, e.g. ``{count:,}``)."""
    return template.format(**params) if params else template


class Message(str):
    """A text in English (it is that ``str``) that also keeps its ``template`` and ``params`` for translation."""

    template: str
    params: dict

    def __new__(cls, template: str, **params) -> "Message":
        text = super().__new__(cls, render(template, params))
        text.template, text.params = template, params
        return text


class MessageError(Exception):
    """An error a user can cause: ``str(error)`` is the English message; ``template`` and ``params`` let a page
    show it in the visitor's language."""

    def __init__(self, template: str, **params):
        super().__init__(render(template, params))
        self.template, self.params = template, params

    @property
    def message(self) -> Message:
        """The message alone, to keep and show later (a page's state holds it, not the error)."""
        return Message(self.template, **self.params)
