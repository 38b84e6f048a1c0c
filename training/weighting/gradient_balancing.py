"""Gradient balancing: combine per-task gradients on what the tasks share.

Each method here turns the Gram matrix `K = G G^T` of the T per-task gradients
`G = [g_1; ...; g_T]` into coefficients `w` [T], and the shared parameters are
updated with `sum_t w_t g_t`. All six methods below produce a combination of
the task gradients, and every dot product they need is an entry of K, so:

- the solvers work on a T x T matrix, whatever the number of parameters;
- under a distribution strategy only K needs agreeing on: the trainer all-reduces
  the per-task gradients (parameters) or the per-replica Gram matrices (the
  representation, whose gradient is per example: the global Gram matrix is the
  sum of the replicas' ones), so every replica computes the same `w`, and the
  optimizer's usual sum of replica gradients gives `sum_t w_t g_t` of the
  global batch.

The trainer computes G either on the shared parameters or, much cheaper, on the
shared representation (`train.gradient_on: representation`, the default; see
`training/sharing.py` for how both are found). Task-specific parameters
(towers, heads) always get their own task's plain gradient.

Methods (convex-combination solvers are scaled by T, so that like `equal` the
weights sum to about T and `train.learning_rate` keeps its meaning):

- `pcgrad`: PCGrad (Yu et al., NeurIPS 2020). For each task, in a random order of
  the others, remove the component of its (projected) gradient along any other
  task's gradient it conflicts with (negative dot product); sum the results.
- `mgda_ub`: MGDA-UB (Sener & Koltun, NeurIPS 2018). The min-norm point of the
  convex hull of the gradients (Frank-Wolfe on K). On the representation this is
  the paper's upper bound; with `gradient_on: parameters` it is plain MGDA.
- `cagrad`: CAGrad (Liu et al., NeurIPS 2021). `g0 + (sqrt(phi) / |g_w|) g_w`,
  `phi = c^2 |g0|^2`, where `w` minimises `g_w . g0 + sqrt(phi) |g_w|` on the
  simplex (exponentiated-gradient steps), divided by `1 + c^2`.
- `imtl_g`: IMTL-G (Liu et al., ICLR 2021). The combination whose projection on
  every task's unit gradient is equal (closed form, a (T-1)x(T-1) solve).
- `nash_mtl`: Nash-MTL (Navon et al., ICML 2022). Solves `K a = 1 / a`, a > 0,
  as the minimiser of the convex `0.5 a^T K a - sum log a` by damped Newton
  steps (K normalised by its norm, as in the paper's code).
- `aligned_mtl`: Aligned-MTL (Senushkin et al., CVPR 2023). Aligns the
  gradient system's singular values to the smallest one:
  `w = sigma_min V diag(1/sigma) V^T 1` from the eigendecomposition of K.

Example:
>>> import tensorflow as tf
>>> from tasks import Task
>>> from training.weighting import StepInfo, make_weighting
>>> tasks = [Task("a", "binary"), Task("b", "binary")]
>>> gram = tf.constant([[1.0, -0.5], [-0.5, 1.0]])  # two conflicting unit gradients
>>> info = StepInfo(losses=tf.ones([2]), step=tf.constant(0, tf.int64), gram=gram)
>>> [round(float(x), 3) for x in make_weighting("pcgrad", tasks).task_weights(info)]
[1.5, 1.5]
"""

import tensorflow as tf

from training.weighting.base import Weighting, register_weighting
from training.weighting.solvers import (EPS, cagrad_weights, min_norm, numpy_solver,
                                        project_to_dual_cone)
from utils.arguments import Arg, arguments


class GradientBalancing(Weighting):
    """Base: coefficients from the Gram matrix, applied to the shared gradient only."""

    uses_gradients = True
    balances_gradients = True

    def __init__(self, tasks, task_weights=None):
        super().__init__(tasks, {})

    def task_weights(self, info):
        if info.gram is None:
            raise ValueError(f"{self.name} needs per-task gradients (the trainer supplies them)")
        return self.solve(tf.cast(info.gram, tf.float32), info)

    def solve(self, gram, info):
        raise NotImplementedError


@register_weighting("pcgrad")
@arguments(seed=Arg(int, "seeds the per-step order of the other tasks",
                    range="[0, 2147483647]"))
