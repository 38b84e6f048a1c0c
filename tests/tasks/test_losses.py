"""The kinds' per-example losses: from logits (exact where a probability form would clip),
the imbalance options (`pos_weight`, `class_weights`, `focal_gamma`) and their checks."""

import numpy as np
import pytest
import tensorflow as tf

from tasks import Task

BINARY, MULTI = Task("b", "binary"), Task("m", "multiclass", ("x", "y", "z"))
MULTILABEL, REGRESSION = Task("l", "multilabel", ("p", "q")), Task("r", "regression")


def test_losses_from_logits_match_the_probability_form_and_stay_finite():
    binary, multi = BINARY, MULTI
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
    binary, multi = BINARY, MULTI
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
    (BINARY, {"class_weights": [1, 2]}, "class_weights: unknown argument of a binary "
                                        "task; valid: pos_weight, focal_gamma"),
    (MULTI, {"class_weights": [1, 2]}, "class_weights: 2 values; valid: 3 (one per class)"),
    (REGRESSION, {"pos_weight": 2}, "valid: (none)"),
    (BINARY, {"pos_weight": -1}, "pos_weight: -1.0 is out of range; valid: a number >= 0"),
    (BINARY, {"focal_gamma": "high"}, "focal_gamma: expected a number, got 'high'"),
])
def test_bad_loss_options_name_the_key(task, options, message):
    with pytest.raises(ValueError) as e:
        task.check_loss_options(options)
    assert f"train.loss_options.{task.name}" in str(e.value) and message in str(e.value)
