"""The class room on the page (ui/room.py) through AppTest: a teacher and students in one process, one store.

AppTest runs the whole script on every run (a fragment's run_every is not simulated), so a teacher's
page sees the class after ``.run()``, as the fragment would within a second.
"""
from __future__ import annotations

import html
import json
import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from ae_demo import rooms
from harness.apptest import has_container

pytestmark = pytest.mark.slow  # each page is a few seconds of AppTest


def image_alts(at: AppTest, key: str) -> list[str]:
    """The alt text of every <img> of st.html inside the container with ``key``."""
    return [html.unescape(alt) for element in at.get_by_key(key).html
            for alt in re.findall(r'<img [^>]*alt="([^"]*)"', element.value)]


@pytest.fixture
def page(open_page):
    """``page(**query)``: a visitor's page after the first run and the whole page that follows it."""
    return open_page


def store() -> rooms.RoomStore:
    """The store the pages use (a server-wide resource: one per process, as on a server)."""
    from ui import resources

    return resources.room_store()


def texts(at: AppTest) -> str:
    """Everything the page says in words (markdown, captions, alerts) as shown: Markdown's escapes undone."""
    parts = [e.value for kind in (at.markdown, at.caption, at.info, at.warning, at.error, at.success) for e in kind]
    return re.sub(r"\\(.)", r"\1", " ".join(parts).replace("**", ""))


def teacher_page(page) -> tuple[AppTest, str, str]:
    """A teacher who pressed "Start a class room": the page, the room's code and key."""
    at = page()
    at.button(key="room_start").click().run()
    assert not at.exception
    return at, at.query_params["room"], at.query_params["key"]


def room_map_stars(at: AppTest) -> list[dict]:
    spec = json.loads(at.get_by_key("room").get("plotly_chart")[0].proto.spec)
    return [t for t in spec["data"] if t.get("marker", {}).get("symbol") == "star"]


def test_a_room_from_start_to_close(page):
    teacher, code, key = teacher_page(page)
    assert re.fullmatch(f"[{rooms.CODE_ALPHABET}]{{4}}", code) and len(key) * 6 >= 128
    invite = teacher.get_by_key("room_invite").html[0].value
    assert re.search(f"https?://[^/?]+/\\?room={code}<", invite) and key not in invite and "QR code of" in invite
    assert "0 in the room, 0 drawings shared" in texts(teacher)

    student = page(room=code)
    assert not student.exception
    banner = " ".join(i.value for i in student.get_by_key("room_member").info)
    assert banner == f"You are in room {code}. Your drawing is shared, without your name, with the class."
    for teacher_only in ("room", "room_invite", "room_map", "room_gallery", "room_clear", "room_close", "room_hide",
                         "room_poll_reveal", "room_start"):
        assert not has_container(student, teacher_only), teacher_only
    assert key not in json.dumps(dict(student.query_params))

    teacher.run()
    assert "1 in the room, 1 drawing shared" in texts(teacher)
    assert len(room_map_stars(teacher)) == 1
    assert image_alts(teacher, "room_gallery")[:2] == ["drawing 1", "reconstruction of drawing 1"]

    teacher.selectbox(key="room_hide_choice").set_value(0).run()
    teacher.button(key="room_hide").click().run()
    assert "1 in the room, 0 drawings shared (1 hidden)" in texts(teacher)

    second = page(room=code)
    teacher.run()
    assert "2 in the room, 1 drawing shared" in texts(teacher)
    teacher.button(key="room_clear").click().run()
    assert "2 in the room, 0 drawings shared" in texts(teacher)
    time.sleep(rooms.SHARE_INTERVAL_S)  # its last share was within the rate limit's half second
    second.button(key="sample_random").click().run()  # a new input: it is shared again
    teacher.run()
    assert "1 drawing shared" in texts(teacher)

    teacher.toggle(key="room_lock_False").set_value(True).run()
    assert "locked" in texts(teacher)
    late = page(room=code)
    assert "locked" in texts(late) and not has_container(late, "room_leave")

    teacher.button(key="room_close").click().run()
    assert f"Class room {code} is closed" in texts(teacher)
    student.run()
    assert "is closed" in texts(student) and not student.exception
    assert "is closed" in texts(page(room=code))


