"""Masked per-task losses from logits: only labelled rows count; a batch without labels
gives 0, not NaN; extreme logits stay finite."""

import numpy as np
import pytest
import tensorflow as tf

from tasks import Task
from models.losses import masked_task_loss

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


def test_losses_from_logits_match_the_probability_form_and_stay_finite():
    binary, multi = CASES[0][0], CASES[1][0]
    logits = tf.constant([[2.0], [-3.0]])
    p = tf.sigmoid(logits).numpy()[:, 0]
    got = binary.per_example_loss(tf.constant([[1.0], [0.0]]), logits).numpy()
    np.testing.assert_allclose(got, [-np.log(p[0]), -np.log(1 - p[1])], rtol=1e-5)
    # Logits a probability-space loss would clip: exact and finite here.
    far = binary.per_example_loss(tf.constant([[0.0]]), tf.constant([[60.0]])).numpy()
    assert far[0] == pytest.approx(60.0, rel=1e-6)
    big = multi.per_example_loss(tf.constant([0]), tf.constant([[-500.0, 500.0, 0.0]])).numpy()
    assert np.isfinite(big[0]) and big[0] == pytest.approx(1000.0, rel=1e-6)


def test_imbalance_options_weigh_positives_classes_and_hard_examples():
    binary, multi = CASES[0][0], CASES[1][0]
    y, logits = tf.constant([[1.0], [0.0]]), tf.constant([[0.3], [0.3]])
    plain = binary.per_example_loss(y, logits).numpy()
    weighted = binary.per_example_loss(y, logits, {"pos_weight": 4.0}).numpy()
    np.testing.assert_allclose(weighted, [4 * plain[0], plain[1]], rtol=1e-5)
    # Focal: (1 - p_t)^gamma; an easy example (p_t = 0.95) almost vanishes.
    easy = tf.constant([[float(np.log(19.0))]])  # sigmoid = 0.95
    focal = binary.per_example_loss(tf.constant([[1.0]]), easy, {"focal_gamma": 2.0}).numpy()
    assert focal[0] == pytest.approx(0.05 ** 2 * -np.log(0.95), rel=1e-4)
    logits3 = tf.constant([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    labels3 = tf.constant([0, 1])
    base = multi.per_example_loss(labels3, logits3).numpy()
    got = multi.per_example_loss(labels3, logits3, {"class_weights": [3.0, 0.5, 1.0]}).numpy()
    np.testing.assert_allclose(got, base * [3.0, 0.5], rtol=1e-5)


@pytest.mark.parametrize("task, options, message", [
    (CASES[0][0], {"class_weights": [1, 2]}, "unknown option(s) ['class_weights'] for a binary "
                                             "task; valid: pos_weight, focal_gamma"),
    (CASES[1][0], {"class_weights": [1, 2]}, "expected 3 values (one per class), got 2"),
    (CASES[3][0], {"pos_weight": 2}, "valid: (none)"),
    (CASES[0][0], {"pos_weight": -1}, "pos_weight: expected numbers >= 0"),
])
def test_bad_loss_options_name_the_key(task, options, message):
    with pytest.raises(ValueError) as e:
        task.check_loss_options(options)
    assert f"train.loss_options.{task.name}" in str(e.value) and message in str(e.value)
