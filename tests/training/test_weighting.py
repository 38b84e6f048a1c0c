"""Loss weighting and gradient balancing methods, each against the property its paper states,
on hand-made losses, gradients and Gram matrices: a method that returned equal weights (did
nothing) would fail its test. `PROPERTY_TESTS` names each method's test; a new method
without one fails `test_every_method_has_a_property_test`."""

import numpy as np
import pytest
import tensorflow as tf

from tasks import Task
from training.weighting import Step, StepInfo, list_weightings, make_weighting

TASKS2 = (Task("a", "binary"), Task("b", "regression"))
TASKS3 = TASKS2 + (Task("c", "binary"),)


def info(gram=None, losses=None, step=0, n=2):
    return StepInfo(losses=tf.constant(losses or [1.0] * n, tf.float32),
                    step=tf.constant(step, tf.int64),
                    gram=None if gram is None else tf.constant(gram, tf.float32))


def weights(name, gram, tasks=TASKS2, **args):
    return make_weighting(name, tasks, **args).task_weights(info(gram, n=len(tasks))).numpy()


def conflicting(seed, t=3, d=6):
    """Random gradients [t, d] where the first two conflict (negative dot product)."""
    g = np.random.default_rng(seed).normal(size=(t, d))
    g[1] = -0.8 * g[0] + 0.3 * g[1]
    assert g[0] @ g[1] < 0
    return g


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


def test_equal_is_the_plain_sum_and_ignores_task_weights():
    w = make_weighting("equal", TASKS3)
    total, weights_ = w.combine({"a": tf.constant(2.0), "b": tf.constant(0.5),
                                 "c": tf.constant(4.0)})
    assert float(total) == pytest.approx(6.5) and [float(v) for v in weights_.values()] == [1] * 3
    with pytest.raises(ValueError, match="'equal' does not use task weights; methods that do: "
                                         "static"):
        make_weighting("equal", TASKS2, task_weights={"a": 2.0})


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


def test_uncertainty_optimum_weighs_each_task_by_its_inverse_loss():
    # Kendall et al.: with L fixed, k exp(-s) L + s / 2 is minimal at s* = log(2 k L), where
    # the task's weight k exp(-s*) = 1 / (2 L): a task with twice the loss gets half the weight.
    losses = np.array([2.0, 0.5])                # a: binary (k = 1), b: regression (k = 0.5)
    k = np.array([1.0, 0.5])
    w = make_weighting("uncertainty", TASKS2)
    w.log_var.assign(np.log(2 * k * losses))
    with tf.GradientTape() as tape:
        total, weights_ = w.combine_vector(tf.constant(losses, tf.float32), info())
    np.testing.assert_allclose(tape.gradient(total, w.log_var), 0.0, atol=1e-6)
    np.testing.assert_allclose(weights_, 1.0 / (2 * losses), rtol=1e-6)


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


def test_dwa_temperature_flattens_or_sharpens_the_weights():
    # Liu et al.: a high temperature gives weights near 1 each; a low one puts nearly all
    # of the T on the task whose loss fell least (the largest ratio).
    def dwa(temperature):
        w = make_weighting("dwa", TASKS3, temperature=temperature)
        w.on_epoch_end(np.array([1.0, 1.0, 1.0]))
        w.on_epoch_end(np.array([0.5, 0.9, 1.2]))  # ratios 0.5, 0.9, 1.2
        return w.task_weights(info(n=3)).numpy()
    hot, warm, cold = dwa(100.0), dwa(2.0), dwa(0.01)
    np.testing.assert_allclose(hot, 1.0, atol=0.02)
    assert warm[0] < warm[1] < warm[2] and warm.sum() == pytest.approx(3.0)
    np.testing.assert_allclose(cold, [0.0, 0.0, 3.0], atol=1e-3)


def test_rlw_is_random_per_step_but_reproducible():
    w = make_weighting("rlw", TASKS3, seed=1)
    a, b = (w.task_weights(info(step=s, n=3)).numpy() for s in (5, 6))
    assert not np.allclose(a, b)
    assert np.allclose(a, w.task_weights(info(step=5, n=3)))
    assert a.sum() == pytest.approx(3.0)
    # Lin et al.: T softmax(z), z ~ N(0, 1) i.i.d.: every task weighs 1 on average, and the
    # log-ratio of two weights, z_i - z_j, has variance 2.
    draws = np.stack([w.task_weights(info(step=s, n=3)).numpy() for s in range(1500)])
    np.testing.assert_allclose(draws.mean(0), 1.0, atol=0.06)
    assert np.var(np.log(draws[:, 0] / draws[:, 1])) == pytest.approx(2.0, rel=0.15)


def test_gradnorm_lowers_the_weight_of_the_task_with_the_larger_gradient():
    w = make_weighting("gradnorm", TASKS2, alpha=0.0, lr=0.1)
    step_info = info(gram=[[100.0, 0.0], [0.0, 1.0]])
    first = w.task_weights(step_info).numpy()
    assert np.allclose(first, 1.0)  # the weights used now; the update is for the next step
    after = w.weights.numpy()
    assert after[0] < after[1] and after.sum() == pytest.approx(2.0)