def gallery_sources(at: AppTest) -> list[str]:
    """The src of every <img> of the gallery: a drawing, its reconstruction, the next drawing, ..."""
    return re.findall(r'<img src="([^"]+)"', at.get_by_key("room_gallery").html[0].value)


def test_the_gallery_reconstructs_the_class_at_the_bottleneck_size_the_teacher_chooses(page):
    teacher, code, key = teacher_page(page)
    page(room=code)
    teacher.run()
    z = store().room(code).latent_dim
    at_room_size = gallery_sources(teacher)
    assert len(at_room_size) == 2 and f"at z = {z}." in texts(teacher)

    teacher.select_slider(key="room_gallery_z").set_value(2).run()
    at_two = gallery_sources(teacher)
    assert at_two[0] == at_room_size[0] and at_two[1] != at_room_size[1]  # the same drawing, rebuilt from 2 numbers
    assert "at z = 2." in texts(teacher) and not teacher.exception
    teacher.select_slider(key="room_gallery_z").set_value(z).run()
    assert gallery_sources(teacher) == at_room_size


def test_a_poll_round_trip_and_leaving(page):
    teacher, code, key = teacher_page(page)
    student = page(room=code)
    teacher.text_input(key="room_poll_question").input("Which bottleneck keeps the most?")
    teacher.text_area(key="room_poll_choices").input("z = 2\nz = 64\n<b>both</b>")
    teacher.number_input(key="room_poll_correct").set_value(2)
    teacher.button(key="FormSubmitter:room_poll_form-Ask").click().run()
    assert not teacher.exception and "Which bottleneck keeps the most" in texts(teacher)

    student.run()
    poll = store().poll(code)
    answers = [student.button(key=f"room_answer_{poll.id}_{i}") for i in range(3)]
    assert [b.label for b in answers] == [r"z \= 2", r"z \= 64", r"\<b\>both\</b\>"]  # shown as typed
    answers[1].click().run()
    assert "You answered: z = 64" in texts(student)
    teacher.run()
    chart = json.loads(teacher.get_by_key("room_poll").get("plotly_chart")[0].proto.spec)
    assert chart["data"][0]["x"] == [0, 1, 0]
    teacher.button(key="room_poll_reveal").click().run()
    student.run()
    assert "Right! The answer is z = 64." in texts(student)

    student.button(key="room_leave").click().run()
    assert not has_container(student, "room_member") and "room" not in student.query_params
    teacher.run()
    assert "0 in the room" in texts(teacher)


def test_a_tour_question_as_a_poll_has_the_apps_answer_and_its_reason(page):
    teacher, code, key = teacher_page(page)
    student = page(room=code)
    asks = teacher.selectbox(key="room_poll_asks")
    # the digits have every model the tour's questions compute with: all five are offered, in the tour's order
    assert len(asks.options) == 6 and all(label.startswith("Step ") for label in asks.options[1:])
    asks.set_value("error_chart")  # a value is the step's section; the label its number and title
    teacher.button(key="FormSubmitter:room_poll_form-Ask").click().run()
    assert not teacher.exception
    poll = store().poll(code)
    assert poll.choices == ("the network", "PCA") and poll.question.startswith("At z = 2, which rebuilds")
    net, pca = map(float, re.search(r"the network (\d+\.\d), PCA (\d+\.\d)", poll.explanation).groups())
    assert poll.correct == (0 if net < pca else 1)  # the right answer is the one its own figures show

    student.run()
    student.button(key=f"room_answer_{poll.id}_{1 - poll.correct}").click().run()
    teacher.button(key="room_poll_reveal").click().run()
    student.run()
    assert "Not this time" in texts(student) and f"the network {net:.1f}, PCA {pca:.1f}" in texts(student)


