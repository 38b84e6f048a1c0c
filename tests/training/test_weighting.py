"""Loss weighting and gradient balancing methods, on hand-made losses and Gram matrices."""

import numpy as np
import pytest
import tensorflow as tf

from tasks import Task
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
    with pytest.raises(ValueError, match="valid: c, tol"):
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
    # Kendall et al.'s scales: exp(-s) for the binary task, 0.5 exp(-s) for the regression.
    assert np.allclose(weights, [np.exp(3.0), 0.5 * np.exp(3.0)])
    # At the bound the clamp blocks the gradient that would push s further down ...
    assert np.allclose(tape.gradient(total, w.log_var), 0.0)
    # ... and keeps the one that brings it back: with a large loss, s rises again.
    with tf.GradientTape() as tape:
        total, _ = w.combine_vector(tf.constant([5.0, 5.0]), info())
    g = tape.gradient(total, w.log_var).numpy()
    assert np.all(g < 0)  # descent moves s up, off the bound


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


def test_mgda_ub_normalize_applies_the_unit_problem_weights_to_the_raw_gradients():
    # Unit gradients at 90 degrees: the unit problem's min-norm point is (0.5, 0.5),
    # whatever the raw scales (Sener & Koltun's code applies those weights as they are).
    k = [[100.0, 0.0], [0.0, 1.0]]
    assert np.allclose(weights("mgda_ub", k, normalize=True), [1.0, 1.0], atol=1e-6)
    assert np.allclose(weights("mgda_ub", k), 2 * np.array([1.0, 100.0]) / 101.0, atol=1e-6)


def test_gradvac_raises_a_pair_to_its_target_similarity():
    g = np.array([[1.0, 0.0], [0.0, 1.0]])  # cosine 0
    w = make_weighting("gradvac", TASKS2, beta=0.5)
    w.target.assign([[0.0, 0.5], [0.5, 0.0]])  # targets above the observed cosine
    c = w.task_weights(info(gram=g @ g.T)).numpy()
    assert np.all(c > 1.0)  # each adjusted gradient took some of the other
    # Targets moved half way to the observed 0.
    np.testing.assert_allclose(w.target.numpy(), [[0.0, 0.25], [0.25, 0.0]], atol=1e-6)
    # Adjusted g_a = g_a + x g_b has cosine 0.5 with g_b: x / sqrt(1 + x^2) = 0.5.
    x = 1.0 / np.sqrt(3.0)
    np.testing.assert_allclose(c, [1.0 + x, 1.0 + x], atol=1e-5)


def test_upgrad_update_conflicts_with_no_task():
    g = np.random.default_rng(4).normal(size=(3, 6))
    g[1] = -0.8 * g[0] + 0.3 * g[1]  # a conflicting pair
    w = weights("upgrad", g @ g.T, TASKS3)
    d = w @ g
    assert np.all(g @ d >= -1e-4 * np.abs(g @ d).max()) and np.all(w > 0)
    # Non-conflicting gradients are left as they are (up to the ridge).
    h = np.eye(3)
    np.testing.assert_allclose(weights("upgrad", h, TASKS3), 1.0, atol=1e-3)


def test_db_mtl_scales_every_log_loss_gradient_to_the_largest():
    k = [[4.0, 0.0], [0.0, 1.0]]  # |g| = 2 and 1
    w = make_weighting("db_mtl", TASKS2).task_weights(info(gram=k, losses=[2.0, 0.5])).numpy()
    # |g_t| / L_t = 1 and 2: task a's log-loss gradient is doubled: w = alpha / L.
    np.testing.assert_allclose(w, [2.0 / 2.0, 1.0 / 0.5], rtol=1e-5)


def test_famo_moves_weight_to_the_task_whose_loss_fell_least():
    w = make_weighting("famo", TASKS2)
    first = w.task_weights(info(losses=[1.0, 1.0])).numpy()
    np.testing.assert_allclose(first, [1.0, 1.0])  # equal logits, equal losses
    w.after_update(tf.constant([0.5, 0.95]))     # a improved a lot, b hardly
    z = tf.nn.softmax(w.logits).numpy()
    assert z[1] > z[0]
    # The weights on the losses put c = sum z / L first: a_t = z_t / (c L_t).
    a = w.task_weights(info(losses=[1.0, 2.0])).numpy() / 2
    np.testing.assert_allclose(a, (z / [1.0, 2.0]) / (z / [1.0, 2.0]).sum(), rtol=1e-5)


def test_gls_is_the_geometric_mean_and_its_gradient():
    w = make_weighting("gls", TASKS2)
    losses = tf.Variable([4.0, 1.0])
    with tf.GradientTape() as tape:
        total, weights_ = w.combine_vector(losses, info(losses=[4.0, 1.0]))
    assert float(total) == pytest.approx(2.0)
    np.testing.assert_allclose(tape.gradient(total, losses), [2.0 / 8.0, 2.0 / 2.0], rtol=1e-5)


def test_stch_follows_log_losses_then_the_smooth_max_over_the_reference():
    w = make_weighting("stch", TASKS2, mu=0.5, warmup_epochs=1)
    losses = tf.Variable([2.0, 1.0])
    with tf.GradientTape() as tape:
        total, _ = w.combine_vector(losses, info(losses=[2.0, 1.0]))
    np.testing.assert_allclose(tape.gradient(total, losses), [0.5, 1.0], rtol=1e-5)  # 1 / L
    w.on_epoch_end(np.array([2.0, 1.0]))  # the reference point
    with tf.GradientTape() as tape:
        total, _ = w.combine_vector(losses, info(losses=[4.0, 1.0]))
    # Task a is now 2x its reference, b at it: the softmax puts 0.8 on a (mu = 0.5).
    soft = np.exp(np.log([2.0, 1.0]) / 0.5)
    soft = 2 * soft / soft.sum()
    np.testing.assert_allclose(tape.gradient(total, losses), soft / [4.0, 1.0], rtol=1e-5)


def test_graddrop_needs_the_representation():
    assert make_weighting("graddrop", TASKS2).gradient_spaces == ("representation",)