def test_gradnorm_equalises_the_weighted_gradient_norms():
    # Chen et al.: with alpha = 0 the target is the mean weighted norm: w_t |g_t| meet.
    w = make_weighting("gradnorm", TASKS2, alpha=0.0, lr=0.01)
    step_info = info(gram=[[16.0, 0.0], [0.0, 1.0]])  # |g| = 4 and 1
    for _ in range(300):
        w.task_weights(step_info)
    weighted = w.weights.numpy() * [4.0, 1.0]
    assert weighted[0] == pytest.approx(weighted[1], rel=0.05)
    # With alpha > 0 a task that trains slower (higher loss ratio) is given a larger norm.
    w = make_weighting("gradnorm", TASKS2, alpha=1.0, lr=0.01)
    w.task_weights(info(gram=[[1.0, 0.0], [0.0, 1.0]], losses=[1.0, 1.0]))  # L(0)
    for _ in range(300):
        w.task_weights(info(gram=[[1.0, 0.0], [0.0, 1.0]], losses=[0.9, 0.3]))
    ratio = np.array([0.9, 0.3]) / np.mean([0.9, 0.3])
    weighted = w.weights.numpy()
    assert weighted[0] / weighted[1] == pytest.approx(ratio[0] / ratio[1], rel=0.1)


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


def test_pcgrad_projected_gradients_conflict_with_no_other_task():
    # Yu et al.: after surgery, task i's gradient has no negative inner product with the
    # gradient it was projected against (two tasks: the other one).
    for seed in range(5):
        g = conflicting(seed, t=2)
        method = make_weighting("pcgrad", TASKS2, seed=seed)
        rows = method.projections(tf.constant(g @ g.T, tf.float32), info(n=2)).numpy()
        projected = rows @ g
        assert projected[0] @ g[1] >= -1e-5 and projected[1] @ g[0] >= -1e-5
        assert not np.allclose(projected, g)  # the conflict was removed, not ignored
        # Only the conflicting component goes: what remains along g_i is unchanged.
        for i, j in ((0, 1), (1, 0)):
            orth = g[i] - (g[i] @ g[j]) / (g[j] @ g[j]) * g[j]
            np.testing.assert_allclose(projected[i], orth, atol=1e-5)


def test_mgda_ub_finds_the_min_norm_point():
    # u = (1, 0), v = (0, 2): min |a u + (1 - a) v|^2 at a = 0.8; scaled by T = 2.
    assert np.allclose(weights("mgda_ub", [[1.0, 0.0], [0.0, 4.0]]), [1.6, 0.4], atol=1e-4)
    g = np.random.default_rng(0).normal(size=(3, 5))
    w = weights("mgda_ub", g @ g.T, TASKS3) / 3
    d = w @ g  # min-norm point: every task's gradient has a non-negative dot product with it
    assert w.sum() == pytest.approx(1.0, abs=1e-5) and np.all(g @ d >= -1e-3)
    # Sener & Koltun: no point of the convex hull is shorter (a grid over the simplex).
    grid = np.array([(a, b, 1 - a - b) for a in np.linspace(0, 1, 41)
                     for b in np.linspace(0, 1, 41) if a + b <= 1 + 1e-12])
    assert d @ d <= np.min(np.sum((grid @ g) ** 2, axis=1)) + 1e-5


def test_cagrad_without_radius_is_equal_weighting():
    g = np.random.default_rng(1).normal(size=(3, 6))
    assert np.allclose(weights("cagrad", g @ g.T, TASKS3, c=0.0), 1.0, atol=1e-5)
    w = weights("cagrad", g @ g.T, TASKS3, c=0.5)
    assert np.all(w > 0)


@pytest.mark.parametrize("c", [0.2, 0.5, 0.9])
def test_cagrad_maximises_the_worst_improvement_within_the_ball(c):
    # Liu et al.: d = argmax min_i g_i . d over |d - g0| <= c |g0| (g0 the mean gradient).
    g = conflicting(7)
    w = weights("cagrad", g @ g.T, TASKS3, c=c)
    d = (w / 3 * (1 + c ** 2)) @ g  # undo the method's scaling: coefficients of g0 + ...
    g0 = g.mean(0)
    assert np.linalg.norm(d - g0) == pytest.approx(c * np.linalg.norm(g0), rel=1e-4)
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(20000, g.shape[1]))
    radii = rng.random((20000, 1)) ** (1 / g.shape[1])
    ball = g0 + c * np.linalg.norm(g0) * radii * directions / np.linalg.norm(
        directions, axis=1, keepdims=True)
    worst = np.min(ball @ g.T, axis=1)
    assert np.min(g @ d) >= worst.max() - 1e-4
    assert np.min(g @ d) > np.min(g @ g0)  # better than plain averaging on the worst task


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


