"""The classroom demos on the page (AppTest): each opened by ?demo=…, computed only while open."""
from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from ae_demo import anomaly
from ae_demo.zoo import load_model, load_verified_reference, model_name
from ui.demos import NAMES




def texts(node) -> list[str]:
    """Every markdown and caption text under ``node``, in page order."""
    out = []
    if hasattr(node, "children"):
        for child in node.children.values():
            out += texts(child)
    elif getattr(node, "type", None) in ("markdown", "caption") and isinstance(getattr(node, "value", None), str):
        out.append(node.value)
    return out


def captions_of_images(block) -> list[str]:
    return [c for image in block.image for c in image.captions]


def urls_of_images(block) -> list[str]:
    return [url for image in block.image for url in image.value]


@pytest.fixture(scope="module")
def closed_page(open_page):
    return open_page()


@pytest.mark.parametrize("name", NAMES)
def test_a_closed_demo_computes_nothing(closed_page, name):
    block = closed_page.get_by_key(name)
    assert not closed_page.exception
    assert not block.image and not block.get("plotly_chart") and not closed_page.session_state[f"demo_{name}_open"]


@pytest.mark.slow  # several seconds alone: the fast tier must stay under 90 s
@pytest.mark.parametrize("name", NAMES)
def test_a_link_opens_the_demo_and_keeps_the_input(name, open_page):
    at = open_page(demo=name, sample="1500")
    assert not at.exception
    assert at.session_state[f"demo_{name}_open"]
    assert at.selectbox(key="input_choice").value == "sample" and at.session_state["visitor"].sample_index == 1500
    assert texts(at.get_by_key(name))  # it says something
    for other in NAMES:
        if other != name:
            assert not at.get_by_key(other).image


def test_denoise_shows_both_nets_with_their_sse(open_page):
    at = open_page(demo="denoise")
    captions = captions_of_images(at.get_by_key("denoise"))
    assert any(re.match(r"convolutional z = 32 · SSE \d+\.\d", c) for c in captions)
    assert any(re.match(r"denoising z = 32 · SSE \d+\.\d", c) for c in captions)
    assert any("held-out images" in t and "first 200" in t for t in texts(at.get_by_key("denoise")))
    at.radio(key="denoise_kind").set_value("Erased square").run()
    assert not at.exception and any("10×10 square erased" in t for t in texts(at.get_by_key("denoise")))


def _backend_percentile(dataset: str, row: int) -> float:
    references = anomaly.load_references(dataset)
    model = load_model(model_name("conv", references.default_latent_dim, dataset))
    pixels = load_verified_reference(dataset).images[row].numpy()
    image, _ = anomaly.anomaly_input(pixels)
    return anomaly.score(model, references.default, image, dataset).percentile


def first_percent(at: AppTest, key: str) -> int:
    match = re.search(r"(\d+(?:\.\d+)?)\s*%", " ".join(texts(at.get_by_key(key))))
    assert match, texts(at.get_by_key(key))
    return float(match.group(1))


@pytest.mark.parametrize("row", [1500, 3])
def test_anomaly_says_the_percentile_the_backend_computes(row, open_page):
    at = open_page(demo="anomaly", sample=str(row))
    assert not at.exception
    assert first_percent(at, "anomaly") == math.floor(_backend_percentile("mnist", row))
    text = " ".join(texts(at.get_by_key("anomaly")))
    assert "ROC AUC" in text and f"conv_z{anomaly.load_references('mnist').default_latent_dim}_mnist" in text
    assert len(at.get_by_key("anomaly").get("plotly_chart")) == 1


def test_a_noise_upload_still_gets_an_anomaly_answer(open_page):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    at = open_page(demo="anomaly")
    at.file_uploader(key="upload").set_value(("noise.png", buffer.getvalue(), "image/png")).run()
    assert not at.exception and any("noise.png" in e.value for e in at.error)  # the page could not read it
    text = " ".join(texts(at.get_by_key("anomaly")))
    answer = re.search(r"noise\.png.*?More unusual than (\d+) %", text)
    assert answer and int(answer.group(1)) >= 95


def test_new_samples_follow_the_seed(open_page):
    at = open_page(demo="generate")
    before = urls_of_images(at.get_by_key("generate_vae"))
    at.number_input(key="generate_seed").set_value(7).run()
    after = urls_of_images(at.get_by_key("generate_vae"))
    assert not at.exception and before != after
    at.button(key="generate_new").click().run()
    assert at.number_input(key="generate_seed").value == 8 and urls_of_images(at.get_by_key("generate_vae")) != after
    assert len(at.get_by_key("generate").get("plotly_chart")) == 2   # z = 2: both code maps
    at.radio(key="generate_latent").set_value(16).run()
    assert not at.exception and not at.get_by_key("generate").get("plotly_chart")


