"""Loss weighting and gradient balancing methods, on hand-made losses and Gram matrices."""

import numpy as np
import pytest
import tensorflow as tf

from data.tasks import Task
from training.weighting import StepInfo, list_weightings, make_weighting

TASKS2 = (Task("a", "binary"), Task("b", "regression"))
TASKS3 = TASKS2 + (Task("c", "binary"),)


def info(gram=None, losses=None, step=0, n=2):
    return StepInfo(losses=tf.constant(losses or [1.0] * n, tf.float32),
                    step=tf.constant(step, tf.int64),
                    gram=None if gram is None else tf.constant(gram, tf.float32))


def weights(name, gram, tasks=TASKS2, **args):
    return make_weighting(name, tasks, **args).task_weights(info(gram, n=len(tasks))).numpy()


def test_registry_lists_every_method():
    assert set(list_weightings()) >= {"equal", "static", "uncertainty", "gradnorm", "dwa", "rlw",
                                      "pcgrad", "mgda_ub", "cagrad", "imtl_g", "nash_mtl",
                                      "aligned_mtl"}


def test_unknown_method_and_argument_list_the_valid_ones():
    with pytest.raises(ValueError, match="known methods: .*pcgrad"):
        make_weighting("nope", TASKS2)
    with pytest.raises(ValueError, match="valid: c, iterations, step_size"):
        make_weighting("cagrad", TASKS2, cc=1)
    with pytest.raises(ValueError, match="unknown task"):
        make_weighting("static", TASKS2, task_weights={"zz": 1.0})


def test_static_weights():
    total, w = make_weighting("static", TASKS2, task_weights={"a": 3.0}).combine(
        {"a": tf.constant(2.0), "b": tf.constant(1.0)})
    assert float(total) == 7.0 and float(w["b"]) == 1.0


def test_uncertainty_is_bounded_below_when_a_loss_vanishes():
    w = make_weighting("uncertainty", TASKS2, min_log_var=-3.0)
    w.log_var.assign([-50.0, -50.0])  # would give -inf without the clamp
    losses = tf.constant([0.0, 0.0])
    with tf.GradientTape() as tape:
        total, weights = w.combine_vector(losses, info())
    assert float(total) == pytest.approx(-3.0)  # 0.5 * (-3) * 2 tasks
    assert np.allclose(weights, 0.5 * np.exp(3.0))
    # At the bound the clamp blocks the gradient that would push s further down.
    assert np.allclose(tape.gradient(total, w.log_var), 0.0)


def test_uncertainty_gradient_moves_log_variance_toward_the_loss():
    w = make_weighting("uncertainty", TASKS2)
    with tf.GradientTape() as tape:
        total, _ = w.combine_vector(tf.constant([4.0, 0.25]), info())
    g = tape.gradient(total, w.log_var).numpy()
    assert g[0] < 0 < g[1]  # s rises for the large loss, falls for the small one


def test_dwa_uses_the_last_two_epochs():
    w = make_weighting("dwa", TASKS2, temperature=1.0)
    assert np.allclose(w.task_weights(info()), 1.0)
    w.on_epoch_end(np.array([1.0, 1.0]))
    w.on_epoch_end(np.array([0.5, 1.0]))  # task a improved, b did not
    got = w.task_weights(info()).numpy()
    expect = 2 * np.exp([0.5, 1.0]) / np.exp([0.5, 1.0]).sum()
    assert np.allclose(got, expect) and got.sum() == pytest.approx(2.0)


def test_rlw_is_random_per_step_but_reproducible():
    w = make_weighting("rlw", TASKS3, seed=1)
    a, b = (w.task_weights(info(step=s, n=3)).numpy() for s in (5, 6))
    assert not np.allclose(a, b)
    assert np.allclose(a, w.task_weights(info(step=5, n=3)))
    assert a.sum() == pytest.approx(3.0)


def test_gradnorm_lowers_the_weight_of_the_task_with_the_larger_gradient():
    w = make_weighting("gradnorm", TASKS2, alpha=0.0, lr=0.1)
    step_info = info(gram=[[100.0, 0.0], [0.0, 1.0]])
    first = w.task_weights(step_info).numpy()
    assert np.allclose(first, 1.0)  # the weights used now; the update is for the next step
    after = w.weights.numpy()
    assert after[0] < after[1] and after.sum() == pytest.approx(2.0)


def test_pcgrad_projects_conflicting_gradients_only():
    assert np.allclose(weights("pcgrad", [[1.0, 0.5], [0.5, 1.0]]), [1.0, 1.0])
    # g_a . g_b < 0: each loses its component along the other: 1 + 0.5/1.
    assert np.allclose(weights("pcgrad", [[1.0, -0.5], [-0.5, 1.0]]), [1.5, 1.5])


def test_pcgrad_result_has_no_conflict_for_two_tasks():
    g = np.array([[1.0, 0.0], [-0.8, 0.6]])
    w = weights("pcgrad", g @ g.T)
    # Projected g_a is orthogonal to g_b and vice versa; their sum is w @ g.
    projected_a = g[0] - (g[0] @ g[1]) / (g[1] @ g[1]) * g[1]
    projected_b = g[1] - (g[1] @ g[0]) / (g[0] @ g[0]) * g[0]
    assert np.allclose(w @ g, projected_a + projected_b, atol=1e-5)


def test_mgda_ub_finds_the_min_norm_point():
    # u = (1, 0), v = (0, 2): min |a u + (1 - a) v|^2 at a = 0.8; scaled by T = 2.
    assert np.allclose(weights("mgda_ub", [[1.0, 0.0], [0.0, 4.0]]), [1.6, 0.4], atol=1e-4)
    g = np.random.default_rng(0).normal(size=(3, 5))
    w = weights("mgda_ub", g @ g.T, TASKS3) / 3
    d = w @ g  # min-norm point: every task's gradient has a non-negative dot product with it
    assert w.sum() == pytest.approx(1.0, abs=1e-5) and np.all(g @ d >= -1e-3)


def test_cagrad_without_radius_is_equal_weighting():
    g = np.random.default_rng(1).normal(size=(3, 6))
    assert np.allclose(weights("cagrad", g @ g.T, TASKS3, c=0.0), 1.0, atol=1e-5)
    w = weights("cagrad", g @ g.T, TASKS3, c=0.5)
    assert np.all(w > 0)


def test_imtl_g_gives_equal_projections_on_unit_gradients():
    g = np.random.default_rng(2).normal(size=(3, 6))
    w = weights("imtl_g", g @ g.T, TASKS3)
    d = w @ g
    units = g / np.linalg.norm(g, axis=1, keepdims=True)
    proj = units @ d
    assert np.allclose(proj, proj[0], rtol=1e-3) and w.sum() == pytest.approx(3.0, abs=1e-4)


def test_nash_mtl_solves_the_bargaining_condition():
    g = np.random.default_rng(3).normal(size=(3, 6))
    k = g @ g.T
    a = weights("nash_mtl", k, TASKS3)
    kn = k / np.linalg.norm(k)
    assert np.all(a > 0) and np.allclose(a * (kn @ a), 1.0, atol=1e-3)


def test_aligned_mtl_equalises_orthogonal_gradients():
    # Orthogonal gradients of norms 1, 2, 4: each is scaled to the smallest norm.
    w = weights("aligned_mtl", np.diag([1.0, 4.0, 16.0]), TASKS3)
    assert np.allclose(w, [1.0, 0.5, 0.25], atol=1e-5)
