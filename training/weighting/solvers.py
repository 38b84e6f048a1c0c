"""Small exact solvers on a T x T Gram matrix `K = G G^T`, shared by the gradient methods.

They run in float64 numpy (called from the training graph through
`tf.numpy_function`, on a matrix identical on every replica, so every replica gets
the same answer) and solve their problems to a tolerance, not for a fixed number of
steps:

- `min_norm`: the min-norm point of the convex hull of the gradients,
  `argmin_{a in simplex} a^T K a` (MGDA), by Wolfe's (1976) finite active-set
  algorithm, checked against the problem's optimality (KKT) conditions. Where that
  check fails (rank-deficient K can make it stall), Sener & Koltun's MinNormSolver
  takes over: the best pair's closed-form two-gradient solution as the start,
  projected gradient steps with exact line search until the change is below `tol`,
  then an exact KKT solve on the support it found; the lower point wins.
- `cagrad_weights`: CAGrad's inner problem,
  `argmin_{w in simplex} w^T K m + sqrt(phi) sqrt(w^T K w)` (convex), with SciPy's
  SLSQP to `tol` from the uniform point (the reference implementation also uses
  SLSQP on K).
- `project_to_dual_cone`: UPGrad's step, `argmin_v v^T K v` subject to `v >= u`,
  exact by non-negative least squares (Lawson-Hanson) on a Cholesky factor of K.

Example:
>>> import numpy as np
>>> from training.weighting.solvers import min_norm
>>> [round(float(a), 3) for a in min_norm(np.array([[1.0, 0.0], [0.0, 4.0]]))]
[0.8, 0.2]
"""

import itertools

import numpy as np
import tensorflow as tf
from scipy import optimize

EPS = 1e-8


def _two_point(kii, kij, kjj):
    """argmin_g |g u + (1-g) v|^2 over g in [0, 1], with u.u = kii, u.v = kij, v.v = kjj."""
    denom = kii - 2.0 * kij + kjj
    if denom <= 1e-18:
        return 0.5
    return float(np.clip((kjj - kij) / denom, 0.0, 1.0))


def _project_simplex(v):
    """Euclidean projection of `v` onto the probability simplex."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u)
    rho = np.nonzero(u * np.arange(1, len(v) + 1) > (css - 1.0))[0][-1]
    theta = (css[rho] - 1.0) / (rho + 1.0)
    return np.maximum(v - theta, 0.0)


def _kkt_polish(k, a, tol):
    """Solve the simplex QP exactly on the support of `a`; None when that is not optimal."""
    support = np.flatnonzero(a > tol)
    if not len(support):
        return None
    ks = k[np.ix_(support, support)]
    n = len(support)
    system = np.block([[2.0 * ks, -np.ones((n, 1))], [np.ones((1, n)), np.zeros((1, 1))]])
    rhs = np.r_[np.zeros(n), 1.0]
    try:
        solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
    except np.linalg.LinAlgError:
        return None
    out = np.zeros(len(a))
    out[support] = solution[:n]
    if out.min() < -1e-12:
        return None
    out = np.maximum(out, 0.0)
    out /= out.sum()
    grad = 2.0 * k @ out
    lam = grad[support].mean()
    if np.any(grad < lam - 1e-9 * max(1.0, abs(lam))):  # an off-support vertex would descend
        return None
    return out


def _affine_min(k, support):
    """argmin y^T K y subject to sum(y) = 1, y zero off `support` (its KKT system)."""
    n = len(support)
    system = np.block([[2.0 * k[np.ix_(support, support)], -np.ones((n, 1))],
                       [np.ones((1, n)), np.zeros((1, 1))]])
    y = np.zeros(len(k))
    y[support] = np.linalg.lstsq(system, np.r_[np.zeros(n), 1.0], rcond=None)[0][:n]
    return y


def wolfe_min_norm(k, tol=1e-12, max_iter=200):
    """Wolfe's (1976) finite active-set algorithm for the min-norm point of a hull, on K."""
    t = len(k)
    scale = max(np.abs(k).max(), 1e-300)
    x = np.eye(t)[int(np.argmin(np.diag(k)))]
    support = [int(np.argmin(np.diag(k)))]
    for _ in range(max_iter):
        grad = k @ x
        j = int(np.argmin(grad))
        if x @ grad - grad[j] <= tol * scale or j in support:
            break
        support.append(j)
        for _ in range(max_iter):  # minor cycles: back inside the simplex
            y = _affine_min(k, support)
            if y[support].min() >= -1e-14:
                x = np.maximum(y, 0.0)
                break
            neg = [i for i in support if y[i] < 0]
            theta = min(x[i] / (x[i] - y[i]) for i in neg)
            x = x + theta * (y - x)
            support = [i for i in support if x[i] > 1e-14]
            x[[i for i in range(t) if i not in support]] = 0.0
    return x / x.sum()


