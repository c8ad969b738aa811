"""The page in the class's language: one translation function, ``_``, over gettext catalogs, and numbers
formatted for the language.

    from .i18n import _, N_
    st.caption(_("Stars: your current input."))
    st.caption(_("Mean error on the {count} held-out images").format(count=i18n.integer(n)))

- ``_(message)``: the message in this visitor's language (English when the catalog lacks it). Placeholders
  are named (``{count}``) and filled after translation with ``.format``, so a translator can move them.
- ``N_(message)``: marks a message kept in a module-level constant (a tour step, a dict of labels) for
  extraction; it returns it unchanged, and the code that shows it passes it through ``_`` then.
- ``number``, ``integer``, ``percent``: Babel's formatting for the visitor's locale (1,234.5 / 1.234,5).

Catalogs: ``locales/<lang>/LC_MESSAGES/messages.po``, read and compiled in memory once per server
(Babel), so the repository holds no compiled .mo file and the page needs no network. ``locales/glossary.toml``
gives the one word each catalog uses for each idea (tests/test_i18n.py checks it). To add or change a text:
wrap it in ``_`` (a text ae_demo makes: an ``ae_demo.messages.Message``, or an error a user causes, an
``InputError``, ``RoomError`` or ``OwnDataError``, each with a template and named params; ``error_text`` shows
it), run
``python -m ui.i18n`` (Babel extracts every message into locales/messages.pot and adds the new ones to each
catalog, untranslated), and translate the new entries; tests/test_i18n.py fails while one is empty.

The language: ``?lang=es`` (or ``zh``), else the sidebar's picker, else the browser's Accept-Language when a
catalog exists for it, else English. A chosen language goes into the URL, so a shared link keeps it.
"""
from __future__ import annotations

import datetime
import functools
import gettext
import io
import re
import string
from collections.abc import Callable
from numbers import Integral, Real
from pathlib import Path

import streamlit as st
from babel import Locale, lists, negotiate_locale, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ae_demo.messages import N_  # noqa: F401 - one marker for the page and ae_demo's texts

from . import state

LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "messages"
PARAM = "lang"
SOURCE_LANGUAGE = "en"
# language code (URL, catalog folder) -> (Babel locale, its own name as the picker shows it)
LANGUAGES = {"en": ("en", "English"), "es": ("es", "Español"), "zh": ("zh_Hans_CN", "中文（简体）")}


# the calls whose first argument is a message (Babel's extraction keywords; ``_``'s are Babel's defaults)
EXTRACT_KEYWORDS = {"_": None, "N_": None, "InputError": None, "ArchiveError": None, "Message": None,
                    "RoomError": None, "OwnDataError": None}
EXTRACT_FROM = ("app.py", "ui", "ae_demo")     # relative to the repository root
CATALOG_DATE = datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language`` compiled from its .po file, once per server; English: none (the source)."""
    po = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == SOURCE_LANGUAGE or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=LANGUAGES[language][0])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)          # fuzzy (unchecked) entries are left out: they show in English
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def language() -> str:
    """This visitor's language code (a key of ``LANGUAGES``); English outside a page run (a test, a CLI)."""
    if get_script_run_ctx() is None:
        return SOURCE_LANGUAGE
    return state.widget(state.LANGUAGE, SOURCE_LANGUAGE)


def _(message: str) -> str:
    """``message`` in this visitor's language; an ``ae_demo.messages.Message`` with values (an upload's note
    "animated GIF: used the first frame (of 3)") through its template, as ``error_text`` does."""
    if getattr(message, "params", None):
        return error_text(message)
    lang = language()
    return message if lang == SOURCE_LANGUAGE else translations(lang).gettext(message)


def fixed(code: str | None = None) -> Callable[[str], str]:
    """``_`` fixed to this run's language (or to ``code``): for a widget's ``format_func``, which Streamlit may call
    after the run (AppTest does, outside any run, where ``_`` would fall back to English), and for what a server
    builds once per language."""
    return translations(code or language()).gettext


def error_text(error) -> str:
    """An ``ae_demo.messages.MessageError`` (``InputError``, ``RoomError`` …) or ``Message`` (anything with
    ``template`` and ``params``) in this visitor's language: a value that is a message itself is translated
    too, a number is written as the language writes it (its format spec's decimals kept: ``{sse:.1f}``,
    ``{share:.0%}``); anything without a template as it is."""
    template = getattr(error, "template", None)
    if template is None:
        return str(error)
    params = getattr(error, "params", None) or {}
    translated = _(template)
    if not params:
        return translated
    out = []
    for literal, field, spec, conversion in string.Formatter().parse(translated):
        out.append(literal)
        if field is not None:
            value = params[field]
            out.append(error_text(value) if hasattr(value, "template") else
                       _localised(value, spec) if not conversion else format(repr(value), spec or ""))
    return "".join(out)


_SPEC = re.compile(r",?(?:\.(\d+))?([f%]?)")


def _localised(value, spec: str | None) -> str:
    """``format(value, spec)``, with a number's separators as the visitor's language writes them."""
    match = _SPEC.fullmatch(spec or "")
    if isinstance(value, bool) or not isinstance(value, Real) or match is None:
        return format(value, spec or "")
    decimals, kind = match.group(1), match.group(2)
    if kind == "%":
        return percent(value, int(decimals or 0))
    if isinstance(value, Integral) and not kind:
        return integer(value)
    return number(value, int(decimals) if decimals is not None else 6 if kind == "f" else 1)


def locale() -> Locale:
    """Babel's locale of this visitor's language (for numbers)."""
    return Locale.parse(LANGUAGES[language()][0])


