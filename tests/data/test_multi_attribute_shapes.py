"""`multi_attribute_shapes`: small builds, determinism, every attribute's labels, dropped labels."""

import numpy as np
import pytest

import data
from tests.data.helpers import assert_same, whole_split

SMALL = dict(train_size=120, validation_size=20, test_size=20)


def test_small_build_labels(data_dir):
    spec = data.get_dataset("multi_attribute_shapes", **SMALL)
    inputs, labels, masks = whole_split(spec, "train", data_dir)
    assert inputs["image"].shape == (120, 32, 32, 3)
    assert set(labels) == {"shape", "color", "size", "present", "filled"}
    assert labels["shape"].max() < 4 and labels["color"].max() < 6
    assert 0.15 <= labels["size"].min() and labels["size"].max() <= 0.30
    assert set(np.unique(labels["filled"])) == {0.0, 1.0}
    # The main object's shape is always among the shapes present.
    assert np.all(labels["present"][np.arange(120), labels["shape"]] == 1.0)
    assert all(m.min() == 1.0 for m in masks.values())
    # Several classes of each multiclass task occur even in a small build.
    assert len(np.unique(labels["shape"])) == 4 and len(np.unique(labels["color"])) == 6


def test_deterministic_and_sized(data_dir, tmp_path):
    spec = data.get_dataset("multi_attribute_shapes", image_size=20, seed=3, **SMALL)
    a = whole_split(spec, "test", data_dir)
    b = whole_split(spec, "test", str(tmp_path))
    assert a[0]["image"].shape == (20, 20, 20, 3)
    for part_a, part_b in zip(a, b):
        assert_same(part_a, part_b)
    other = whole_split(data.get_dataset("multi_attribute_shapes", image_size=20, seed=4, **SMALL),
                        "test", data_dir)
    assert not np.array_equal(a[0]["image"], other[0]["image"])


def test_dropped_labels_are_masked(data_dir):
    full = whole_split(data.get_dataset("multi_attribute_shapes", **SMALL), "train", data_dir)
    spec = data.get_dataset("multi_attribute_shapes", config="small_missing", **SMALL)
    inputs, labels, masks = whole_split(spec, "train", data_dir)
    # Same images; labels dropped independently per task, about 25% each.
    np.testing.assert_array_equal(inputs["image"], full[0]["image"])
    for name, mask in masks.items():
        assert 0.1 < 1.0 - mask.mean() < 0.4, name
        kept = mask == 1.0
        np.testing.assert_array_equal(labels[name][kept], full[1][name][kept])
        assert np.all(np.isfinite(labels[name]))
        if name == "present":
            assert np.all(labels[name][~kept] == 0.0)  # cleaned, not -1


def test_bad_options():
    with pytest.raises(ValueError, match="data.options.config: unknown value 'huge'; valid: small, small_missing, large"):
        data.get_dataset("multi_attribute_shapes", config="huge")
    with pytest.raises(ValueError, match="missing_fraction"):
        data.get_dataset("multi_attribute_shapes", missing_fraction=1.5)