def test_aligned_mtl_update_is_that_of_the_aligned_gradient_system():
    # Senushkin et al.: G = U S V^T is replaced by sigma_min U V^T (every singular value the
    # smallest one); the update is the sum of the aligned task gradients.
    g = conflicting(5)
    w = weights("aligned_mtl", g @ g.T, TASKS3)
    u, sigma, vt = np.linalg.svd(g, full_matrices=False)
    aligned = sigma.min() * u @ vt
    np.testing.assert_allclose(w @ g, aligned.sum(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.linalg.svd(aligned, compute_uv=False), sigma.min(), rtol=1e-6)


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


def graddrop_gradient(per_task, x, seed, leak=0.0, step=0):
    """The gradient GradDrop gives the representation `x` [B, D] when task t's loss is
    sum(per_task[t] * x), i.e. its gradient there is per_task[t] (hand-made)."""
    method = make_weighting("graddrop", TASKS3 if len(per_task) == 3 else TASKS2, leak=leak,
                            seed=seed)
    v = tf.Variable(x, dtype=tf.float32)
    a = tf.constant(per_task, tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        rep = v * 1.0  # the representation; its gradient reaches v unchanged
        losses = tf.stack([tf.reduce_sum(a[t] * rep) for t in range(len(per_task))])
        loss_list = tf.unstack(losses)
    step_info = StepInfo(losses=losses, step=tf.constant(step, tf.int64))
    grads, w, _ = method.gradients(Step(tape=tape, losses=losses, loss_list=loss_list,
                                        variables=[v], info=step_info, representation=[rep]))
    return grads[0].numpy()


def test_graddrop_keeps_one_sign_per_element_with_probability_its_purity():
    # Chen et al.: per element, the positive task gradients are kept with probability
    # P = (1 + sum s / sum |s|) / 2 and the negative ones otherwise (signs agree after).
    per_task = np.array([[[1.0, 2.0, -1.0, 3.0]], [[-3.0, 2.0, 1.0, -1.0]], [[1.0, 1.0, 1.0, 0.0]]])
    x = np.ones((1, 4))
    positive = np.where(per_task > 0, per_task, 0).sum(0)[0]
    negative = np.where(per_task < 0, per_task, 0).sum(0)[0]
    kept = np.stack([graddrop_gradient(per_task, x, seed=0, step=s)[0] for s in range(400)])
    assert np.all(np.isclose(kept, positive) | np.isclose(kept, negative))
    purity = 0.5 * (1 + per_task.sum(0)[0] / np.abs(per_task).sum(0)[0])
    np.testing.assert_allclose(np.isclose(kept, positive).mean(0), purity, atol=0.08)
    assert np.all(kept[:, 1] == 5.0)  # every task agrees: always kept whole
    # A dropped gradient keeps a fraction `leak` of itself.
    leaky = graddrop_gradient(per_task[:2], x, seed=0, leak=1.0)
    np.testing.assert_allclose(leaky, per_task[:2].sum(0))


def test_graddrop_needs_the_representation():
    assert make_weighting("graddrop", TASKS2).gradient_spaces == ("representation",)


PROPERTY_TESTS = {
    "equal": test_equal_is_the_plain_sum_and_ignores_task_weights,
    "static": test_static_weights,
    "uncertainty": test_uncertainty_optimum_weighs_each_task_by_its_inverse_loss,
    "dwa": test_dwa_temperature_flattens_or_sharpens_the_weights,
    "rlw": test_rlw_is_random_per_step_but_reproducible,
    "gradnorm": test_gradnorm_equalises_the_weighted_gradient_norms,
    "famo": test_famo_moves_weight_to_the_task_whose_loss_fell_least,
    "gls": test_gls_is_the_geometric_mean_and_its_gradient,
    "stch": test_stch_follows_log_losses_then_the_smooth_max_over_the_reference,
    "pcgrad": test_pcgrad_projected_gradients_conflict_with_no_other_task,
    "mgda_ub": test_mgda_ub_finds_the_min_norm_point,
    "cagrad": test_cagrad_maximises_the_worst_improvement_within_the_ball,
    "imtl_g": test_imtl_g_gives_equal_projections_on_unit_gradients,
    "nash_mtl": test_nash_mtl_solves_the_bargaining_condition,
    "aligned_mtl": test_aligned_mtl_update_is_that_of_the_aligned_gradient_system,
    "gradvac": test_gradvac_raises_a_pair_to_its_target_similarity,
    "upgrad": test_upgrad_update_conflicts_with_no_task,
    "db_mtl": test_db_mtl_scales_every_log_loss_gradient_to_the_largest,
    "graddrop": test_graddrop_keeps_one_sign_per_element_with_probability_its_purity,
}


def test_every_method_has_a_property_test():
    assert sorted(PROPERTY_TESTS) == list_weightings()
