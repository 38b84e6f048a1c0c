"""Catalogue datasets (celeb_a, smallnorb, shapes3d, dsprites) with `tfds.testing.mock_data`."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

import data
from tasks import MulticlassTask
from tests.data.helpers import first_batch

EXPECTED = {
    "celeb_a": (40, (218, 178, 3)),
    "smallnorb": (5, (96, 96, 1)),
    "shapes3d": (6, (64, 64, 3)),
    "dsprites": (5, (64, 64, 1)),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_mocked_batches(name, tmp_path):
    spec = data.get_dataset(name)
    num_tasks, shape = EXPECTED[name]
    assert len(spec.tasks) == num_tasks
    with tfds.testing.mock_data(num_examples=6):
        inputs, labels, masks = first_batch(spec, "train", str(tmp_path), batch_size=3)
    assert inputs["image"].shape == (3,) + shape
    assert set(labels) == {t.name for t in spec.tasks} == set(masks)
    for task in spec.tasks:
        if isinstance(task, MulticlassTask):
            assert labels[task.name].shape == (3,)
            assert labels[task.name].max() < len(task.classes)
        else:
            assert labels[task.name].shape == (3, 1)
        assert np.all(masks[task.name] == 1.0)


def test_celeb_a_attribute_names():
    spec = data.get_dataset("celeb_a")
    assert spec.tasks[0].name == "five_o_clock_shadow"
    assert spec.task("smiling").label_key == "attributes/Smiling"
    assert spec.inputs[0].resize == (64, 64)


def test_task_subset_and_resize_option(tmp_path):
    spec = data.get_dataset("smallnorb", resize=[48, 48])
    assert spec.inputs[0].resize == (48, 48) and spec.inputs[0].shape == (96, 96, 1)
    with tfds.testing.mock_data(num_examples=4):
        _, labels, _ = first_batch(spec, "validation", str(tmp_path), batch_size=2,
                                   tasks=["azimuth", "category"])
    assert set(labels) == {"azimuth", "category"}
    with pytest.raises(ValueError, match="resize"):
        data.get_dataset("dsprites", resize=[0, 3])


def test_dsprites_pixels_are_zero_one():
    assert data.get_dataset("dsprites").inputs[0].max_value == 1.0
