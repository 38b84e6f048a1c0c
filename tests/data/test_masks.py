"""Label encoding and masks for every task kind: missing labels never raise, never count
as negatives, and leave finite labels behind."""

import numpy as np
import pytest
import tensorflow as tf

import data
from tasks import Task, select_tasks

BINARY = Task("b", "binary")
MULTICLASS = Task("m", "multiclass", ("x", "y", "z"))
MULTILABEL = Task("l", "multilabel", ("p", "q", "r"))
REGRESSION = Task("r", "regression")


def encode(task, raw):
    label, mask = task.encode_label(tf.constant(raw))
    return label.numpy(), float(mask.numpy())


@pytest.mark.parametrize("task, raw, label, mask", [
    (BINARY, 1, [1.0], 1.0),
    (BINARY, 0, [0.0], 1.0),          # a labelled negative keeps mask 1
    (BINARY, -1, [0.0], 0.0),         # missing: mask 0, harmless label
    (BINARY, True, [1.0], 1.0),       # celeb_a stores booleans
    (MULTICLASS, 2, 2, 1.0),
    (MULTICLASS, 0, 0, 1.0),
    (MULTICLASS, -1, 0, 0.0),
    (MULTILABEL, [1, 0, 1], [1.0, 0.0, 1.0], 1.0),
    (MULTILABEL, [0, 0, 0], [0.0, 0.0, 0.0], 1.0),   # "none of them" is a label
    (MULTILABEL, [-1, -1, -1], [0.0, 0.0, 0.0], 0.0),
    (REGRESSION, 2.5, [2.5], 1.0),
    (REGRESSION, 0.0, [0.0], 1.0),
    (REGRESSION, float("nan"), [0.0], 0.0),
])
def test_encode_label(task, raw, label, mask):
    got_label, got_mask = encode(task, raw)
    np.testing.assert_array_equal(got_label, label)
    assert got_mask == mask
    assert np.all(np.isfinite(got_label))


def test_missing_label_gives_no_nan_in_a_masked_loss():
    # A batch where the regression task has no labels at all: the model's masked loss
    # is 0, not NaN (every kind: tests/models/test_losses.py).
    from models.losses import masked_task_loss

    labels, masks = zip(*(REGRESSION.encode_label(tf.constant(float("nan"))) for _ in range(4)))
    loss = masked_task_loss(REGRESSION, tf.stack(labels), tf.ones([4, 1]), tf.stack(masks))
    assert float(loss) == 0.0


def test_select_tasks_lists_the_dataset_tasks():
    spec = data.get_dataset("multi_attribute_shapes")
    assert [t.name for t in select_tasks(spec.tasks, ["size", "shape"])] == ["size", "shape"]
    assert [t.name for t in select_tasks(spec.tasks, "color, filled")] == ["color", "filled"]
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['colour'\].*shape, color, size"):
        select_tasks(spec.tasks, ["colour"], "multi_attribute_shapes")


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(ValueError, match="unknown dataset 'nope'.*csv.*multi_attribute_shapes"):
        data.get_dataset("nope")


def test_unknown_option_names_valid_options():
    with pytest.raises(ValueError, match=r"data.options.colour: unknown argument.*valid: config, image_size"):
        data.get_dataset("multi_attribute_shapes", colour=1)


def test_every_dataset_declares_tasks_and_inputs():
    for name in data.list_datasets():
        if name in ("csv", "table", "conll", "conll2000"):
            continue  # need files (or a download): test_csv_dataset.py, test_tables.py,
            # test_tagged.py, test_conll2000.py
        spec = data.get_dataset(name)
        assert spec.tasks and spec.inputs, name
        assert len({t.name for t in spec.tasks}) == len(spec.tasks), name
