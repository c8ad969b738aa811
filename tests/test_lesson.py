"""The lesson on the page (AppTest): the guided tour, the network view, presentation mode."""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from ui.tour import STEPS




def network_cards(at: AppTest) -> list[str]:
    """The network diagram's layer cards (their HTML), empty when the diagram is not on the page."""
    return [card for h in at.get("html") for card in re.findall(r'<figure class="ae-layer".*?</figure>', h.value)]


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_each_tour_step_sets_up_the_page_it_promises(number, open_page):
    step = STEPS[number - 1]
    at = open_page(tour=str(number))
    assert not at.exception
    assert at.radio(key="dataset").value == step.dataset and at.selectbox(key="family").value == step.family
    assert at.selectbox(key="input_choice").value == "sample"
    assert at.session_state["visitor"].sample_index == step.sample
    assert at.select_slider(key="map_latent").value == step.map_latent
    for key in {s.opens for s in STEPS if s.opens}:
        assert at.session_state[key] == (key == step.opens)
    text = " ".join(m.value for m in at.get_by_key("tour").markdown)
    assert f"step {number} of {len(STEPS)}" in text and step.title in text
    assert at.query_params["tour"] in (str(number), [str(number)])


def test_next_and_back_move_through_the_tour_and_the_url_follows(open_page):
    at = open_page(tour="2")
    at.button(key="tour_next").click().run()
    assert not at.exception and "step 3 of" in " ".join(m.value for m in at.get_by_key("tour").markdown)
    at.button(key="tour_back").click().run().button(key="tour_back").click().run()
    assert "step 1 of" in " ".join(m.value for m in at.get_by_key("tour").markdown)
    assert at.button(key="tour_back").disabled
    at.button(key="tour_end").click().run()
    assert not at.exception and "tour" not in at.query_params
    assert at.button(key="tour_start")


def test_a_tour_step_brings_back_its_input_after_the_visitor_moved_on(open_page):
    at = open_page(tour="1")
    at.selectbox(key="sample_class").set_value("3")
    at.button(key="sample_random").click().run()
    assert at.session_state["visitor"].sample_index != STEPS[0].sample  # a 3, where the step showed a 7
    at.button(key="tour_next").click().run()
    assert at.session_state["visitor"].sample_index == STEPS[1].sample and at.selectbox(key="input_choice").value == "sample"


def test_the_network_view_runs_only_while_open(open_page):
    closed = open_page()
    assert not closed.exception and network_cards(closed) == []
    opened = open_page(tour=str([s.opens for s in STEPS].index("network_open") + 1))
    cards = network_cards(opened)
    assert len(cards) == 11  # the conv net: 4 encoder convs, the code, expand, 4 decoder steps, the output
    assert "64 × 14 × 14" in cards[1] and "32 parameters" not in cards[4] and "(32,)" not in cards[4]
    assert re.search(r"32 · [\d,]+ parameters", cards[4])  # the code: 32 numbers


def test_presentation_mode_from_the_url_and_the_toggle(open_page):
    at = open_page(present="1")
    assert not at.exception and at.toggle(key="present_mode").value
    assert any("hue-rotate" in h.value and "font-size: 20px" in h.value for h in at.get("html"))
    at.toggle(key="present_mode").set_value(False).run()
    assert not any("hue-rotate" in h.value for h in at.get("html")) and "present" not in at.query_params
