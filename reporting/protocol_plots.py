"""The figures of a protocol study's report (`reporting/protocol_report.py`): the MMoE
paper's loss curves over steps (its Figures 3-4) and final-loss histograms (Figure 5),
drawn from `study.json`'s per-sine-setting entries.

Example:
>>> from reporting.protocol_plots import loss_curves
>>> curve = {"steps": [0, 10], "train_steps": [10],
...          "train": {"mean": [1.0], "low": [0.9], "high": [1.1]},
...          "validation": {"mean": [2.0, 1.0], "low": [1.8, 0.9], "high": [2.2, 1.1]}}
>>> fig = loss_curves({"mmoe": {"0.5": curve}, "omoe": {"0.5": curve}}, "validation")
>>> len([ax for ax in fig.axes if ax.get_visible()])
1
"""

import matplotlib.ticker
import numpy as np

from reporting.plots import COLORS, _grid, plt

MODEL_STYLES = ("-", "--", ":", "-.")


def _curve(ax, curve, split, i, label, style="-"):
    """One mean curve with its 95% band, in colour i."""
    steps = curve["train_steps"] if split == "train" else curve["steps"]
    band = curve[split]
    ax.plot(steps, band["mean"], style, color=COLORS[i % len(COLORS)], label=label)
    ax.fill_between(steps, band["low"], band["high"], color=COLORS[i % len(COLORS)], alpha=0.2)


def _label(ax, title, x, y, log=False):
    if log:  # the first record dwarfs the rest: the ends are read on a log scale
        ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(x, fontsize=8)
    ax.set_ylabel(y, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)


def loss_curves(curves, split, floor=None):
    """One panel per correlation: each model's mean loss over steps with its 95% band
    (`split`: "train" or "validation"); the linear-fit floor as a grey line."""
    models = list(curves)
    correlations = list(curves[models[0]])
    fig, axes = _grid(len(correlations), width=4.2, height=3.2, columns=3)
    for ax, p in zip(axes, correlations):
        for i, model in enumerate(models):
            _curve(ax, curves[model][p], split, i, model, MODEL_STYLES[i % 4])
        if floor:
            ax.axhline(floor[p]["mean"], color="grey", lw=0.8, label="linear fit (test)")
        _label(ax, f"correlation {p}", "step", f"{split} loss (MSE, mean of the tasks)",
               log=True)
    fig.tight_layout()
    return fig


def correlation_curves(curves, split):
    """One panel per model: its mean loss over steps at each correlation (the paper's
    Figure 4 view: how far apart the correlations end)."""
    models = list(curves)
    fig, axes = _grid(len(models), width=4.2, height=3.2, columns=3)
    for ax, model in zip(axes, models):
        for i, (p, c) in enumerate(curves[model].items()):
            _curve(ax, c, split, i, f"p = {p}")
        _label(ax, model, "step", f"{split} loss", log=True)
    fig.tight_layout()
    return fig


def final_histograms(final):
    """One panel per model: its runs' final test losses, one histogram per correlation,
    on shared log-spaced bins (the paper's Figure 5)."""
    models = list(final)
    values = np.concatenate([np.asarray(e["runs"], np.float64) for m in models
                             for e in final[m].values()])
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    # Log-spaced bins: a few failed runs sit ~20x above the bulk (the shared bottom's).
    low, high = max(values.min(), 1e-12), max(values.max(), 1e-12) * (1 + 1e-9)
    bins = np.geomspace(low, high if high > low else low * 1.01, 31)
    fig, axes = _grid(len(models), width=4.2, height=3.0, columns=3)
    for ax, model in zip(axes, models):
        for i, (p, e) in enumerate(final[model].items()):
            runs = np.asarray(e["runs"], np.float64)
            ax.hist(runs[np.isfinite(runs)], bins=bins, alpha=0.5, color=COLORS[i],
                    label=f"p = {p}")
        ax.set_xscale("log")
        if bins[-1] > 10 * bins[0]:  # over a decade: minor labels would overlap
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        _label(ax, f"{model}: final test loss", "final loss (test MSE, mean of the tasks)",
               "runs")
    fig.tight_layout()
    return fig
