"""Masked per-task losses from logits: only labelled rows count; a batch without labels
gives 0, not NaN; extreme logits stay finite."""

import numpy as np
import pytest
import tensorflow as tf

from models.losses import masked_task_loss
from tasks import Task

# Logits (values for regression).
CASES = [
    (Task("b", "binary"), [1, -1, 0], [[1.4], [-0.8], [-0.4]]),
    (Task("m", "multiclass", ("x", "y", "z")), [2, -1, 0], [[0.1, 0.2, 1.7], [3, 0, 0], [0.5, -1, 0.25]]),
    (Task("l", "multilabel", ("p", "q")), [[1, 0], [-1, -1], [0, 0]], [[2.2, -1.4], [0.5, 0.1], [-2, -0.8]]),
    (Task("r", "regression"), [2.0, float("nan"), -1.0], [[1.5], [9.0], [-1.0]]),
]


def encoded(task, raw):
    labels, masks = zip(*(task.encode_label(tf.constant(r)) for r in raw))
    return tf.stack(labels), tf.stack(masks)


@pytest.mark.parametrize("task, raw, preds", CASES, ids=lambda c: getattr(c, "kind", None))
def test_only_labelled_rows_count(task, raw, preds):
    labels, masks = encoded(task, raw)
    preds = tf.constant(preds, tf.float32)
    loss = float(masked_task_loss(task, labels, preds, masks))
    per_row = task.per_example_loss(labels, preds).numpy()
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
