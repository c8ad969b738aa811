"""The "Your own images" panel and a finished dataset's page, through AppTest, on pictures made here."""
from __future__ import annotations

import numpy as np
import pytest

from ae_demo.data import REPO_ROOT
from ae_demo.image_sets import MAX_ARCHIVE_UPLOAD_MB
from ae_demo.own_training import OwnRecipe, build_dataset

TINY = OwnRecipe(latent_dims=(2, 8, 32), width=4, batch_size=16, scaffold_steps=6, smallest_steps=3, size_steps=3,
                map_method="pca")


def coloured_squares(n: int, side: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    images = rng.integers(0, 50, (n, 3, side, side)).astype(np.uint8)
    for i, label in enumerate(labels):
        r, c = rng.integers(0, side // 2, 2)
        images[i, label, r:r + side // 2, c:c + side // 2] = 230
    return images, labels.astype(np.int64)


@pytest.fixture(scope="module")
def own_dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("own-data")
    mp = pytest.MonkeyPatch()
    mp.setenv("AE_DATA_DIR", str(folder))
    dataset = build_dataset(*coloured_squares(60), ("red", "green", "blue"), "Squares", "owner-key", TINY)
    yield dataset
    mp.undo()


def streamlit_config() -> dict:
    import tomllib

    return tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())


def test_a_picture_uploader_keeps_its_10_mb_under_the_server_s_ceiling():
    from ae_demo.preprocess import MAX_UPLOAD_BYTES

    assert MAX_UPLOAD_BYTES // 2 ** 20 == 10 < streamlit_config()["server"]["maxUploadSize"]
    for module in ("inputs.py", "own_data.py"):
        source = (REPO_ROOT / "ui" / module).read_text()
        # every picture uploader names its own limit; the server's maxUploadSize would let 200 MB through
        assert source.count("st.file_uploader(") == source.count("max_upload_size="), module


def image_captions(at, key: str) -> list[str]:
    """The captions of the st.image pictures in the container with ``key``."""
    return [image.caption for element in at.get_by_key(key).image for image in element.proto.imgs]


def test_the_dataset_opens_by_its_link_in_colour(own_dataset, open_page, monkeypatch):
    monkeypatch.setenv("AE_DATA_DIR", str(own_dataset.folder.parent))
    at = open_page(dataset=own_dataset.id)
    assert not at.exception, at.exception
    assert at.radio(key="dataset").value == own_dataset.id
    assert "Your own images" in [at.radio(key="dataset").format_func(o) for o in at.radio(key="dataset").options]
    assert at.subheader[0].value == "Squares"
    captions = [c.split(" ·")[0] for c in image_captions(at, "own_ladder")]
    assert captions == ["input", "conv z=2", "its error", "PCA z=2", "conv z=8", "its error", "PCA z=8",
                        "conv z=32", "its error", "PCA z=32"]
    text = " ".join(m.value for m in at.markdown)
    assert "How unusual is this?" in text and "3,072 numbers" in text
    assert any("not offered" in i.value for i in at.info)           # the demos it lacks, said plainly
    # 15 steps of a tiny net cannot beat PCA: the page says so, with the steps z = 32 trained (6 + 3 + 2 * 3)
    metrics = own_dataset.card["metrics"]
    assert metrics["pca_sse_per_image"]["32"] < metrics["conv_sse_per_image"]["32"]
    assert any("PCA wins at z = 32" in w.value and "in 15 steps of 16" in w.value for w in at.warning)
    # "Download this view (zip)" in the sidebar, as on the zoo's datasets (own_lab.view_zip makes it)
    assert at.sidebar.get_by_key("view_zip").proto.label == "Download this view (zip)"


def test_a_link_to_no_dataset_is_a_message(fresh_page, tmp_path, monkeypatch):
    monkeypatch.setenv("AE_DATA_DIR", str(tmp_path))
    at = fresh_page(dataset="AAAAAAAAAAAAAAAA").run()
    assert not at.exception
    assert any("no dataset" in e.value for e in at.sidebar.error)
    assert at.radio(key="dataset").value == "mnist"


def test_the_panel_reads_a_zip_and_lists_what_it_skipped(open_page, tmp_path, monkeypatch):
    monkeypatch.setenv("AE_DATA_DIR", str(tmp_path))
    at = open_page(dataset="own")
    assert not at.exception
    assert at.radio(key="dataset").value == "own"
    assert at.text_input(key="own_data_name") is not None
    assert at.radio(key="own_data_size").value == 32 and at.radio(key="own_data_colour").value == "grey"
    # a class's ZIP may be far larger than one photo: the panel's uploader takes the server's ceiling
    uploader = at.get_by_key("own_data_upload").proto
    assert uploader.max_upload_size_mb == MAX_ARCHIVE_UPLOAD_MB == streamlit_config()["server"]["maxUploadSize"]
    assert "200 MB" in " ".join(c.value for c in at.get_by_key("own_data").caption)


def test_every_picture_source_runs(own_dataset, open_page, monkeypatch):
    monkeypatch.setenv("AE_DATA_DIR", str(own_dataset.folder.parent))
    at = open_page(dataset=own_dataset.id)
    for source in ("draw", "upload", "heldout"):
        at.radio(key="own_lab_source").set_value(source).run()
        assert not at.exception, (source, at.exception)
    at.number_input(key="own_lab_pick").set_value(3).run()
    at.radio(key="own_lab_map_z").set_value(8).run()
    assert not at.exception
    assert "conv z=32" in " ".join(c for c in image_captions(at, "own_ladder"))



@pytest.mark.parametrize("lang, damaged, too_few", [
    ("es", "«broken.zip» no es un archivo ZIP legible", "Solo se encontraron 1 imagen utilizable"),
    ("zh", "“broken.zip”不是可读取的 ZIP 压缩包", "只找到 1 张可用图片")])
def test_a_broken_upload_is_told_in_the_class_language(open_page, tmp_path, monkeypatch, lang, damaged, too_few):
    import io

    from PIL import Image

    monkeypatch.setenv("AE_DATA_DIR", str(tmp_path))
    at = open_page(dataset="own", lang=lang)
    at.file_uploader(key="own_data_upload").set_value([("broken.zip", b"PK\x03\x04 cut short", "application/zip")])
    at.run()
    assert not at.exception and any(e.value.startswith(damaged) for e in at.error), [e.value for e in at.error]
    picture = io.BytesIO()
    Image.fromarray(np.full((40, 40, 3), 200, np.uint8)).save(picture, format="PNG")
    at.file_uploader(key="own_data_upload").set_value([("one.png", picture.getvalue(), "image/png")]).run()
    assert not at.exception and any(w.value.startswith(too_few) for w in at.warning), [w.value for w in at.warning]
