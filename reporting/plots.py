"""The report's figures (matplotlib, Agg): each function takes plain data (from
`history.json` or `study.json`) and returns a `matplotlib.figure.Figure`, or None when
there is nothing to draw.

Example:
>>> from reporting.plots import learning_curves
>>> history = [{"epoch": 1, "train": {"a": {"loss": 0.9, "auc": 0.6}},
...             "validation": {"a": {"loss": 1.0, "auc": 0.55}}},
...            {"epoch": 2, "train": {"a": {"loss": 0.7, "auc": 0.7}},
...             "validation": {"a": {"loss": 0.8, "auc": 0.65}}}]
>>> fig = learning_curves(history, {"a": ("auc", True)})
>>> len(fig.axes)
2
"""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]

# Metrics that live in [0, 1]: a Student-t interval over a few seeds can reach past the
# bound (accuracy 0.95 +- 0.1), which the figures clip (the tables keep the interval).
UNIT_METRICS = ("accuracy", "auc", "f1", "precision", "recall", "exact_match", "hit_rate")


def clip_interval(metric, low, high):
    """`low`, `high` clipped to the metric's range (unchanged for unbounded metrics).

    >>> clip_interval("accuracy", np.array([0.8]), np.array([1.2]))
    (array([0.8]), array([1.]))
    >>> clip_interval("rmse", np.array([-0.1]), np.array([0.4]))
    (array([-0.1]), array([0.4]))
    """
    if metric in UNIT_METRICS or metric.endswith("_accuracy"):
        return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
    return low, high


