"""Per-task losses, masked by the task's label mask.

Each task's loss is the mean over the examples that carry its label:
`sum(mask * loss) / max(sum(mask), 1)`, so a batch with no labels for a task
contributes exactly zero for it (never NaN), and a missing label never counts as
a negative. Losses follow the task's kind: softmax cross-entropy (multiclass),
sigmoid binary cross-entropy averaged over labels (binary, multilabel) and
squared error (regression).

Example:
>>> import tensorflow as tf
>>> from data.tasks import Task
>>> from models.losses import masked_task_loss
>>> loss = masked_task_loss(Task("a", "binary"), tf.constant([[1.0], [0.0]]),
...                         tf.constant([[0.9], [0.5]]), tf.constant([1.0, 0.0]))
>>> round(float(loss), 4)  # only the first example counts: -log(0.9)
0.1054
"""

import tensorflow as tf

EPSILON = 1e-7


def per_example_loss(task, y_true, y_pred):
    """Unreduced loss of one task, shape [batch]."""
    y_pred = tf.cast(y_pred, tf.float32)
    if task.kind == "multiclass":
        probs = tf.clip_by_value(y_pred, EPSILON, 1.0)
        picked = tf.gather(probs, tf.cast(y_true, tf.int32), batch_dims=1)
        return -tf.math.log(picked)
    if task.kind in ("binary", "multilabel"):
        y_true = tf.cast(tf.reshape(y_true, tf.shape(y_pred)), tf.float32)
        p = tf.clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
        bce = -(y_true * tf.math.log(p) + (1.0 - y_true) * tf.math.log(1.0 - p))
        return tf.reduce_mean(bce, axis=-1)
    y_true = tf.cast(tf.reshape(y_true, tf.shape(y_pred)), tf.float32)
    return tf.reduce_mean(tf.square(y_pred - y_true), axis=-1)


def masked_loss_sum(task, y_true, y_pred, mask):
    """(sum of masked per-example losses, number of labelled examples)."""
    mask = tf.cast(mask, tf.float32)
    return tf.reduce_sum(per_example_loss(task, y_true, y_pred) * mask), tf.reduce_sum(mask)


def masked_task_loss(task, y_true, y_pred, mask):
    """Mean loss over the labelled examples of one batch (0 when none)."""
    total, count = masked_loss_sum(task, y_true, y_pred, mask)
    return total / tf.maximum(count, 1.0)
