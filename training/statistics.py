"""Statistics over seeds: means, confidence intervals, paired differences.

A comparison of two setups is a claim about a distribution, so a study runs every
setup with several seeds and reports, per task and setup, the mean, the standard
deviation and a 95% confidence interval of the mean (Student's t with n-1 degrees
of freedom: `mean ± t(0.975, n-1) * sd / sqrt(n)`). Two setups are compared *paired
by seed* (the same seed gives both the same data order and, for single-task
baselines, the same initialisation stream): the interval of the mean per-seed
difference says whether the data exclude "no difference".

Example:
>>> from training.statistics import summarize, paired_difference
>>> s = summarize([0.80, 0.82, 0.81])
>>> round(s["mean"], 3), round(s["ci_low"], 3), round(s["ci_high"], 3)
(0.81, 0.785, 0.835)
>>> d = paired_difference([0.80, 0.82, 0.81], [0.78, 0.79, 0.785])
>>> round(d["mean"], 4), d["excludes_zero"]
(0.025, True)
"""

import math

import numpy as np
from scipy import stats


def t_interval(values, confidence=0.95):
    """(low, high) confidence interval of the mean; (nan, nan) with fewer than 2 values."""
    values = np.asarray([v for v in values if v is not None and math.isfinite(v)], np.float64)
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2.0, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return float(values.mean() - half), float(values.mean() + half)


def summarize(values, confidence=0.95):
    """{"n", "mean", "std", "ci_low", "ci_high", "values"} of one metric over seeds."""
    clean = [float(v) for v in values if v is not None and math.isfinite(v)]
    n = len(clean)
    low, high = t_interval(clean, confidence)
    return {"n": n, "mean": float(np.mean(clean)) if n else float("nan"),
            "std": float(np.std(clean, ddof=1)) if n > 1 else float("nan"),
            "ci_low": low, "ci_high": high, "values": clean}


def paired_difference(a, b, confidence=0.95):
    """Summary of the per-seed differences a_s - b_s, and whether its interval excludes 0."""
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None
             and math.isfinite(x) and math.isfinite(y)]
    out = summarize([x - y for x, y in pairs], confidence)
    out["excludes_zero"] = bool(out["n"] > 1 and (out["ci_low"] > 0 or out["ci_high"] < 0))
    return out