def _grid(n, width=3.4, height=2.6, columns=4):
    cols = min(columns, max(n, 1))
    rows = int(math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def learning_curves(history, primary):
    """Per task: train and validation loss, and the primary metric, by epoch."""
    tasks = list(history[0]["train"]) if history else []
    if not tasks:
        return None
    epochs = [h["epoch"] for h in history]
    fig, axes = _grid(2 * len(tasks), columns=4)
    for i, task in enumerate(tasks):
        metric = primary.get(task, ("loss", False))[0]
        for ax, key in ((axes[2 * i], "loss"), (axes[2 * i + 1], metric)):
            for split, style in (("train", "-"), ("validation", "--")):
                values = [h.get(split, {}).get(task, {}).get(key) for h in history]
                if any(v is not None for v in values):
                    ax.plot(epochs, [np.nan if v is None else v for v in values], style,
                            marker="o", ms=3, label=split)
            ax.set_title(f"{task}: {key}", fontsize=9)
            ax.set_xlabel("epoch", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def task_weights(history):
    """The mean task weight of each epoch, one line per task."""
    if not history or not history[0].get("weights"):
        return None
    fig, ax = plt.subplots(figsize=(6, 3))
    epochs = [h["epoch"] for h in history]
    for task in history[0]["weights"]:
        ax.plot(epochs, [h["weights"].get(task) for h in history], marker="o", ms=3, label=task)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean weight")
    ax.set_title("Task weights (mean over each epoch's steps)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def sampling(history):
    """The share of each epoch's training examples drawn from each source (a mixture)."""
    epochs = [h for h in history if h.get("sampling")]
    if not epochs:
        return None
    fig, ax = plt.subplots(figsize=(6, 3))
    sources = list(epochs[0]["sampling"])
    bottom = np.zeros(len(epochs))
    x = [h["epoch"] for h in epochs]
    for source in sources:
        share = np.array([h["sampling"].get(source, 0.0) for h in epochs])
        ax.bar(x, share, bottom=bottom, label=source, width=0.8)
        bottom += share
    ax.set_xticks(x)
    ax.set_xlabel("epoch")
    ax.set_ylabel("share of examples")
    ax.set_ylim(0, 1)
    ax.set_title("Sources drawn (realised proportions of each epoch)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def matrix(values, labels, title, cmap="RdBu_r", vmin=-1.0, vmax=1.0, fmt="{:.2f}",
           row_label=None, col_label=None, col_labels=None):
    """A labelled heatmap with the value in each cell."""
    values = np.asarray(values, np.float64)
    rows, cols = values.shape
    col_labels = col_labels or labels
    fig, ax = plt.subplots(figsize=(1.1 + 0.75 * cols, 0.9 + 0.6 * rows))
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(cols), col_labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(rows), labels, fontsize=8)
    for i in range(rows):
        for j in range(cols):
            if np.isfinite(values[i, j]):
                # White on the dark end of the colour map, black elsewhere.
                dark = abs(image.norm(values[i, j]) - (0.5 if vmin < 0 else 0.0)) > (
                    0.35 if vmin < 0 else 0.65)
                ax.text(j, i, fmt.format(values[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
    if row_label:
        ax.set_ylabel(row_label, fontsize=8)
    if col_label:
        ax.set_xlabel(col_label, fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def symmetric_scale(values):
    """A colour range for a matrix whose diagonal dwarfs the rest: the largest absolute
    off-diagonal value (the diagonal then saturates; its numbers are still printed)."""
    values = np.asarray(values, np.float64)
    off = values[~np.eye(len(values), dtype=bool)] if len(values) > 1 else values.ravel()
    off = off[np.isfinite(off)]
    return max(float(np.max(np.abs(off))) if len(off) else 0.0, 1e-12)


def cosine_series(history):
    """Pairwise gradient cosine at every sampled step, across epochs."""
    samples = [(h["epoch"], s) for h in history
               for s in h.get("diagnostics", {}).get("gradient_samples", [])]
    if not samples:
        return None
    names = history[-1]["diagnostics"]["tasks"]
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    x = np.arange(len(samples))
    fig, ax = plt.subplots(figsize=(7, 3))
    for k, (i, j) in enumerate(pairs):
        ax.plot(x, [s["cosine"][i][j] for _, s in samples], marker=".", ms=4,
                color=COLORS[k % len(COLORS)], label=f"{names[i]} · {names[j]}")
    ax.axhline(0.0, color="grey", lw=0.8)
    epochs = [e for e, _ in samples]
    starts = [k for k in range(len(epochs)) if k == 0 or epochs[k] != epochs[k - 1]]
    ax.set_xticks(starts, [f"ep {epochs[k]}" for k in starts], fontsize=7)
    ax.set_ylabel("cosine")
    ax.set_title("Gradient cosine per sampled step (below 0: the tasks conflict)", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def gate_entropy(history):
    """Each task's mean gate entropy by epoch, against the uniform gate's."""
    rows = [(h["epoch"], h["diagnostics"]["gates"]) for h in history
            if h.get("diagnostics", {}).get("gates")]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6, 3))
    for k, task in enumerate(rows[-1][1]):
        ax.plot([e for e, _ in rows], [g[task]["entropy"] for _, g in rows], marker="o", ms=3,
                color=COLORS[k % len(COLORS)], label=task)
    ax.axhline(rows[-1][1][next(iter(rows[-1][1]))]["max_entropy"], color="grey", ls="--", lw=0.8,
               label="uniform gate")
    ax.set_xlabel("epoch")
    ax.set_ylabel("entropy (nats)")
    ax.set_title("Gate entropy: 0 = one expert per example", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def metric_bars(rows, tasks, primary):
    """Per task, each cell's mean primary metric with its 95% interval."""
    fig, axes = _grid(len(tasks), width=max(3.4, 0.45 * len(rows) + 1.2), height=3.4, columns=2)
    for ax, task in zip(axes, tasks):
        names = [r["cell"] for r in rows]
        means = np.array([r["tasks"][task]["mean"] for r in rows], np.float64)
        low, high = clip_interval(primary[task][0], *(np.array(
            [r["tasks"][task][k] for r in rows], np.float64) for k in ("ci_low", "ci_high")))
        err = np.vstack([np.nan_to_num(means - low), np.nan_to_num(high - means)])
        colors = [COLORS[1] if r["group"] == "single_task" else COLORS[2]
                  if r["group"] == "tuned_equal" else COLORS[0] for r in rows]
        ax.bar(range(len(rows)), means, yerr=err, capsize=3, color=colors)
        finite = np.concatenate([means, low, high])
        finite = finite[np.isfinite(finite)]
        if len(finite):
            span = max(finite.max() - finite.min(), 1e-3)
            ax.set_ylim(finite.min() - 0.3 * span, finite.max() + 0.3 * span)
        ax.set_xticks(range(len(rows)), names, rotation=60, ha="right", fontsize=7)
        metric, higher = primary[task]
        ax.set_title(f"{task}: {metric} ({'higher' if higher else 'lower'} is better)", fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    fig.suptitle("Test metric per cell, mean and 95% interval over seeds, clipped to the "
                 "metric's range (orange: single-task, green: tuned equal)", fontsize=9)
    fig.tight_layout()
    return fig


def delta_m_bars(rows):
    """Δm against the single-task models per cell, with its 95% interval."""
    rows = [r for r in rows if "delta_m" in r]
    if not rows:
        return None
    # 1.6 in of title and axis label: with one or two cells a thinner figure cut them off.
    fig, ax = plt.subplots(figsize=(7, 1.6 + 0.4 * len(rows)))
    means = np.array([r["delta_m"]["mean"] for r in rows], np.float64)
    low = np.array([r["delta_m"]["ci_low"] for r in rows], np.float64)
    high = np.array([r["delta_m"]["ci_high"] for r in rows], np.float64)
    err = np.vstack([np.nan_to_num(means - low), np.nan_to_num(high - means)])
    colors = [COLORS[2] if r["group"] == "tuned_equal" else COLORS[0] for r in rows]
    ax.barh(range(len(rows)), means, xerr=err, capsize=3, color=colors)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(range(len(rows)), [r["cell"] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("Δm % (> 0: multi-task better than single-task)")
    ax.set_title("Δm per cell, mean and 95% interval over seeds", fontsize=9)
    fig.tight_layout()
    return fig


def pareto(rows, tasks, primary):
    """Two-task studies: each cell's two metrics (means, 95% intervals), the front marked."""
    if len(tasks) != 2:
        return None
    a, b = tasks
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    points = []
    for k, r in enumerate(rows):
        ea, eb = r["tasks"][a], r["tasks"][b]
        xerr = [[max(ea["mean"] - ea["ci_low"], 0)], [max(ea["ci_high"] - ea["mean"], 0)]] \
            if math.isfinite(ea["ci_low"]) else None
        yerr = [[max(eb["mean"] - eb["ci_low"], 0)], [max(eb["ci_high"] - eb["mean"], 0)]] \
            if math.isfinite(eb["ci_low"]) else None
        marker = "s" if r["group"] == "single_task" else "D" if r["group"] == "tuned_equal" else "o"
        ax.errorbar([ea["mean"]], [eb["mean"]], xerr=xerr, yerr=yerr, fmt=marker, capsize=2,
                    color=COLORS[k % len(COLORS)], label=r["cell"])
        points.append((ea["mean"] * (1 if primary[a][1] else -1),
                       eb["mean"] * (1 if primary[b][1] else -1), ea["mean"], eb["mean"]))
    front = [p for p in points if not any(q[0] >= p[0] and q[1] >= p[1] and q[:2] != p[:2]
                                          for q in points)]
    front.sort()
    ax.plot([p[2] for p in front], [p[3] for p in front], color="grey", ls=":", lw=1,
            label="Pareto front")
    ax.set_xlabel(f"{a} {primary[a][0]}")
    ax.set_ylabel(f"{b} {primary[b][0]}")
    ax.set_title("Two tasks: each cell's test metrics (mean, 95% interval)", fontsize=9)
    ax.legend(fontsize=6, loc="best")
    fig.tight_layout()
    return fig


def numeric_axes(axes):
    """The grid axes whose every option sets one key to a number: {axis: {label: value}}.

    >>> numeric_axes([{"name": "p", "options": [{"label": "p0.5", "overrides": {"c": 0.5}},
    ...                                          {"label": "p1", "overrides": {"c": 1}}]},
    ...               {"name": "arch", "options": [{"label": "a", "overrides": {"m": "x"}}]}])
    {'p': {'p0.5': 0.5, 'p1': 1.0}}
    """
    out = {}
    for axis in axes:
        values = {}
        for option in axis["options"]:
            (value,) = option["overrides"].values() if len(option["overrides"]) == 1 else (None,)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                break
            values[option["label"]] = float(value)
        else:
            if len(values) > 1:
                out[axis["name"]] = values
    return out


def sweep(rows, axis, values, tasks, primary):
    """Each task's metric against a numeric grid axis (e.g. the task correlation), one line
    per setting of the other axes, with 95% intervals."""
    cells = [r for r in rows if r["group"] == "cell" and axis in r.get("labels", {})]
    if not cells:
        return None
    series = {}
    for r in cells:
        rest = " ".join(v for k, v in r["labels"].items() if k != axis) or "all"
        series.setdefault(rest, []).append((values[r["labels"][axis]], r))
    fig, axes = _grid(len(tasks), width=4.2, height=3.3, columns=2)
    for ax, task in zip(axes, tasks):
        for k, (name, points) in enumerate(sorted(series.items())):
            points.sort(key=lambda p: p[0])
            x = [p[0] for p in points]
            m = np.array([p[1]["tasks"][task]["mean"] for p in points], np.float64)
            lo, hi = clip_interval(primary[task][0], *(np.array(
                [p[1]["tasks"][task][k] for p in points], np.float64)
                for k in ("ci_low", "ci_high")))
            err = np.vstack([np.nan_to_num(m - lo), np.nan_to_num(hi - m)])
            ax.errorbar(np.array(x) + 0.004 * (k - len(series) / 2), m, yerr=err, marker="o",
                        ms=4, capsize=3, color=COLORS[k % len(COLORS)], label=name)
        metric, higher = primary[task]
        ax.set_xlabel(axis)
        ax.set_ylabel(f"test {metric}")
        ax.set_title(f"{task}: {metric} ({'higher' if higher else 'lower'} is better)", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def png(fig, path, dpi=110):
    """Saves `fig` as a PNG at `path` and closes it."""
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