def number(value: float, decimals: int | None = 1) -> str:
    """``value`` with ``decimals`` digits after the point and grouped thousands, as the language writes them;
    ``decimals=None``: as many as it needs, up to three (a setting such as ρ = 0.05, a factor of 2)."""
    if decimals is None:
        return numbers.format_decimal(value, locale=locale())
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return numbers.format_decimal(value, format=pattern, locale=locale())


def integer(value: int) -> str:
    """A count with grouped thousands (10,000 / 10.000)."""
    return numbers.format_decimal(int(value), format="#,##0", locale=locale())


def percent(share: float, decimals: int = 0) -> str:
    """A share in [0, 1] as a percentage, spaced and signed as the language does (87% / 87 %)."""
    where = locale()
    pattern = where.percent_formats[None].pattern.replace("#,##0", "#,##0" + ("." + "0" * decimals if decimals else ""))
    return numbers.format_percent(share, format=pattern, locale=where)


def join(words: list[str], style: str = "and") -> str:
    """Words joined as the language lists them: "a and b" / "a y b" / "a和b" (``style="or"``: "a or b")."""
    return lists.format_list(list(words), style="standard" if style == "and" else style, locale=locale())


def from_accept_language(header: str | None) -> str:
    """The language code to show for a browser's ``Accept-Language`` header ("es-MX,es;q=0.9,en;q=0.8"):
    its most preferred language that has a catalog, English when none has."""
    preferred = []
    for part in (header or "").split(","):
        tag, _sep, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if tag and tag != "*":
            preferred.append((weight, tag.replace("-", "_")))
    ordered = [tag for _weight, tag in sorted(preferred, key=lambda p: -p[0])]
    return negotiate_locale(ordered, list(LANGUAGES)) or SOURCE_LANGUAGE


def _browser_language() -> str:
    """What the visitor's browser asks for: the Accept-Language header, else the browser's own locale."""
    headers = st.context.headers
    header = headers.get("Accept-Language") if headers is not None else None
    return from_accept_language(header or st.context.locale)


def choose_language() -> str:
    """At the top of the page, before any text: the visit's language from the URL, else the browser's;
    kept in the session from then on (the picker owns it)."""
    if not state.has_widget(state.LANGUAGE):
        wanted = st.query_params.get(PARAM)
        state.set_widget(state.LANGUAGE, wanted if wanted in LANGUAGES else _browser_language())
    return state.widget(state.LANGUAGE)


def _follow_picker() -> None:
    st.query_params[PARAM] = state.widget(state.LANGUAGE)


def language_picker() -> None:
    """The sidebar's language choice; a choice goes into the URL (``?lang=``), so a link keeps it."""
    st.sidebar.selectbox(_("Language"), list(LANGUAGES), key=state.LANGUAGE, on_change=_follow_picker,
                         format_func=lambda code: LANGUAGES[code][1])


def _literal_calls(path: Path) -> set[tuple[int, str]]:
    """(line, message) of every call to an extraction keyword in ``path`` whose first argument is one plain
    string: Babel also extracts the literal pieces of an f-string joined to literals, which are no messages."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in EXTRACT_KEYWORDS:
                found.add((node.lineno, node.args[0].value))
    return found


def extracted_messages() -> dict[str, list[tuple[str, int]]]:
    """Every message the code marks, with where it is: {msgid: [(file, line), ...]} (Babel's extraction)."""
    from babel.messages.extract import extract_from_dir, extract_from_file

    root = LOCALES_DIR.parent
    found: dict[str, list[tuple[str, int]]] = {}
    method_map = [("**.py", "python")]
    for where in EXTRACT_FROM:
        path = root / where
        if path.is_file():
            entries = ((where, *entry) for entry in extract_from_file("python", str(path), keywords=EXTRACT_KEYWORDS))
        else:
            entries = ((f"{where}/{filename}", *rest) for filename, *rest in
                       extract_from_dir(str(path), method_map, keywords=EXTRACT_KEYWORDS))
        literal: dict[str, set[str]] = {}
        for filename, line, message, _comments, _context in entries:
            if filename not in literal:
                literal[filename] = {text for _line, text in _literal_calls(root / filename)}
            if isinstance(message, str) and message in literal[filename]:
                found.setdefault(message, []).append((filename, line))
    return found


def update_catalogs() -> None:
    """Extract every message into locales/messages.pot and add the new ones, untranslated, to each catalog;
    messages no longer in the code leave the catalogs (Babel keeps them as obsolete comments)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    # a fixed date: the run's own date in every header would make each run a diff and every merge a conflict
    template = Catalog(project="Autoencoder Lab", fuzzy=False, creation_date=CATALOG_DATE)
    for message, places in sorted(extracted_messages().items()):
        template.add(message, locations=places)
    with (LOCALES_DIR / f"{DOMAIN}.pot").open("wb") as out:
        write_po(out, template, omit_header=True, width=120, include_lineno=False)
    for code, (babel_locale, _name) in LANGUAGES.items():
        if code == SOURCE_LANGUAGE:
            continue
        po = LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
        po.parent.mkdir(parents=True, exist_ok=True)
        if po.exists():
            with po.open("rb") as source:
                catalog = read_po(source, locale=babel_locale)
        else:
            catalog = Catalog(locale=babel_locale, project="Autoencoder Lab", fuzzy=False,
                              creation_date=CATALOG_DATE, revision_date=CATALOG_DATE)
        catalog.update(template, no_fuzzy_matching=True)
        with po.open("wb") as out:
            write_po(out, catalog, width=120, ignore_obsolete=True, include_lineno=False)


if __name__ == "__main__":
    update_catalogs()
