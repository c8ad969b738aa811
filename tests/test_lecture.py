"""The lecture's page (AppTest): the unconstrained net's section and tour step say what was measured, and the
formulas stand beside the network, the ladder, the features and the VAE demo."""
from __future__ import annotations

import pytest

from ae_demo.identity import copy_errors
from ae_demo.zoo import load_verified_reference
from ui.tour import STEPS


def _step(section: str) -> int:
    return [s.section for s in STEPS].index(section) + 1


def _latex(at) -> str:
    return " ".join(e.body for e in at.get("latex"))


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
def test_the_identity_step_quotes_the_figures_measured_on_the_held_out_images(open_page):
    at = open_page(tour=str(_step("identity")))
    assert not at.exception
    free = copy_errors("mnist", load_verified_reference("mnist").images)[-1]
    tour = " ".join(m.value for m in at.get_by_key("tour").markdown)
    assert f"{free.heldout:.2f}" in tour and f"{free.probes['noise']:.2f}" in tour
    section = " ".join(m.value for m in at.get_by_key("identity").markdown)
    assert f"{free.heldout:.2f}" in section and f"{free.probes['letter']:.2f}" in section
    # one row per input: yours, the letter, the noise, the Fashion image; each beside the three nets
    strips = [h.value for h in at.get_by_key("identity").get("html") if "ae-strip" in h.value]
    assert len(strips) == 4 and all(s.count("<img") == 4 for s in strips)


def test_the_tour_opens_on_the_network_and_its_steps_follow_a_lecture():
    sections = [s.section for s in STEPS]
    assert sections[0] == "network" and sections[0] != sections[1]
    order = ["network", "learn_live", "reconstructions", "error_chart", "identity", "features", "latent_map",
             "playground", "generate"]
    assert sections[:len(order)] == order and set(sections[len(order):]) == {"denoise", "anomaly", "arithmetic"}


def test_the_formulas_stand_beside_their_pictures(open_page):
    at = open_page(tour=str(_step("network")))
    assert not at.exception
    assert r"\mathrm{SSE}" in _latex(at) and "h_0 = x" in _latex(at)   # the ladder's loss and score, the network
    at = open_page(tour=str(_step("features")))
    assert r"\mathrm{KL}(\rho" in _latex(at) and r"\hat{\rho}_j" in _latex(at)
    at = open_page(tour=str(_step("generate")))
    assert r"\mathcal{N}(0, I)" in _latex(at)
    assert all(c.value for c in at.caption)  # every equation comes with its symbols in words


def test_the_features_histogram_has_its_numbers_in_a_table(open_page):
    """The ρ̂ histogram's text summary: per net, how many of its units fall in each range, and their mean, the
    numbers the chart draws (resources.mean_activations), in a table a screen reader reaches."""
    import numpy as np

    from ui import resources
    from ui.features import BIN_EDGES, HIDDEN

    at = open_page(tour=str(_step("features")))
    assert not at.exception
    (table,) = [h.value for h in at.get_by_key("features_rho_hat_summary").get("html")]
    assert table.count("<tr>") == 3 and "<caption>" in table and 'scope="col"' in table
    for family in ("sparse", "nosparse"):
        rho_hat = resources.mean_activations("mnist", family, HIDDEN)
        counts, _edges = np.histogram(rho_hat, bins=BIN_EDGES)
        assert counts.sum() == HIDDEN
        cells = "".join(f"<td>{c}</td>" for c in counts) + f"<td>{rho_hat.mean():.3f}</td>"
        assert cells in table, (family, cells)
