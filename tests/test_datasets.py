"""The dataset registry: one typed entry per dataset, read by the loaders, the maps and the CLIs; more at run time."""
from __future__ import annotations

import pytest

from ae_demo import datasets
from ae_demo.data import load_split, source_name
from ae_demo.datasets import DATASETS, DEFAULT_DATASET, Dataset, ImageSource, ModelRef, register
from ae_demo.maps import reference_rows
from ae_demo.zoo import read_zoo


@pytest.fixture
def registered():
    """``registered(entry)`` adds ``entry`` to the registry for one test, and takes it out after."""
    added = []

    def add(entry: Dataset) -> Dataset:
        added.append(entry.name)
        return register(entry)

    yield add
    for name in added:
        DATASETS.pop(name, None)


def test_every_shipped_dataset_has_its_models_and_sample_in_the_zoo():
    zoo = read_zoo()
    assert DEFAULT_DATASET in DATASETS
    for entry in (datasets.MNIST, datasets.FASHION):  # the registry may also hold a test's own dataset by now
        default = zoo.default_card(entry.name)   # the typed default model is a model the zoo has
        assert (default.family, default.latent_dim) == (entry.default_model.family, entry.default_model.latent_dim)
        assert zoo.samples[entry.name].n_images >= entry.map_points or entry.name == "mnist"
        assert entry.image_shape == (1, 28, 28) and len(entry.classes) == 10
        if entry.anomaly.other_dataset is not None:
            assert entry.anomaly.other_dataset in DATASETS and entry.anomaly.other_dataset != entry.name
        if entry.arithmetic is not None:
            assert {entry.arithmetic.source_class, entry.arithmetic.target_class} <= set(range(len(entry.classes)))


def test_a_dataset_registered_at_run_time_is_read_like_the_shipped_ones(registered, official_dir):
    entry = registered(Dataset("own-abc123", "My photos", ("cat", "dog"), items="photos",
                               source=ImageSource(offline_dirs=(str(official_dir),)), image_shape=(3, 32, 32),
                               default_model=ModelRef("conv", 16), map_points=50))
    assert datasets.dataset("own-abc123") is entry and "own-abc123" in datasets.names()
    split = load_split("own-abc123", "test", download=False)   # from its own folder, with no --data-dir
    assert len(split.labels) == 40 and source_name(official_dir) in split.source  # as a card names it
    assert len(reference_rows("own-abc123", 40)) == 40 and len(reference_rows("own-abc123", 500)) == 50


def test_a_dataset_without_a_download_says_what_to_do(registered, tmp_path):
    registered(Dataset("own-empty", "Nothing yet", (), items="pictures",
                       source=ImageSource(offline_dirs=(str(tmp_path / "missing"),))))
    with pytest.raises(FileNotFoundError, match="pass --data-dir"):
        load_split("own-empty", "train")


@pytest.mark.parametrize("bad", [Dataset("a_b", "x", (), items="x"), Dataset("", "x", (), items="x"),
                                 Dataset("ok", "x", (), items="x", image_shape=(28, 28))])
def test_register_refuses_a_name_file_names_cannot_carry_or_a_shape_that_is_not_chw(bad):
    with pytest.raises(ValueError):
        register(bad)
    assert DATASETS.get(bad.name) is not bad


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="known: mnist, fashion"):
        datasets.dataset("cifar")
