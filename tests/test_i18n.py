"""The page in the class's language: the catalogs cover every message the code marks, keep its placeholders
and the glossary's terms; ?lang= and the browser's language choose; numbers follow the language."""
from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from ui import bottleneck_maps, i18n

TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.SOURCE_LANGUAGE]
GLOSSARY = tomllib.loads((i18n.LOCALES_DIR / "glossary.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def extracted() -> dict:
    return i18n.extracted_messages()


def catalog(code: str) -> dict[str, str]:
    """msgid -> translation of a language's catalog (fuzzy entries count as untranslated)."""
    with (i18n.LOCALES_DIR / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as source:
        return {m.id: ("" if m.fuzzy else m.string) for m in read_po(source) if m.id}


def placeholders(text: str) -> set[str]:
    return {field for _literal, field, _spec, _conv in string.Formatter().parse(text) if field is not None}


def test_extraction_finds_the_pages_messages(extracted):
    assert "Take the guided tour" in extracted and "The image is blank (one flat colour): draw or upload a digit." \
        in extracted
    # the literal tail of an f-string is no message of its own (Babel extracts it; i18n drops it)
    assert not any(m.startswith("1000 pixels a side") for m in extracted)


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_extracted_message_is_translated(code, extracted):
    translations = catalog(code)
    missing = sorted(m for m in extracted if not translations.get(m))
    assert not missing, f"{len(missing)} messages untranslated in {code} (run python -m ui.i18n): {missing[:5]}"
    stale = sorted(set(translations) - set(extracted))
    assert not stale, f"{code} has messages no code uses (run python -m ui.i18n): {stale[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders(code):
    for original, translated in catalog(code).items():
        assert placeholders(translated) == placeholders(original), (code, original, translated)


@pytest.mark.parametrize("code", TRANSLATED)
def test_catalogs_use_the_glossarys_terms(code):
    for idea, term in GLOSSARY.items():
        for original, translated in catalog(code).items():
            if term["en"] in original.lower():
                assert any(form in translated.lower() for form in term[code]), (idea, code, translated)
            # "autoencoder" may stay in a sentence's English name of a thing only where the English has it
            used = [w for w in term["avoid"] if w in translated.lower() and w not in original.lower()]
            assert not used, (idea, code, used, translated)


def test_the_glossary_names_the_issues_terms():
    assert GLOSSARY["autoencoder"]["es"][0] == "autocodificador" and GLOSSARY["autoencoder"]["zh"] == ["自编码器"]
    assert "cuello de botella" in GLOSSARY["bottleneck"]["es"] and GLOSSARY["bottleneck"]["zh"] == ["瓶颈"]
    assert GLOSSARY["latent_space"]["es"] == ["espacio latente"] and GLOSSARY["latent_space"]["zh"] == ["潜在空间"]


@pytest.mark.parametrize("header, language", [
    ("es-MX,es;q=0.9,en;q=0.8", "es"), ("zh-CN,zh;q=0.9", "zh"), ("fr-FR,fr;q=0.9", "en"),
    ("fr,en;q=0.5,es;q=0.7", "es"), ("en-US,en;q=0.9,zh;q=0.8", "en"), ("", "en"), (None, "en"),
    ("es;q=abc,zh", "zh")])
def test_the_browsers_language_is_used_when_a_catalog_exists(header, language):
    assert i18n.from_accept_language(header) == language


@pytest.mark.parametrize("code, decimal, count, share", [
    ("en", "1,234.6", "10,000", "87%"), ("es", "1.234,6", "10.000", "87\xa0%"), ("zh", "1,234.6", "10,000", "87%")])
def test_numbers_follow_the_language(monkeypatch, code, decimal, count, share):
    monkeypatch.setattr(i18n, "language", lambda: code)
    assert (i18n.number(1234.56), i18n.integer(10_000), i18n.percent(0.873)) == (decimal, count, share)


def markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


@pytest.mark.slow
@pytest.mark.parametrize("code, tour_title, error_start", [
    ("es", "y = x: una red entrenada para copiar", "«empty.png» está vacío"),
    ("zh", "y = x：一个被训练来复制的网络", "“empty.png”是空文件")])
def test_lang_shows_the_tours_first_step_and_errors_translated(open_page, code, tour_title, error_start):
    at = open_page(lang=code, tour="1")
    assert not at.exception
    assert at.selectbox(key="language").value == code
    text = markdown(at)
    assert tour_title in text and "Guided tour" not in text
    assert at.button(key="tour_next").label == i18n.translations(code).gettext("Next") != "Next"
    at.file_uploader(key="upload").set_value(("empty.png", b"", "image/png")).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(error_start in e for e in errors), errors


@pytest.mark.slow
def test_the_picker_changes_the_language_and_the_link_keeps_it(open_page):
    at = open_page()
    assert at.selectbox(key="language").value == "en" and "lang" not in at.query_params
    at.selectbox(key="language").set_value("zh").run()
    assert not at.exception and at.query_params["lang"] == "zh"
    assert any("数据集" == r.label for r in at.sidebar.radio)


@pytest.mark.slow
@pytest.mark.parametrize("code, title, says_start, decimal", [
    ("es", "Copiar sin restricción", "UFLDL advierte que una red tan ancha como su entrada", ","),
    ("zh", "没有约束的复制", "UFLDL 提醒说，一个与输入一样宽、没有约束的网络可能学会复制", ".")])
def test_a_later_tour_step_is_translated_with_its_figures(open_page, code, title, says_start, decimal):
    """Step 5 (the unconstrained net): its title, its sentences, its verdict and the dataset's items in the
    language, its measured figures written as the language writes numbers."""
    at = open_page(lang=code, tour="5")
    assert not at.exception
    text = markdown(at)
    assert title in text and says_start in text and "Copying without a constraint" not in text
    step = next(m.value for m in at.markdown if says_start in m.value)
    assert "held-out" not in step and "digits" not in step and "It copies" not in step and "does not copy" not in step
    figures = re.findall(r"\d+[.,]\d\d\b", step)
    assert figures and all(decimal in f for f in figures), figures


@pytest.mark.slow
def test_the_map_pictures_name_their_classes_in_the_language(open_page):
    """The class names at the clusters' centres are text over the map pictures, in the visitor's language (a
    picture's own pixels could not hold Chinese: Pillow's font has no such glyphs)."""
    at = open_page(lang="zh", dataset="fashion", family="conv")
    assert not at.exception
    pages = " ".join(h.value for h in at.get("html"))
    labels = re.findall(r'<span class="ae-map-label"[^>]*>([^<]*)</span>', pages)
    assert "T恤/上衣" in labels and "短靴" in labels and "Ankle boot" not in labels
    assert len(labels) == 10 * (1 + len(bottleneck_maps.sizes("fashion")))   # the main map and the small ones