def test_arithmetic_at_strength_zero_is_the_inputs_own_reconstruction(open_page):
    at = open_page(demo="arithmetic")
    block = at.get_by_key("arithmetic")
    (own,) = [url for image in block.image if any("its reconstruction" in c for c in image.captions)
              for url in image.value]
    strip = urls_of_images(at.get_by_key("arithmetic_strip"))
    assert strip[0] == own and len(set(strip)) > 1  # s = 0 is the reconstruction; further on it moves
    at.slider(key="arithmetic_strength").set_value(0.0).run()
    assert not at.exception and set(urls_of_images(at.get_by_key("arithmetic_strip"))) == {own}


def test_exports_are_offered(closed_page, open_page):
    labels = [b.proto.label for b in closed_page.get("download_button")]
    assert "Download the map as CSV" in labels and "Download this view (zip)" in labels
    demo = open_page(demo="denoise")
    assert "Download PNG strip" in [b.proto.label for b in demo.get_by_key("denoise").get("download_button")]
    import json

    for chart in demo.get("plotly_chart"):
        assert "toImageButtonOptions" in json.loads(chart.proto.config or "{}")


def test_one_live_training_per_server_and_a_second_visitor_is_told_when_it_is_free(open_page):
    from ui import resources

    first, second = open_page(demo="learn_live"), open_page(demo="learn_live")
    try:
        first.select_slider(key="learn_live_latent").set_value(2)
        first.button(key="learn_live_start").click().run()
        assert not first.exception and any("Starting" in i.value or "Training" in i.value for i in first.info)
        second.button(key="learn_live_start").click().run()
        assert not second.exception
        assert any(w.value.startswith("Busy:") and " s (at " in w.value for w in second.warning)
        second.button(key="learn_live_stop").click().run()  # not theirs to stop
        assert resources.live_trainer().snapshot().running
        first.button(key="learn_live_stop").click().run()
        assert not first.exception and not resources.live_trainer().snapshot().running
    finally:
        resources.live_trainer().close()


@pytest.mark.parametrize("lang, title, said, summary, unusual", [
    ("es", "Eliminación de ruido: limpiar una entrada dañada", "ruido gaussiano de σ = 0,30", "σ = 0,1:",
     "Más inusual que el"),
    ("zh", "去噪：清理被损坏的输入", "σ = 0.30 的高斯噪声", "σ = 0.1：", "更不寻常")])
def test_the_demos_speak_the_class_language(open_page, lang, title, said, summary, unusual):
    at = open_page(demo="denoise", lang=lang)
    assert not at.exception
    text = " ".join(texts(at.get_by_key("denoise")))
    assert at.get_by_key("demo_denoise_open").label == title and said in text
    assert summary in text and "Mean error" not in text   # the curve's numbers as text, translated
    assert at.radio(key="denoise_kind").options[0] != "Gaussian noise"
    at = open_page(demo="anomaly", lang=lang)
    text = " ".join(texts(at.get_by_key("anomaly")))
    assert not at.exception and unusual in text and "More unusual" not in text


def test_the_charts_numbers_are_text(open_page):
    """Each demo chart's numbers, for a screen reader: the denoising curve and the unusualness curve."""
    from ui import resources

    at = open_page(demo="denoise")
    curve = resources.denoising_curve("mnist")
    text = " ".join(texts(at.get_by_key("denoise")))
    assert f"the noisy input itself: σ = 0.0: {curve.corrupted_sse[0]:.1f}" in text
    assert f"σ = {curve.sigmas[-1]:.1f}: {curve.denoised_sse[-1]:.1f}." in text
    at = open_page(demo="anomaly")
    text = " ".join(texts(at.get_by_key("anomaly")))
    assert "The curve's values: 10th percentile, SSE" in text and "95th percentile, SSE" in text


def test_the_live_charts_numbers_are_text():
    """Watch it learn: the loss chart's and the code map's numbers as sentences a screen reader reaches."""
    from types import SimpleNamespace

    from ui.demos.learn_live import _codes_summary, _loss_summary

    snap = SimpleNamespace(loss_history=np.array([[1, 540.0], [2, 300.0], [40, 120.5]]),
                           unseen_sse=np.array([52.0, 30.25]),
                           codes=np.array([[0.0, 1.0], [2.0, 3.0], [-1.0, -1.0]]), code_labels=np.array([0, 0, 2]))
    assert _loss_summary(snap, 66.4) == ("The chart's numbers: the training loss went from 540.0 at step 1 to 120.5 "
                                         "at step 40 (an exact copy scores 66.4). SSE of the unseen images after each "
                                         "epoch: 52.0; 30.2.")
    assert _codes_summary(snap, ("0", "1", "2")) == ("The chart's numbers: the mean code of each class, "
                                                     "0 (1.00, 2.00); 2 (-1.00, -1.00).")