@pytest.mark.parametrize("forged", ["forged-key-of-32-characters-long", ""])
def test_a_forged_or_missing_key_steers_nothing(page, forged):
    room, key = store().create_room("mnist", "conv", 32)
    at = page(room=room.code, key=forged)
    assert not at.exception
    assert "does not open class room" in texts(at)
    for teacher_only in ("room", "room_invite", "room_clear", "room_close"):
        assert not has_container(at, teacher_only)
    assert store().class_view(room.code, key).counts.members == 0  # not a member either


def test_unknown_code_and_garbage_codes_get_a_message(page):
    for code in ("ZZZZ", "<script>alert(1)</script>"):
        at = page(room=code)
        assert not at.exception and "There is no class room" in texts(at)
        assert "<script>" not in texts(at)  # at most 12 characters of it, quoted
        assert at.get_by_key("room_member")


def test_the_301st_member_is_told_the_room_is_full(page):
    room, key = store().create_room("mnist", "conv", 32)
    for _ in range(rooms.MAX_MEMBERS):
        store().join(room.code)
    at = page(room=room.code)
    assert not at.exception and "is full (300 members)" in texts(at)
    assert store().class_view(room.code, key).counts.members == 300


def test_nicknames_long_or_html_get_a_message_or_are_escaped(page):
    room, key = store().create_room("mnist", "conv", 32, allow_nicknames=True)
    student = page(room=room.code)
    student.text_input(key="room_nickname").input("x" * 10_000).run()
    assert not student.exception and "at most 20 characters; this one has 10,000" in texts(student)
    student.text_input(key="room_nickname").input("<img src=x onerror=1>").run()
    assert not student.exception
    teacher = page(room=room.code, key=key)
    gallery = teacher.get_by_key("room_gallery").html[0].value
    assert "&lt;img src=x onerror=1&gt;" not in gallery  # 21 characters: refused, not cut
    student.text_input(key="room_nickname").input("<b>Ada</b>").run()
    teacher.run()
    gallery = teacher.get_by_key("room_gallery").html[0].value
    assert "&lt;b&gt;Ada&lt;/b&gt;" in gallery and "<b>Ada" not in gallery


def test_a_store_that_does_not_answer_leaves_the_page_working(page, monkeypatch):
    room, key = store().create_room("mnist", "conv", 32)

    def unreachable(*_, **__):
        raise rooms.StoreUnreachable("down")

    student = page(room=room.code)
    monkeypatch.setattr(rooms.MemoryStore, "share", unreachable)
    monkeypatch.setattr(rooms.MemoryStore, "room", unreachable)
    student.button(key="sample_random").click().run()
    assert not student.exception and "unreachable" in texts(student)
    assert "ae-ladder" in " ".join(h.value for h in student.get_by_key("reconstructions").html)
    teacher = page(room=room.code, key=key)
    assert not teacher.exception and "unreachable" in texts(teacher)


def test_a_student_never_loads_the_class_and_the_panel_computes_only_when_the_room_changed(page, monkeypatch):
    room, key = store().create_room("mnist", "conv", 32)
    teacher = page(room=room.code, key=key)
    calls = []
    read = rooms.MemoryStore.class_view
    monkeypatch.setattr(rooms.MemoryStore, "class_view", lambda self, *a: calls.append(a) or read(self, *a))
    student = page(room=room.code)
    student.button(key="sample_random").click().run()
    assert calls == []  # a student's page reads no one's drawings
    teacher.run()
    assert len(calls) == 1 and "1 drawing shared" in texts(teacher)
    teacher.run().run()
    assert len(calls) == 1  # the same version: nothing read or computed again
    time.sleep(rooms.SHARE_INTERVAL_S)
    student.button(key="sample_random").click().run()
    teacher.run()
    assert len(calls) == 2


