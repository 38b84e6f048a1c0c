"""Metrics over whole predictions that no single task kind owns, and the streaming update
the kinds whose labels are one float per output share.

`update_streaming`: feeds a batch to a kind's streaming metrics, the labels cast and
shaped like the outputs, weighted by the label mask (`binary`, `regression`).

`entire_space_metrics`: how well a funnel model's post-click conversion probabilities
(pCVR) match the truth on EVERY impression, clicked or not (ESMM's question; used by
`results/funnel/measure.py` on `conversion_funnel` splits, which store the true
probabilities and the potential outcomes).

Example:
>>> import numpy as np
>>> from tasks.metrics import entire_space_metrics
>>> split = {"cvr_probability": np.array([0.2, 0.6, 0.1, 0.7]),
...          "conversion": np.array([0, 1, 0, 1]), "click": np.array([1, 1, 0, 0])}
>>> truth = entire_space_metrics(split["cvr_probability"], split)
>>> truth["auc_all"], truth["bias_all"], truth["kl"]
(1.0, 0.0, 0.0)
>>> round(entire_space_metrics([0.5] * 4, split)["bias_unclicked"], 2)
0.1
"""

import numpy as np

from tasks.losses import labels_like
from utils.ranking import roc_auc


def update_streaming(metrics, y_true, y_pred, mask):
    """Feeds one batch to every metric of `metrics` ({name: keras metric}), the labels as
    float32 shaped like `y_pred`, each example weighted by its label `mask`."""
    y_true = labels_like(y_true, y_pred)
    for metric in metrics.values():
        metric.update_state(y_true, y_pred, sample_weight=mask)


def entire_space_metrics(pcvr, split):
    """How well predicted post-click conversion probabilities `pcvr` (one per impression of
    a generated split, in order) match the truth, on all impressions and on the clicked
    and not clicked ones:

    - `auc_*`: ROC AUC against the potential outcomes (the `conversion` labels of an
      entire-space test split), exact;
    - `bias_*`: mean(pcvr) - mean(true cvr): the calibration error a naive model shows
      where it saw no training rows;
    - `kl`: mean KL divergence from the true Bernoulli(cvr) to Bernoulli(pcvr), in nats
      (0 for the truth itself; the log loss against the true probabilities minus their
      entropy).

    Args:
        pcvr: array of float. One predicted probability per impression.
        split: dict of arrays. `cvr_probability` (the truth), `conversion` (labels, -1
            missing) and `click` (0/1), one per impression.
    """
    p = np.clip(np.asarray(pcvr, np.float64).reshape(-1), 1e-7, 1 - 1e-7)
    q = np.clip(np.asarray(split["cvr_probability"], np.float64), 1e-7, 1 - 1e-7)
    labels, clicked = np.asarray(split["conversion"]), np.asarray(split["click"]) == 1
    out = {}
    for name, rows in (("all", np.ones_like(clicked)), ("clicked", clicked),
                       ("unclicked", ~clicked)):
        known = rows & (labels >= 0)
        out[f"auc_{name}"] = roc_auc(labels[known], p[known]) if known.any() else float("nan")
        out[f"bias_{name}"] = round(float(np.mean(p[rows] - q[rows])), 12) if rows.any() \
            else float("nan")
    kl = q * np.log(q / p) + (1 - q) * np.log((1 - q) / (1 - p))
    out["kl"] = round(float(kl.mean()), 12)
    return out
