import numpy as np
import pytest
import torch

from ae_demo.data import load_reference, load_split, read_idx, to_unit, write_idx
from ae_demo.datasets import DATASETS


def test_idx_round_trip(tmp_path, blobs):
    images, _ = blobs(7)
    write_idx(tmp_path / "x.gz", images)
    assert np.array_equal(read_idx(tmp_path / "x.gz"), images)
    # mtime 0 in the gzip header: the same array gives the same bytes, so checksums are stable
    write_idx(tmp_path / "y.gz", images)
    assert (tmp_path / "x.gz").read_bytes() == (tmp_path / "y.gz").read_bytes()


def test_read_idx_rejects_other_files(tmp_path):
    (tmp_path / "bad.gz").write_bytes(b"not an idx file")
    with pytest.raises(ValueError, match="bad.gz"):
        read_idx(tmp_path / "bad.gz")


def test_ten_k_layout_uses_the_fixed_split(ten_k_dir, blobs):
    images, labels = blobs(50)
    test = load_split("mnist", "test", ten_k_dir)
    train = load_split("mnist", "train", ten_k_dir)
    assert len(test.labels) == 10 and len(train.labels) == 40
    assert torch.equal(test.images, torch.from_numpy(images[::5]))
    assert torch.equal(train.labels, torch.from_numpy(np.delete(labels, np.s_[::5]).astype(np.int64)))


def test_official_layout(official_dir):
    train = load_split("fashion", "train", official_dir)
    assert train.images.shape == (120, 28, 28) and train.images.dtype == torch.uint8
    assert train.labels.dtype == torch.int64


def test_missing_files_say_what_is_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        load_split("mnist", "train", tmp_path)


def test_to_unit_shape_and_range(blobs):
    x = to_unit(torch.tensor(blobs(3)[0]))
    assert x.shape == (3, 1, 28, 28) and x.dtype == torch.float32
    assert x.min() >= 0 and x.max() <= 1


@pytest.mark.parametrize("dataset, n", [("mnist", 2000), ("fashion", 10000)])
def test_bundled_reference_is_the_whole_heldout_split(dataset, n):
    split = load_reference(dataset)
    assert split.images.shape == (n, 28, 28)
    counts = torch.bincount(split.labels, minlength=10)
    assert len(counts) == len(DATASETS[dataset].classes) and counts.min() >= n // 10 * 0.8


def test_an_unknown_dataset_says_which_exist():
    with pytest.raises(ValueError, match="unknown dataset 'kmnist'.*mnist"):
        load_split("kmnist", "test", download=False)
