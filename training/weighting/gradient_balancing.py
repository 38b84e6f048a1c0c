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
>>> from data.tasks import Task
>>> from training.weighting import StepInfo, make_weighting
>>> tasks = [Task("a", "binary"), Task("b", "binary")]
>>> gram = tf.constant([[1.0, -0.5], [-0.5, 1.0]])  # two conflicting unit gradients
>>> info = StepInfo(losses=tf.ones([2]), step=tf.constant(0, tf.int64), gram=gram)
>>> [round(float(x), 3) for x in make_weighting("pcgrad", tasks).task_weights(info)]
[1.5, 1.5]
"""

import tensorflow as tf

from training.weighting.base import Weighting, register_weighting
from training.weighting.solvers import EPS, min_norm_weights


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
        n = self.num_tasks
        coeffs = tf.eye(n)  # row i: projected g_i as a combination of g_1..g_T
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
        return tf.add_n(rows)


@register_weighting("mgda_ub")
class MGDAUB(GradientBalancing):
    """MGDA-UB, "Multi-Task Learning as Multi-Objective Optimization" (Sener & Koltun, NeurIPS 2018).

    Args:
        iterations: int. Frank-Wolfe iterations.
        normalize: bool. Divide each gradient by its norm first (the paper's
            code offers this as `l2` normalisation); the result is then rescaled
            so tasks keep their own gradient scale.
    """

    def __init__(self, tasks, task_weights=None, iterations=50, normalize=False):
        super().__init__(tasks)
        self.iterations, self.normalize = int(iterations), bool(normalize)

    def solve(self, gram, info):
        if self.normalize:
            inv = 1.0 / tf.sqrt(tf.maximum(tf.linalg.diag_part(gram), EPS))
            a = min_norm_weights(gram * inv[:, None] * inv[None, :], self.iterations) * inv
        else:
            a = min_norm_weights(gram, self.iterations)
        return self.num_tasks * a


@register_weighting("cagrad")
class CAGrad(GradientBalancing):
    """CAGrad, "Conflict-Averse Gradient Descent" (Liu, Liu, Jin, Stone & Liu, NeurIPS 2021).

    Args:
        c: float. Radius of the ball around the mean gradient (paper: 0.4-0.5).
        iterations: int. Exponentiated-gradient steps for the inner problem.
        step_size: float. Their step size.
    """

    def __init__(self, tasks, task_weights=None, c=0.4, iterations=30, step_size=0.5):
        super().__init__(tasks)
        self.c, self.iterations, self.step_size = float(c), int(iterations), float(step_size)

    def solve(self, gram, info):
        n = self.num_tasks
        scale = tf.maximum(tf.reduce_mean(tf.abs(gram)), EPS)
        k = gram / scale  # a scale-free problem; the weights do not depend on it
        mean = tf.fill([n], 1.0 / n)
        g0_norm = tf.sqrt(tf.maximum(tf.tensordot(mean, tf.linalg.matvec(k, mean), 1), 0.0))
        sqrt_phi = self.c * g0_norm
        w = mean
        for _ in tf.range(self.iterations):
            kw = tf.linalg.matvec(k, w)
            gw_norm = tf.sqrt(tf.maximum(tf.tensordot(w, kw, 1), EPS))
            # d/dw [g_w . g0 + sqrt(phi) |g_w|]
            grad = tf.linalg.matvec(k, mean) + sqrt_phi * kw / gw_norm
            w = w * tf.exp(-self.step_size * grad / tf.maximum(tf.reduce_max(tf.abs(grad)), EPS))
            w = w / tf.reduce_sum(w)
        gw_norm = tf.sqrt(tf.maximum(tf.tensordot(w, tf.linalg.matvec(k, w), 1), EPS))
        coeffs = mean + (sqrt_phi / gw_norm) * w
        return n * coeffs / (1.0 + self.c ** 2)


@register_weighting("imtl_g")
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