class PCGrad(GradientBalancing):
    """PCGrad, "Gradient Surgery for Multi-Task Learning" (Yu et al., NeurIPS 2020).

    Tracks each projected gradient as coefficients over the original gradients,
    so every projection is a few operations on K. The order of the other tasks
    is a stateless shuffle keyed on (seed, step): identical on all replicas.

    Args:
        seed: int. Seeds the per-step task order.
    """

    def __init__(self, tasks, task_weights=None, seed=0):
        super().__init__(tasks)
        self.seed = int(seed)

    def solve(self, gram, info):
        return tf.reduce_sum(self.projections(gram, info), axis=0)

    def projections(self, gram, info):
        """[T, T]: row i is task i's projected gradient as a combination of g_1..g_T."""
        n = self.num_tasks
        coeffs = tf.eye(n)
        rows = []
        for i in range(n):
            c = coeffs[i]
            seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(info.step, tf.int64) * n + i])
            order = tf.argsort(tf.random.stateless_uniform([n], seed=seed))
            for k in range(n):
                j = order[k]
                e = tf.one_hot(j, n)
                dot = tf.tensordot(c, gram[:, j], 1)      # g_i^pc . g_j
                norm2 = tf.maximum(gram[j, j], EPS)
                conflict = tf.logical_and(dot < 0.0, tf.not_equal(j, i))
                c = c - tf.where(conflict, dot / norm2, 0.0) * e
            rows.append(c)
        return tf.stack(rows)


@register_weighting("mgda_ub")
@arguments(normalize=Arg(bool, "solve for the unit gradients, apply the weights to the raw ones"),
           tol=Arg(float, "stopping tolerance of the solver", range="(0, inf)"))
class MGDAUB(GradientBalancing):
    """MGDA-UB, "Multi-Task Learning as Multi-Objective Optimization" (Sener & Koltun, NeurIPS 2018).

    The min-norm point of the convex hull of the task gradients, solved exactly
    (`solvers.min_norm`: Sener & Koltun's MinNormSolver to a tolerance, then the
    support's KKT system).

    Args:
        normalize: bool. Solve the problem of the unit gradients `g_t / |g_t|` (the
            paper's code calls it `l2` normalisation) and apply its weights to the raw
            gradients, as the paper's code does; tasks then count alike whatever the
            scale of their gradients.
        tol: float. Stopping tolerance of the solver.
    """

    def __init__(self, tasks, task_weights=None, normalize=False, tol=1e-10):
        super().__init__(tasks)
        self.normalize, self.tol = bool(normalize), float(tol)

    def solve(self, gram, info):
        if self.normalize:
            inv = 1.0 / tf.sqrt(tf.maximum(tf.linalg.diag_part(gram), EPS))
            gram = gram * inv[:, None] * inv[None, :]
        return self.num_tasks * numpy_solver(min_norm, gram, self.tol)


@register_weighting("cagrad")
@arguments(c=Arg(float, "radius of the ball around the mean gradient (paper: 0.4-0.5)",
                 range="[0, inf)"),
           tol=Arg(float, "tolerance of the inner solve", range="(0, inf)"))
class CAGrad(GradientBalancing):
    """CAGrad, "Conflict-Averse Gradient Descent" (Liu, Liu, Jin, Stone & Liu, NeurIPS 2021).

    `g0 + (sqrt(phi) / |g_w|) g_w`, `phi = c^2 |g0|^2`, where `w` minimises
    `g_w . g0 + sqrt(phi) |g_w|` on the simplex, solved to a tolerance
    (`solvers.cagrad_weights`, SciPy's SLSQP as in the paper's code), divided by
    `1 + c^2`.

    Args:
        c: float. Radius of the ball around the mean gradient (paper: 0.4-0.5).
        tol: float. Tolerance of the inner solve.
    """

    def __init__(self, tasks, task_weights=None, c=0.4, tol=1e-12):
        super().__init__(tasks)
        self.c, self.tol = float(c), float(tol)

    def solve(self, gram, info):
        n = self.num_tasks
        w = numpy_solver(cagrad_weights, gram, self.c, self.tol)
        scale = tf.maximum(tf.reduce_mean(tf.abs(gram)), EPS)
        k = gram / scale
        mean = tf.fill([n], 1.0 / n)
        g0_norm = tf.sqrt(tf.maximum(tf.tensordot(mean, tf.linalg.matvec(k, mean), 1), 0.0))
        gw_norm = tf.sqrt(tf.maximum(tf.tensordot(w, tf.linalg.matvec(k, w), 1), EPS))
        coeffs = mean + (self.c * g0_norm / gw_norm) * w
        return n * coeffs / (1.0 + self.c ** 2)


