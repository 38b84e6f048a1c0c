"""Pipelines: seeded shuffling, caching, `take`, task subsets, predefined vs derived configs."""

import numpy as np
import tensorflow as tf

import data
from data import pipeline

SMALL = dict(train_size=60, validation_size=10, test_size=10)


def order(ds):
    return np.concatenate([b[1]["size"].numpy()[:, 0] for b in ds])


def test_seeded_shuffle_is_repeatable_and_reshuffles(data_dir):
    spec = data.get_dataset("multi_attribute_shapes", **SMALL)
    base = pipeline.load_examples(spec, "train", spec.tasks, data_dir)
    a = pipeline.batch(base, 16, shuffle_seed=7)
    b = pipeline.batch(base, 16, shuffle_seed=7)
    first, second = order(a), order(a)
    np.testing.assert_array_equal(first, order(b))        # same seed, same order
    assert not np.array_equal(first, second)              # next epoch, new order
    np.testing.assert_array_equal(np.sort(first), np.sort(order(pipeline.batch(base, 16))))
    assert not np.array_equal(first, order(pipeline.batch(base, 16, shuffle_seed=8)))


def test_take_subset_and_structure(data_dir):
    spec = data.get_dataset("multi_attribute_shapes", **SMALL)
    ds = pipeline.load_split(spec, "train", ["color", "present"], data_dir, batch_size=8,
                             take=20, drop_remainder=True)
    batches = list(ds)
    assert len(batches) == 2
    inputs, labels, masks = batches[0]
    assert set(labels) == set(masks) == {"color", "present"}
    assert labels["color"].dtype == tf.int64 and labels["present"].dtype == tf.float32
    assert masks["color"].shape == (8,) and masks["color"].dtype == tf.float32


def test_named_configs_are_named_by_string():
    spec = data.get_dataset("multi_attribute_shapes", missing_fraction=0.25)
    assert spec.tfds_name == "multi_attribute_shapes/small_missing" and not spec.builder_kwargs
    spec = data.get_dataset("mmoe_synthetic", correlation=0.9)
    assert spec.tfds_name == "mmoe_synthetic/p0.9" and not spec.builder_kwargs
    spec = data.get_dataset("mmoe_synthetic", correlation=0.3)
    assert spec.builder_kwargs["config"].name == "p0.3"


def test_unknown_split_lists_the_splits():
    import pytest
    spec = data.get_dataset("multi_attribute_shapes")
    with pytest.raises(ValueError, match="'valid' is not one of .*train, validation, test"):
        pipeline.split_name(spec, "valid")


def test_concurrent_builds_of_one_dataset_both_succeed(tmp_path):
    # A study's parallel runs build the same dataset at once: TFDS's final rename of the
    # second build used to fail ("Directory not empty"); prepare() serialises them.
    import threading

    spec = data.get_dataset("mmoe_synthetic", dim=4, train_size=40, validation_size=8,
                            test_size=8, seed=123)
    results, errors = [], []

    def build():
        try:
            results.append(pipeline.prepare(spec, str(tmp_path)).is_prepared())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert results == [True, True, True]
