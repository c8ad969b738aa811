"""The class room in a real browser on one server: a teacher starts a room, a student joins by its link and
draws, the star reaches the teacher's map within seconds (the panel's own run_every, no reload), and a poll
goes round. (Across replicas and through Redis: tests/e2e/test_replicas.py's room tests.)"""
from __future__ import annotations

import re
import time

import pytest

from harness.browser import (HOW_TO_GET_CHROMIUM, canvas_box, chromium_available, chromium_browser, draw_stroke,
                             wait_until_idle)

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not chromium_available(), reason=HOW_TO_GET_CHROMIUM)]


def room_counts(page) -> str:
    return page.locator(".st-key-room").inner_text(timeout=60_000)


def test_a_students_stroke_reaches_the_teachers_map_and_a_poll_goes_round(app_url):
    with chromium_browser() as browser:
        teacher = browser.new_page(viewport={"width": 1600, "height": 1200})
        teacher.goto(app_url)
        teacher.locator(".st-key-room_start").get_by_role("button", name="Start a class room").click(timeout=120_000)
        teacher.wait_for_url(re.compile(r"room=[A-Z0-9]{4}&key="), timeout=60_000)
        code = re.search(r"room=([A-Z0-9]{4})", teacher.url).group(1)
        invite = teacher.locator(".st-key-room_invite")
        invite.wait_for(timeout=60_000)
        assert f"?room={code}" in invite.inner_text() and "key=" not in invite.inner_text()
        assert invite.locator("img[alt^='QR code of']").count() == 1

        student = browser.new_page(viewport={"width": 1400, "height": 1100})
        student.goto(f"{app_url}/?room={code}")
        banner = student.locator(".st-key-room_member")
        banner.wait_for(timeout=120_000)
        assert f"You are in room {code}." in banner.inner_text()
        assert student.locator(".st-key-room, .st-key-room_invite").count() == 0
        wait_until_idle(student)
        box = canvas_box(student)
        drawn = time.monotonic()
        draw_stroke(student, box, [(0.3, 0.2), (0.6, 0.5), (0.4, 0.8)])
        # the sample the student opened with is shared at once; the stroke replaces it: the star stays one
        teacher.wait_for_function(
            "() => { const box = document.querySelector('.st-key-room'); const plot = box && box.querySelector('.js-plotly-plot');"
            " return plot && plot.data && plot.data.some(t => String(t.name).startsWith('the class') &&"
            " t.customdata && t.customdata.some(c => c[2] * 1000 > Date.now() - 20000)); }", timeout=30_000)
        assert time.monotonic() - drawn < 15
        assert "1 in the room, 1 drawing shared" in room_counts(teacher)

        teacher.locator(".st-key-room_poll_question input").fill("Which size keeps the most?")
        teacher.locator(".st-key-room_poll_choices textarea").fill("z = 2\nz = 64")
        teacher.locator(".st-key-room_poll_correct input").fill("2")
        teacher.get_by_role("button", name="Ask", exact=True).click()  # not "Help for Ask", the question picker's help
        answer = student.locator(".st-key-room_poll button", has_text="z = 64")
        answer.wait_for(timeout=30_000)  # the student's poll fragment checks every few seconds
        answer.click()
        student.get_by_text("You answered: z = 64").wait_for(timeout=30_000)
        teacher.get_by_role("button", name="Reveal the answer").click(timeout=30_000)
        student.get_by_text("Right! The answer is z = 64.").wait_for(timeout=30_000)