@pytest.mark.parametrize("lang, banner, counts, unknown", [
    ("es", "Estás en el aula {code}. Tu dibujo se comparte con la clase, sin tu nombre.",
     "1 en el aula, 1 dibujo compartido", "No existe el aula ZZZZ"),
    ("zh", "你在教室 {code} 中。你的绘图会匿名分享给全班。", "教室中 1 人，已分享 1 个绘图", "不存在教室 ZZZZ")])
def test_the_room_speaks_the_class_language(page, lang, banner, counts, unknown):
    room, key = store().create_room("fashion", "conv", 32)
    student = page(room=room.code, lang=lang)
    assert not student.exception
    assert " ".join(i.value for i in student.get_by_key("room_member").info) == banner.format(code=room.code)
    assert student.button(key="room_leave").label != "Leave the room"
    teacher = page(room=room.code, key=key, lang=lang)
    assert not teacher.exception and counts in texts(teacher) and "in the room" not in texts(teacher)
    room_map = json.loads(teacher.get("plotly_chart")[0].proto.spec)  # the room map: the panel's first chart
    names = [trace.get("name", "") for trace in room_map["data"]]
    assert "Trouser" not in names and "Ankle boot" not in names and len(names) >= 10  # its classes in the language
    lost = page(room="ZZZZ", lang=lang)
    assert not lost.exception and unknown in texts(lost) and "There is no class room" not in texts(lost)


def test_a_shared_drawing_takes_its_place_from_the_students_page_where_the_maps_are_one():
    """The stroke's share reuses the page's placement on the room's map (no second search of its codes), and
    lands exactly where a search of its own would put it; on another map it searches for itself."""
    import numpy as np

    from ui import resources
    from ui import room as room_ui

    room, _ = store().create_room("mnist", "conv", 32)
    images = np.random.default_rng(3).uniform(0, 1, (2, 28, 28)).astype(np.float32)
    picture = np.round(images[1] * 255).astype(np.uint8)
    same_map = resources.inputs_view("mnist", "conv", images, {32: None})
    on_map = room_ui._on_room_map(room, same_map, 1)
    assert on_map is not None
    reused = room_ui._drawing_of(room, images[1], picture, rooms.DrawingKind.DRAWING, on_map)
    searched = room_ui._drawing_of(room, images[1], picture, rooms.DrawingKind.DRAWING)
    assert (reused.placed, reused.predicted, reused.unusual) == (searched.placed, searched.predicted, searched.unusual)
    assert reused.placed == tuple(resources.default_map_for("mnist", "conv", 32).place(same_map.code(32, 1))[0])

    for other in (resources.inputs_view("mnist", "conv", images, {16: None}), None):  # another size; no page view
        assert room_ui._on_room_map(room, other, 1) is None


def test_held_out_samples_shared_into_a_room_are_as_ordinary_as_held_out_images_are():
    """The gallery's "unusual" compares a shared input with held-out errors taken as the page takes its inputs
    (not preprocessed): held-out images never in that reference (its odd rows, of every class) land around the
    middle, not near the top, where the anomaly demo's preprocessed reference put the page's raw samples."""
    import numpy as np

    from ui import resources
    from ui import room as room_ui

    room, _ = store().create_room("mnist", "conv", 32)
    reference = resources.reference_for("mnist")
    unusual = []
    for index in range(1, 2000, 50):  # odd rows of every class
        picture = np.round(reference.images[index] * 255).astype(np.uint8)
        drawing = room_ui._drawing_of(room, reference.images[index], picture, rooms.DrawingKind.SAMPLE)
        unusual.append(drawing.unusual)
    assert 25 <= np.median(unusual) <= 75, f"held-out samples' median unusualness {np.median(unusual):.0f} %"
