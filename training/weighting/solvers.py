"""Small solvers on a T x T Gram matrix `K = G G^T`, shared by the gradient methods.

Example:
>>> import tensorflow as tf
>>> from training.weighting.solvers import min_norm_weights
>>> [round(float(a), 3) for a in min_norm_weights(tf.constant([[1.0, 0.0], [0.0, 4.0]]))]
[0.8, 0.2]
"""

import tensorflow as tf

EPS = 1e-8


def min_norm_weights(gram, iterations=50):
    """Min-norm point of the convex hull: argmin_{a in simplex} a^T K a (Frank-Wolfe).

    The line search between the current point and a vertex is exact (the
    two-vector case of Sener & Koltun, Algorithm 1).
    """
    t = tf.shape(gram)[0]
    a = tf.fill([t], 1.0 / tf.cast(t, tf.float32))
    for _ in tf.range(iterations):  # a graph loop: small graphs trace fast
        grad = tf.linalg.matvec(gram, a)
        j = tf.argmin(grad)
        e = tf.one_hot(j, t)
        # Minimise |(1-g) u + g v|^2 over g in [0, 1], u = G^T a, v = g_j.
        uu = tf.tensordot(a, grad, 1)
        uv = grad[j]
        vv = gram[j, j]
        denom = uu - 2.0 * uv + vv
        gamma = tf.where(denom > EPS, tf.clip_by_value((uu - uv) / tf.maximum(denom, EPS), 0.0, 1.0),
                         0.0)
        a = (1.0 - gamma) * a + gamma * e
    return a
