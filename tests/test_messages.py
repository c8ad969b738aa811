"""Messages that ae_demo makes for people reach the page in the class's language: a Message or a MessageError
keeps its English template and values; ui.i18n.error_text translates it, the messages inside it, and writes its
numbers as the language does."""
from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest
from PIL import Image

from ae_demo import rooms
from ae_demo.image_sets import ArchiveError, read_image_set
from ae_demo.messages import Message
from ae_demo.preprocess import InputError, decode_image
from ui import i18n


@pytest.fixture
def speak(monkeypatch):
    def choose(code: str) -> None:
        monkeypatch.setattr(i18n, "language", lambda: code)
    return choose


def test_a_message_is_its_english_text_and_keeps_its_template():
    message = Message("{count:,} usable pictures: a random {used:,} of them are used (seed {seed}), the most this "
                      "lab trains on.", count=12345, used=10000, seed=0)
    assert message == "12,345 usable pictures: a random 10,000 of them are used (seed 0), the most this lab trains on."
    assert message.template.startswith("{count:,} usable") and message.params["count"] == 12345
    assert pickle.loads(pickle.dumps(message)) == message
    error = rooms.RoomError("A poll has {fewest} to {most} choices; this one has {count}.", fewest=2, most=6, count=9)
    assert str(error) == "A poll has 2 to 6 choices; this one has 9." and error.message.params["count"] == 9


@pytest.mark.parametrize("code, expected", [
    ("en", "'broken.zip' is not a readable ZIP archive"),
    ("es", "«broken.zip» no es un archivo ZIP legible"),
    ("zh", "“broken.zip”不是可读取的 ZIP 压缩包")])
def test_a_broken_zip_is_told_in_the_language(speak, code, expected):
    speak(code)
    with pytest.raises(ArchiveError) as refused:
        read_image_set([("broken.zip", b"PK\x03\x04 cut short")])
    assert i18n.error_text(refused.value).startswith(expected)


@pytest.mark.parametrize("code, expected", [
    ("es", "Solo se encontraron 1 imagen utilizable (2 archivos omitidos)"),
    ("zh", "只找到 1 张可用图片（跳过了 2 个文件）")])
def test_messages_inside_messages_are_translated_too(speak, code, expected):
    picture = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40, 3), np.uint8)).save(picture, format="PNG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pics/one.png", picture.getvalue())
        zf.writestr("pics/notes.txt", b"not a picture")
        zf.writestr("__MACOSX/._one.png", b"metadata")
    found = read_image_set([("pics.zip", archive.getvalue())])
    speak(code)
    assert i18n.error_text(found.problem).startswith(expected)
    assert all(i18n.error_text(s.reason) != s.reason for s in found.skipped)   # each reason translated


@pytest.mark.parametrize("code, expected", [
    ("en", "'big.png' is 7.0 MB"), ("es", "«big.png» ocupa 7,0 MB"), ("zh", "“big.png”大小为 7.0 MB")])
def test_numbers_in_messages_follow_the_language(speak, monkeypatch, code, expected):
    from ae_demo import preprocess

    monkeypatch.setattr(preprocess, "MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
    speak(code)
    with pytest.raises(InputError) as refused:
        decode_image(b"\0" * (7 * 1024 * 1024), "big.png")
    assert i18n.error_text(refused.value).startswith(expected)


@pytest.mark.slow
@pytest.mark.parametrize("code, expected", [
    ("es", "«paper.png» es un documento PDF, no una imagen: exporta la página como PNG o JPEG."),
    ("zh", "“paper.png”是一个 PDF 文档，不是图片：请把页面导出为 PNG 或 JPEG。")])
def test_a_pdf_upload_is_told_in_the_class_language(open_page, code, expected):
    """A PDF saved with a picture's name: the message and the two messages inside it, translated."""
    at = open_page(lang=code)
    at.file_uploader(key="upload").set_value(("paper.png", b"%PDF-1.7 a document", "image/png")).run()
    assert not at.exception
    assert any(expected in e.value for e in at.error), [e.value for e in at.error]


@pytest.mark.parametrize("code, expected", [
    ("en", "animated GIF: used the first frame (of 3)"), ("es", "GIF animado: se usó el primer fotograma (de 3)"),
    ("zh", "动画 GIF：使用了第一帧（共 3 帧）")])
def test_an_uploads_note_with_values_is_translated_by_underscore_too(speak, code, expected):
    """ui.inputs shows an upload's notes through ``_``: a note with values goes through its template."""
    frames = [Image.fromarray(np.full((40, 40), level, np.uint8)) for level in (0, 128, 255)]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    (note,) = decode_image(gif.getvalue(), "moving.gif").info["ae_demo.notes"]
    speak(code)
    assert i18n._(note) == expected
