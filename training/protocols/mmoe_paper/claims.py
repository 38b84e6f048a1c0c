"""The MMoE paper's four claims on its synthetic data, tested with bootstrap intervals over
runs (Ma et al., KDD 2018, §5):

(i)   every model's loss falls as the task correlation rises;
(ii)  MMoE's loss gap between low and high correlation is smaller than OMoE's and the
      shared bottom's;
(iii) both mixture models (OMoE, MMoE) reach a lower loss than the shared bottom at every
      correlation;
(iv)  the shared bottom's final loss varies more across runs than the mixtures' (trainability).

Input: `losses[model][p]`, each run's final loss, aligned by run (run r of every model and
correlation has the same seed: the same u1, u2 and inputs), so every comparison is paired
and the bootstrap resamples runs (the same runs for every model and correlation). A part
of a claim holds where its 95% interval lies on the claimed side; a claim is
`reproduced` when every part holds, `contradicted` when a part's interval lies on the
other side, else `not shown`.

Example:
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> base, noisy = rng.normal(1.0, 0.01, 50), rng.normal(0.2, 0.05, 50)
>>> losses = {m: {0.5: base + 0.3 + s, 0.9: base + 0.1 + s, 1.0: base + s}
...           for m, s in (("shared_bottom", noisy), ("omoe", 0.0), ("mmoe", 0.0))}
>>> losses["mmoe"][0.5] = losses["mmoe"][0.5] - 0.05     # a smaller gap
>>> verdicts = check_claims(losses)
>>> [verdicts[c]["verdict"] for c in ("i", "ii", "iii", "iv")]
['reproduced', 'reproduced', 'reproduced', 'reproduced']
>>> losses["mmoe"][0.5] = losses["mmoe"][0.9]              # MMoE: no fall from 0.5 to 0.9
>>> check_claims(losses)["i"]["verdict"]
'not shown'
"""

import numpy as np

BOOTSTRAP = 2000
MIXTURES = ("omoe", "mmoe")


def bootstrap(statistic, n, seed=0, draws=BOOTSTRAP):
    """(value, low, high): `statistic(index)` on all runs and the 95% percentile interval
    over `draws` resamples of the runs."""
    rng = np.random.default_rng(seed)
    with np.errstate(invalid="ignore", divide="ignore"):  # a resample of equal values: sd 0
        values = np.array([statistic(rng.integers(0, n, n)) for _ in range(draws)])
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return float(statistic(np.arange(n))), float(low), float(high)


def part(name, statistic, n, above):
    """One comparison: its value, interval and whether it holds (interval above `above`)
    or is contradicted (interval below it)."""
    value, low, high = bootstrap(statistic, n)
    return {"name": name, "value": value, "ci_low": low, "ci_high": high,
            "holds": bool(low > above), "contradicted": bool(high < above)}


def verdict(parts):
    if all(p["holds"] for p in parts):
        return "reproduced"
    if any(p["contradicted"] for p in parts):
        return "contradicted"
    return "not shown"


def _claim(parts, text):
    return {"claim": text, "verdict": verdict(parts), "parts": parts}


def check_claims(losses):
    """{"i": ..., "ii": ..., "iii": ..., "iv": ...}: each claim's parts and verdict."""
    models = list(losses)
    ps = sorted(losses[models[0]])
    n = len(losses[models[0]][ps[0]])
    lo, hi = ps[0], ps[-1]
    L = {m: {p: np.asarray(losses[m][p], np.float64) for p in ps} for m in models}
    one = [part(f"{m}: loss(p={a:g}) - loss(p={b:g})",
                lambda i, m=m, a=a, b=b: np.mean(L[m][a][i] - L[m][b][i]), n, 0.0)
           for m in models for a, b in zip(ps, ps[1:])]
    gap = {m: L[m][lo] - L[m][hi] for m in models}
    two = [part(f"gap {m} - gap mmoe (gap: loss(p={lo:g}) - loss(p={hi:g}))",
                lambda i, m=m: np.mean(gap[m][i] - gap["mmoe"][i]), n, 0.0)
           for m in models if m != "mmoe"]
    three = [part(f"p={p:g}: loss shared_bottom - loss {m}",
                  lambda i, m=m, p=p: np.mean(L["shared_bottom"][p][i] - L[m][p][i]), n, 0.0)
             for p in ps for m in MIXTURES]
    four = [part(f"p={p:g}: sd shared_bottom / sd {m}",
                 lambda i, m=m, p=p: np.std(L["shared_bottom"][p][i]) / np.std(L[m][p][i]),
                 n, 1.0) for p in ps for m in MIXTURES]
    return {"i": _claim(one, "every model's loss falls as the task correlation rises"),
            "ii": _claim(two, "MMoE's gap between low and high correlation is smaller than "
                              "OMoE's and the shared bottom's"),
            "iii": _claim(three, "OMoE and MMoE reach a lower loss than the shared bottom at "
                                 "every correlation"),
            "iv": _claim(four, "the shared bottom's final loss varies more across runs than "
                               "OMoE's and MMoE's")}
