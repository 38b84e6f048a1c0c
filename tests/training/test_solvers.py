"""The exact solvers against reference solutions of the same problems, on random Gram
matrices with T = 2..6 tasks (some rank-deficient, as gradients often are)."""

import itertools

import numpy as np
import pytest
from scipy import optimize

from training.weighting.solvers import cagrad_weights, min_norm, project_to_dual_cone


def grams(seed):
    rng = np.random.default_rng(seed)
    for t in range(2, 7):
        for rank in sorted({t, max(1, t - 2)}):
            g = rng.normal(size=(t, rank)) @ rng.normal(size=(rank, 40))
            g *= rng.uniform(0.1, 10.0, size=(t, 1))  # tasks of very different scales
            yield g @ g.T


def reference_min_norm(k):
    """Exact: over every support, the KKT point of the simplex QP; the best feasible one."""
    t, best = len(k), (np.inf, None)
    for size in range(1, t + 1):
        for support in itertools.combinations(range(t), size):
            s = list(support)
            system = np.block([[2 * k[np.ix_(s, s)], -np.ones((size, 1))],
                               [np.ones((1, size)), np.zeros((1, 1))]])
            sol = np.linalg.lstsq(system, np.r_[np.zeros(size), 1.0], rcond=None)[0]
            a = np.zeros(t)
            a[s] = sol[:size]
            if a.min() >= -1e-12 and abs(a.sum() - 1) < 1e-9 and a @ k @ a < best[0]:
                best = (a @ k @ a, a)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_min_norm_matches_the_exact_qp(seed):
    for k in grams(seed):
        value, _ = reference_min_norm(k)
        a = min_norm(k)
        assert abs(a.sum() - 1) < 1e-9 and a.min() >= 0
        scale = max(np.abs(k).max(), 1e-12)
        assert (a @ k @ a - value) / scale < 1e-4, (len(k), a @ k @ a, value)


def test_min_norm_is_exact_on_a_hand_made_case():
    # Two opposite unit gradients and a third orthogonal one: 0 is in the hull.
    k = np.array([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(min_norm(k), [0.5, 0.5, 0.0], atol=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_cagrad_inner_problem_matches_a_reference_solver(seed):
    for k in grams(seed):
        for c in (0.2, 0.5, 0.9):
            t = len(k)
            kn = k / np.abs(k).mean()
            m = np.full(t, 1.0 / t)
            phi = c * np.sqrt(m @ kn @ m)

            def objective(w):
                return w @ kn @ m + phi * np.sqrt(max(w @ kn @ w, 1e-30))
            ref = min((optimize.minimize(objective, x0, method="trust-constr",
                                         bounds=optimize.Bounds(0, 1),
                                         constraints=optimize.LinearConstraint(np.ones(t), 1, 1),
                                         options={"gtol": 1e-12, "xtol": 1e-12, "maxiter": 5000})
                       for x0 in (m, np.eye(t)[0] * 0.5 + 0.5 / t)), key=lambda r: r.fun)
            w = cagrad_weights(k, c)
            assert objective(w) <= ref.fun + 1e-4 * max(abs(ref.fun), 1.0), (t, c)


def reference_projection(k, u):
    """Exact: over every active set A (v_A = u_A), the free part's stationary point."""
    t, best = len(k), (np.inf, None)
    for size in range(t + 1):
        for active in itertools.combinations(range(t), size):
            free = [i for i in range(t) if i not in active]
            v = u.copy()
            if free:
                a = list(active)
                rhs = -k[np.ix_(free, a)] @ u[a] if a else np.zeros(len(free))
                v[free] = np.linalg.lstsq(k[np.ix_(free, free)], rhs, rcond=None)[0]
            if np.all(v >= u - 1e-10) and v @ k @ v < best[0]:
                best = (v @ k @ v, v)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dual_cone_projection_matches_the_exact_qp(seed):
    for k in grams(seed):
        k = k / np.trace(k) + 1e-4 * np.eye(len(k)) / len(k)
        for i in range(len(k)):
            u = np.eye(len(k))[i] / len(k)
            value, _ = reference_projection(k, u)
            v = project_to_dual_cone(k, u, reg=0.0)
            assert np.all(v >= u - 1e-9)
            assert v @ k @ v - value < 1e-4 * max(value, 1e-12) + 1e-12, (len(k), i)
