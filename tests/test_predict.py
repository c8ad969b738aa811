"""Predict, then see (AppTest): five tour steps ask first; each right answer is what the app computes for the
current input; the section stays hidden until an answer or Show; the sidebar's switch turns questions off."""
from __future__ import annotations

import numpy as np
import pytest

from ae_demo.inference import load_family, run_ladder
from ae_demo.rooms import MAX_CHOICES
from ae_demo.zoo import load_verified_reference
from ui.tour import STEPS

ASKING = ("reconstructions", "error_chart", "identity", "features", "anomaly")


def _step(section: str) -> int:
    return [s.section for s in STEPS].index(section) + 1


def _ladder_errors(step) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
    """The step's input through its family's ladder and PCA's, computed here apart from the page."""
    image = load_verified_reference(step.dataset).images[step.sample].numpy()[None].astype(np.float32) / 255
    net, pca = (run_ladder(load_family(step.dataset, f), image) for f in (step.family, "pca"))
    return net.latent_dims, net.sse[:, 0], pca.sse[:, 0]


def _answers(at):
    radio = at.get_by_key("predict").radio[0]
    return radio, radio.options


@pytest.mark.parametrize("section", ASKING)
def test_exactly_one_option_is_right_and_it_is_what_the_app_computes(section, open_page):
    number = _step(section)
    at = open_page(tour=str(number))
    assert not at.exception
    radio, options = _answers(at)
    assert len(options) >= 2 and radio.value is None
    assert any(f".st-key-{section} {{ visibility: hidden" in h.value for h in at.get("html"))  # hidden until answered
    right = []
    for option in options:
        radio.set_value(option).run()
        assert not at.exception
        if at.get_by_key("predict").success:
            right.append(option)
        radio = at.get_by_key("predict").radio[0]
    assert len(right) == 1
    step = STEPS[number - 1]
    if section in ("reconstructions", "error_chart"):
        dims, net, pca = _ladder_errors(step)
        if section == "error_chart":
            assert right == ["the network" if net[0] < pca[0] else "PCA"]
        else:
            below = [z for i, z in enumerate(dims) if (net[i:] < pca[-1]).all()]
            assert dims == (2, 4, 8, 16, 32, 64)  # six sizes and "none of them": the two smallest share an option
            assert right == ["none of them" if not below else "z ≤ 4" if below[0] <= 4 else f"z = {below[0]}"]
    assert len(options) <= MAX_CHOICES  # a teacher can ask it as a class room poll
    assert not any(f".st-key-{section} {{ visibility: hidden" in h.value for h in at.get("html"))  # shown once answered


def test_show_reveals_without_an_answer_and_the_switch_turns_questions_off(open_page):
    at = open_page(tour=str(_step("error_chart")))
    at.button(key="predict_show_error_chart").click().run()
    assert not at.exception and at.get_by_key("predict").info
    at.toggle(key="predict_on").set_value(False).run()
    assert not at.exception
    with pytest.raises(KeyError):  # no question any more
        at.get_by_key("predict")
    assert len([s for s in STEPS if s.section in ASKING]) >= 5