@register_weighting("imtl_g")
@arguments()
class IMTLG(GradientBalancing):
    """IMTL-G, "Towards Impartial Multi-task Learning" (Liu et al., ICLR 2021).

    With `D = [g_1 - g_t]_t` and `U = [u_1 - u_t]_t` (u: unit gradients), the
    coefficients of tasks 2..T are `g_1 U^T (D U^T)^-1`, task 1 gets the rest.
    """

    def solve(self, gram, info):
        n = self.num_tasks
        if n == 1:
            return tf.ones([1])
        norms = tf.sqrt(tf.maximum(tf.linalg.diag_part(gram), EPS))
        gu = gram / norms[None, :]                     # g_i . u_j
        # D U^T [k, l] = (g_1 - g_k) . (u_1 - u_l), k, l = 2..T
        d_u = (gu[0, 0] - gu[0, 1:][None, :] - gu[1:, 0][:, None] + gu[1:, 1:])
        b = gu[0, 0] - gu[0, 1:]                       # g_1 . (u_1 - u_l)
        ridge = 1e-6 * tf.maximum(tf.reduce_max(tf.abs(d_u)), EPS) * tf.eye(n - 1)
        rest = tf.linalg.solve(tf.transpose(d_u + ridge), b[:, None])[:, 0]
        alpha = tf.concat([[1.0 - tf.reduce_sum(rest)], rest], 0)
        return n * alpha


@register_weighting("nash_mtl")
@arguments(iterations=Arg(int, "damped Newton steps", range="[1, inf)"))
class NashMTL(GradientBalancing):
    """Nash-MTL, "Multi-Task Learning as a Bargaining Game" (Navon et al., ICML 2022).

    The bargaining solution satisfies `K a = 1 / a` (elementwise), the stationary
    point of the strictly convex `0.5 a^T K a - sum_t log a_t` over a > 0; damped
    Newton steps that keep `a` positive find it. The paper solves the same
    condition with a sequence of convex programs (cvxpy).

    Args:
        iterations: int. Newton steps.
    """

    def __init__(self, tasks, task_weights=None, iterations=20):
        super().__init__(tasks)
        self.iterations = int(iterations)

    def solve(self, gram, info):
        n = self.num_tasks
        k = gram / tf.maximum(tf.norm(gram), EPS)
        a = tf.ones([n])
        for _ in tf.range(self.iterations):
            grad = tf.linalg.matvec(k, a) - 1.0 / a
            hess = k + tf.linalg.diag(1.0 / a ** 2) + 1e-6 * tf.eye(n)
            step = tf.linalg.solve(hess, grad[:, None])[:, 0]
            # Largest step in (0, 1] that keeps every a_t > 0 (at most halfway to zero).
            limit = tf.reduce_min(tf.where(step > 0, 0.5 * a / tf.maximum(step, EPS), 1.0))
            a = a - tf.minimum(1.0, limit) * step
        return a


@register_weighting("aligned_mtl")
@arguments()
class AlignedMTL(GradientBalancing):
    """Aligned-MTL, "Independent Component Alignment for Multi-Task Learning" (Senushkin et al., CVPR 2023).

    From `K = V diag(lambda) V^T`: `w = sigma_min V diag(1/sigma) V^T 1`,
    `sigma = sqrt(lambda)`, over the eigenvalues above a rank tolerance.
    """

    def solve(self, gram, info):
        n = self.num_tasks
        lam, v = tf.linalg.eigh(gram)
        tol = tf.reduce_max(lam) * n * 1e-6
        keep = lam > tol
        sigma = tf.sqrt(tf.maximum(lam, EPS))
        sigma_min = tf.reduce_min(tf.where(keep, sigma, tf.reduce_max(sigma)))
        inv = tf.where(keep, 1.0 / sigma, 0.0)
        return sigma_min * tf.linalg.matvec(v, inv * tf.linalg.matvec(v, tf.ones([n]), adjoint_a=True))


@register_weighting("gradvac")
@arguments(beta=Arg(float, "EMA rate of the target similarities (the paper's 0.01)",
                    range="(0, 1]"),
           seed=Arg(int, "seeds the per-step order of the other tasks",
                    range="[0, 2147483647]"))