def _is_optimal(k, a, tol=1e-9):
    """KKT of the simplex QP: no vertex has a lower gradient than the support's."""
    grad = k @ a
    return a @ grad - grad.min() <= tol * max(np.abs(k).max(), 1e-300)


def min_norm(k, tol=1e-10, max_iter=1000):
    """argmin over the simplex of a^T K a (see the module docstring); float64 [T]."""
    k = np.asarray(k, np.float64)
    t = len(k)
    if t == 1:
        return np.ones(1)
    exact = wolfe_min_norm(k)
    if _is_optimal(k, exact):
        return exact
    return _pgd_min_norm(k, exact, tol, max_iter)


def _pgd_min_norm(k, exact, tol, max_iter):
    """Sener & Koltun's MinNormSolver (best pair, projected gradient with exact line
    search, a tolerance), then a KKT solve on its support; `exact` if that is lower."""
    t = len(k)
    # Sener & Koltun: start from the best pair's exact two-gradient solution.
    best, a = np.inf, None
    for i, j in itertools.combinations(range(t), 2):
        g = _two_point(k[i, i], k[i, j], k[j, j])
        value = g * g * k[i, i] + 2 * g * (1 - g) * k[i, j] + (1 - g) ** 2 * k[j, j]
        if value < best:
            best, a = value, np.zeros(t)
            a[i], a[j] = g, 1.0 - g
    for _ in range(max_iter):
        grad = 2.0 * k @ a
        candidate = _project_simplex(a - grad / max(np.abs(k).max() * t, 1e-18))
        direction = candidate - a
        curvature = direction @ k @ direction
        if curvature <= 1e-20:
            break
        step = float(np.clip(-(a @ k @ direction) / curvature, 0.0, 1.0))
        change = step * direction
        a = a + change
        if np.abs(change).sum() < tol:
            break
    polished = _kkt_polish(k, a, 1e-7)
    if polished is not None and polished @ k @ polished <= a @ k @ a + 1e-14:
        a = polished
    return exact if exact @ k @ exact < a @ k @ a else a


def cagrad_weights(k, c, tol=1e-12, max_iter=500):
    """CAGrad's inner problem on K (see the module docstring); float64 [T] on the simplex."""
    k = np.asarray(k, np.float64)
    t = len(k)
    scale = max(np.abs(k).mean(), 1e-20)
    k = k / scale  # the weights do not depend on the scale
    m = np.full(t, 1.0 / t)
    km = k @ m
    sqrt_phi = c * np.sqrt(max(m @ km, 0.0))

    def objective(w):
        return w @ km + sqrt_phi * np.sqrt(max(w @ k @ w, 1e-30))

    def gradient(w):
        kw = k @ w
        return km + sqrt_phi * kw / np.sqrt(max(w @ kw, 1e-30))

    res = optimize.minimize(objective, m, jac=gradient, method="SLSQP",
                            bounds=[(0.0, 1.0)] * t,
                            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0,
                                          "jac": lambda w: np.ones(t)}],
                            options={"ftol": tol, "maxiter": max_iter})
    return _project_simplex(res.x)


def project_to_dual_cone(k, u, reg=1e-8):
    """argmin_v v^T K v subject to v >= u (UPGrad's projection), exact; float64 [T]."""
    k = np.asarray(k, np.float64)
    u = np.asarray(u, np.float64)
    t = len(k)
    k = k + reg * max(np.trace(k) / t, 1e-20) * np.eye(t)  # positive definite
    chol = np.linalg.cholesky(k)                              # K = L L^T
    # v = u + s, s >= 0:  min ||L^T (u + s)||^2  =  NNLS with A = L^T, b = -L^T u.
    s, _ = optimize.nnls(chol.T, -chol.T @ u, maxiter=50 * t)
    return u + s


def numpy_solver(fn, gram, *args):
    """Calls `fn(gram, *args)` (numpy, float64) from a graph; float32 [T] tensor."""
    out = tf.numpy_function(lambda g, *a: np.asarray(fn(g, *a), np.float32),
                            [tf.cast(gram, tf.float64)] + [tf.convert_to_tensor(a) for a in args],
                            tf.float32, stateful=False)
    return tf.ensure_shape(out, gram.shape[:1])
