"""Masked per-task losses: only labelled rows count; a batch without labels gives 0, not NaN."""

import numpy as np
import pytest
import tensorflow as tf

from data.pipeline import encode_label
from data.tasks import Task
from models.losses import masked_task_loss, per_example_loss

CASES = [
    (Task("b", "binary"), [1, -1, 0], [[0.8], [0.3], [0.4]]),
    (Task("m", "multiclass", ("x", "y", "z")), [2, -1, 0], [[0.1, 0.2, 0.7], [1, 0, 0], [0.5, 0.25, 0.25]]),
    (Task("l", "multilabel", ("p", "q")), [[1, 0], [-1, -1], [0, 0]], [[0.9, 0.2], [0.5, 0.5], [0.1, 0.3]]),
    (Task("r", "regression"), [2.0, float("nan"), -1.0], [[1.5], [9.0], [-1.0]]),
]


def encoded(task, raw):
    labels, masks = zip(*(encode_label(task, tf.constant(r)) for r in raw))
    return tf.stack(labels), tf.stack(masks)


@pytest.mark.parametrize("task, raw, preds", CASES, ids=lambda c: getattr(c, "kind", None))
def test_only_labelled_rows_count(task, raw, preds):
    labels, masks = encoded(task, raw)
    preds = tf.constant(preds, tf.float32)
    loss = float(masked_task_loss(task, labels, preds, masks))
    per_row = per_example_loss(task, labels, preds).numpy()
    assert masks.numpy().tolist() == [1.0, 0.0, 1.0]
    assert loss == pytest.approx((per_row[0] + per_row[2]) / 2, rel=1e-6)
    # The unlabelled middle row cannot move the loss, whatever its prediction.
    other = tf.tensor_scatter_nd_update(preds, [[1]], [tf.reverse(preds[1], [0])])
    assert float(masked_task_loss(task, labels, other, masks)) == pytest.approx(loss, rel=1e-6)


@pytest.mark.parametrize("task, raw, preds", CASES, ids=lambda c: getattr(c, "kind", None))
def test_a_batch_without_labels_gives_zero_loss_and_zero_gradient(task, raw, preds):
    labels, _ = encoded(task, raw)
    masks = tf.zeros([3])
    preds = tf.Variable(tf.constant(preds, tf.float32))
    with tf.GradientTape() as tape:
        loss = masked_task_loss(task, labels, preds, masks)
    grad = tape.gradient(loss, preds)
    assert float(loss) == 0.0
    assert np.all(grad.numpy() == 0.0)