class GradVac(GradientBalancing):
    """GradVac, "Gradient Vaccine" (Wang, Tsvetkov, Firat & Cao, ICLR 2021).

    Like PCGrad, but towards a target similarity rather than only away from conflict:
    for each task i, in a random order of the others j, when the cosine of the
    (adjusted) g_i and g_j is below the target `phi_ij` (an exponential moving average
    of the observed cosines, `beta`), add the multiple of g_j that brings it to the
    target. Whole-model granularity (one target per task pair), tracked as
    coefficients over the original gradients, so it works on K.

    Args:
        beta: float. EMA rate of the targets (the paper's 0.01; LibMTL's 0.5).
        seed: int. Seeds the per-step task order.
    """

    def __init__(self, tasks, task_weights=None, beta=0.01, seed=0):
        super().__init__(tasks)
        self.beta, self.seed = float(beta), int(seed)
        # Identical on every replica (computed from K); written by the first.
        self.target = tf.Variable(tf.zeros([self.num_tasks, self.num_tasks]), trainable=False,
                                  aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
                                  name="target")

    def solve(self, gram, info):
        n = self.num_tasks
        target = tf.identity(self.target)
        updates = tf.zeros([n, n])
        rows = []
        for i in range(n):
            c = tf.one_hot(i, n)
            seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(info.step, tf.int64) * n + i])
            order = tf.argsort(tf.random.stateless_uniform([n], seed=seed))
            for k in range(n):
                j = order[k]
                kc = tf.linalg.matvec(gram, c)
                norm_i = tf.sqrt(tf.maximum(tf.tensordot(c, kc, 1), EPS))
                norm_j = tf.sqrt(tf.maximum(gram[j, j], EPS))
                rho = tf.tensordot(c, gram[:, j], 1) / (norm_i * norm_j)
                phi = target[i, j]
                adjust = tf.logical_and(tf.not_equal(j, i), rho < phi)
                w = norm_i * (phi * tf.sqrt(tf.maximum(1.0 - rho ** 2, 0.0))
                              - rho * tf.sqrt(tf.maximum(1.0 - phi ** 2, 0.0))) / (
                    norm_j * tf.sqrt(tf.maximum(1.0 - phi ** 2, EPS)))
                c = c + tf.where(adjust, w, 0.0) * tf.one_hot(j, n)
                ema = (1.0 - self.beta) * phi + self.beta * rho
                updates = tf.tensor_scatter_nd_update(
                    updates, [[i, j]], [tf.where(tf.not_equal(j, i), ema, 0.0)])
            rows.append(c)
        with tf.control_dependencies([self.target.assign(updates)]):
            return tf.add_n(rows)


@register_weighting("upgrad")
@arguments(reg=Arg(float, "ridge on the Gram matrix, relative to its mean eigenvalue",
                   range="(0, inf)"))
class UPGrad(GradientBalancing):
    """UPGrad, "Jacobian Descent for Multi-Objective Optimization" (Quinton & Rey, 2024).

    Each task's gradient (weighted by the preference `1/T`) is projected onto the dual
    cone of all the gradients (the update then conflicts with none of them), and the
    projections are summed: with K normalised by its trace (TorchJD's `normalize`) and
    a small ridge, `w = sum_i argmin_{v >= e_i / T} v^T K v`, each solved exactly
    (`solvers.project_to_dual_cone`). Scaled by T, like the other convex-combination
    solvers.

    Args:
        reg: float. The ridge, relative to the mean eigenvalue.
    """

    def __init__(self, tasks, task_weights=None, reg=1e-4):
        super().__init__(tasks)
        self.reg = float(reg)

    def solve(self, gram, info):
        n = self.num_tasks
        k = gram / tf.maximum(tf.linalg.trace(gram), EPS)
        rows = [numpy_solver(project_to_dual_cone, k, tf.one_hot(i, n, dtype=tf.float64) / n,
                             tf.constant(self.reg, tf.float64)) for i in range(n)]
        return n * tf.add_n(rows)


@register_weighting("db_mtl")
@arguments(beta=Arg(float, "EMA rate (the paper's 0.9)", range="(0, 1]"),
           beta_sigma=Arg(float, "decay exponent of the rate (the paper's 0.5)", range="[0, inf)"))
