"""Per-task losses from logits, masked by the task's label mask.

Each task's loss is the mean over the examples that carry its label:
`sum(mask * loss) / max(sum(mask), 1)`, so a batch with no labels for a task
contributes exactly zero for it (never NaN), and a missing label never counts as
a negative. The per-example loss belongs to the task's kind
(`task.per_example_loss(labels, logits, options)`, `tasks/`): softmax
cross-entropy (multiclass), sigmoid cross-entropy averaged over labels (binary,
multilabel), squared error (regression), all computed from logits.

A task with few labels is not up-weighted: its loss is the mean over the rows
of the batch that carry its label, so each labelled row of a rare task counts
more than one of a common task, but the task as a whole weighs as much as any
other (change that with `train.weighting`). Within a task, `train.loss_options`
(`pos_weight`, `class_weights`, `focal_gamma`) weigh rare classes; the weighted
losses are still divided by the number of labelled rows, not by the sum of the
weights, so `pos_weight: 5` makes each positive count five times.

Example:
>>> import tensorflow as tf
>>> from tasks import Task
>>> from models.losses import masked_task_loss
>>> logit = float(tf.math.log(9.0))  # sigmoid(logit) = 0.9
>>> loss = masked_task_loss(Task("a", "binary"), tf.constant([[1.0], [0.0]]),
...                         tf.constant([[logit], [0.0]]), tf.constant([1.0, 0.0]))
>>> round(float(loss), 4)  # only the first example counts: -log(0.9)
0.1054
"""

import tensorflow as tf


def masked_loss_sum(task, y_true, logits, mask, options=None):
    """(sum of masked per-example losses, number of labelled examples); `options` are
    the task's `train.loss_options` (class weights, focal loss), checked by its kind."""
    y_true, mask = task.align(y_true, tf.cast(mask, tf.float32), logits)
    per_example = task.per_example_loss(y_true, logits, options or {})
    # where, not a product: a garbage label under a zero mask must not give 0 * inf.
    masked = tf.where(mask > 0, per_example * mask, tf.zeros_like(per_example))
    return tf.reduce_sum(masked), tf.reduce_sum(mask)


def masked_task_loss(task, y_true, logits, mask):
    """Mean loss over the labelled examples of one batch (0 when none)."""
    total, count = masked_loss_sum(task, y_true, logits, mask)
    return total / tf.maximum(count, 1.0)