class DBMTL(GradientBalancing):
    """DB-MTL, "Dual-Balancing for Multi-Task Learning" (Lin, Ye, Xu & Zhang, 2023).

    Loss-scale balancing: each task's loss enters as `log L_t` (gradient `g_t / L_t`).
    Gradient-magnitude balancing: every task's log-loss gradient is scaled to the
    largest of their norms, `w_t = (max_k n_k / n_t) / L_t`, where `n_t` is an
    exponential moving average of `|g_t| / L_t` with the decaying rate
    `beta / step^beta_sigma`. The paper's code keeps the moving average of the
    gradient vectors themselves; here it is of their norms, so the method stays a
    computation on K in either gradient space.

    Args:
        beta: float. EMA rate (the paper's 0.9).
        beta_sigma: float. Decay exponent of the rate (the paper's 0.5).
    """

    def __init__(self, tasks, task_weights=None, beta=0.9, beta_sigma=0.5):
        super().__init__(tasks)
        self.beta, self.beta_sigma = float(beta), float(beta_sigma)
        agg = tf.VariableAggregation.ONLY_FIRST_REPLICA
        self.norms = tf.Variable(tf.zeros([self.num_tasks]), trainable=False, aggregation=agg,
                                 name="norms")

    def solve(self, gram, info):
        losses = tf.maximum(tf.cast(info.losses, tf.float32), 1e-8)
        current = tf.sqrt(tf.maximum(tf.linalg.diag_part(gram), 0.0)) / losses
        step = tf.cast(info.step, tf.float32) + 1.0
        rate = self.beta / step ** self.beta_sigma
        first = tf.reduce_all(tf.equal(self.norms, 0.0))
        norms = tf.where(first, current, current + rate * (self.norms - current))
        alpha = tf.reduce_max(norms) / tf.maximum(norms, EPS)
        with tf.control_dependencies([self.norms.assign(norms)]):
            return alpha / losses


@register_weighting("graddrop")
@arguments(leak=Arg(float, "fraction of a dropped gradient that is kept (the paper's 0)",
                   range="[0, 1]"),
           seed=Arg(int, "seeds the per-element draws",
                    range="[0, 2147483647]"))
class GradDrop(Weighting):
    """GradDrop, "Just Pick a Sign" (Chen, Ngiam, Huang, Luong, Kretzschmar, Chai &
    Anguelov, NeurIPS 2020).

    Works element by element on the shared representation, so not through K: for
    each element of the representation, the gradient "purity"
    `P = (1 + sum_t s_t / sum_t |s_t|) / 2` of the per-task signals
    `s_t = sum over the batch of g_t * sign(x)`; a uniform draw U per element keeps
    the positive task gradients where `P > U` and the negative ones where `P < U`
    (a dropped gradient keeps a fraction `leak`). The kept per-task gradients flow
    into the shared layers; each task's own layers get its plain gradient. Needs
    `train.gradient_on: representation`. The sums are all-reduced and the draw keyed
    on (seed, step), so every replica keeps the same elements.

    Args:
        leak: float. Fraction of a dropped gradient that is kept (the paper's 0).
        seed: int. Seeds the draws.
    """

    uses_gradients = True
    balances_gradients = True
    gradient_spaces = ("representation",)

    def __init__(self, tasks, task_weights=None, leak=0.0, seed=0):
        super().__init__(tasks, {})
        self.leak, self.seed = float(leak), int(seed)

    def gradients(self, step):
        if step.representation is None:
            raise ValueError("graddrop works on the shared representation: use "
                             "train.gradient_on: representation")
        reps, n = step.representation, len(step.loss_list)
        per_task = [step.tape.gradient(step.loss_list[t], reps) for t in range(n)]
        kept = [[None] * len(reps) for _ in range(n)]
        for r, x in enumerate(reps):
            g = tf.stack([tf.zeros_like(x) if p[r] is None else p[r] for p in per_task])  # [T, B, ...]
            signal = step.all_reduce(tf.reduce_sum(g * tf.sign(x)[None], axis=1))        # [T, ...]
            purity = 0.5 * (1.0 + tf.reduce_sum(signal, 0) / (tf.reduce_sum(tf.abs(signal), 0) + 1e-7))
            draw = tf.random.stateless_uniform(tf.shape(purity), seed=tf.stack(
                [tf.constant(self.seed, tf.int64), tf.cast(step.info.step, tf.int64) * 1000 + r]))
            keep = tf.logical_or(tf.logical_and(purity > draw, signal > 0),
                                 tf.logical_and(purity < draw, signal < 0))          # [T, ...]
            mask = self.leak + (1.0 - self.leak) * tf.cast(keep, g.dtype)
            for t in range(n):
                kept[t][r] = g[t] * mask[t][None]
        ones = tf.ones([n])
        with step.tape:
            target = tf.reduce_sum(step.losses)
            if step.regularizer is not None:
                target += step.regularizer
        # The heads bring sum_t g_t to the representation; replace it by the kept sum.
        delta = [tf.add_n([kept[t][r] for t in range(n)])
                 - tf.add_n([tf.zeros_like(reps[r]) if p[r] is None else p[r] for p in per_task])
                 for r in range(len(reps))]
        grads = step.tape.gradient([target] + list(reps), step.variables,
                                   output_gradients=[tf.ones_like(target)] + delta)
        total = tf.reduce_sum(step.losses) + (0.0 if step.regularizer is None else step.regularizer)
        return grads, ones, total
