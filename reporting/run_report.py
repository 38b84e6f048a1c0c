"""The report of one training run: what was trained, what it reached, and why.

Reads the run dir that `train.py` writes (`config.yaml`, `history.json`,
`metrics.json`, and `delta_m_test.json` / `gates_test.json` when `evaluate.py` wrote
them) and writes `<run>/report/`: `index.html` (self-contained), the PNGs and
`summary.md`. Figures: per-task learning curves, task weights over epochs, the
gradient-cosine and conflict matrices and the cosine at every sampled step, gradient
norm ratios, the task-affinity matrix, gate weights and gate entropy, and a
`learning_to_branch` run's learned tree (`training/diagnostics.py` says how each is
measured).

Example:
>>> from reporting.run_report import write_run_report
>>> path = write_run_report("runs/tiny")     # doctest: +SKIP
"""

import json
import os

import numpy as np
import yaml

from reporting import plots
from reporting.grouping_plots import branching_tree
from reporting.page import Page


def _read(path, default=None):
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return json.load(f) if path.endswith(".json") else yaml.safe_load(f)


def _value(v):
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def primary_of(metrics):
    """{task: (metric, higher_is_better)} as `metrics.json` records it."""
    return {task: (m.get("primary_metric", "loss"), bool(m.get("higher_is_better", False)))
            for task, m in metrics.items()}


def diagnostics_figures(page, history, prefix=""):
    """The gradient, affinity and gate figures of a history (shared by the study report)."""
    epochs = [h for h in history if h.get("diagnostics")]
    if not epochs:
        page.note("No diagnostics in this run (train.diagnostics_per_epoch, "
                  "train.affinity_per_epoch and train.gate_diagnostics were off).")
        return
    last = epochs[-1]["diagnostics"]
    names = last["tasks"]
    if last.get("note"):
        page.note(f"Diagnostics: {last['note']}.")
    _gradient_figures(page, history, epochs, names, prefix)
    _affinity_figure(page, epochs, names, prefix)
    if last.get("gates"):
        _gate_figures(page, history, last["gates"], prefix)
    if last.get("tree"):
        page.figure(branching_tree(last["tree"], "Learned tree (last epoch)"), f"{prefix}tree",
                    "Learning to Branch: each node (a copy of an encoder stage) and task reads "
                    "its most probable parent (edge labels: that probability, while searching); "
                    "grey nodes feed no task. Export it as an ordinary network: python "
                    "export.py --run <this run> (through fixed_tree_model).")


def _gradient_figures(page, history, epochs, names, prefix):
    """Mean gradient cosine, conflict fraction, the cosine per step and the norm ratios."""
    with_grads = [h["diagnostics"] for h in epochs if "gradient_cosine" in h["diagnostics"]]
    if not with_grads:
        return
    cos = np.mean([d["gradient_cosine"] for d in with_grads], axis=0)
    conflict = np.mean([d["conflict_fraction"] for d in with_grads], axis=0)
    space = with_grads[-1].get("gradient_space", "representation")
    page.figure(plots.matrix(cos, names, "Mean gradient cosine"),
                f"{prefix}gradient_cosine",
                f"Cosine similarity of the task gradients on the shared {space}, averaged "
                "over every sampled step. Negative: the tasks pull the shared part apart.")
    page.figure(plots.matrix(conflict, names, "Fraction of sampled steps in conflict",
                             cmap="Reds", vmin=0.0, vmax=1.0),
                f"{prefix}conflict_fraction",
                "How often each pair's gradient cosine was negative.")
    page.figure(plots.cosine_series(history), f"{prefix}cosine_series",
                "Gradient cosine of each task pair at every sampled step.")
    ratios = {t: [d["gradient_norm_ratio"][t] for d in with_grads] for t in names}
    page.table(["task"] + [f"epoch {h['epoch']}" for h in epochs
                           if "gradient_cosine" in h["diagnostics"]],
               [[t] + [f"{r:.2f}" for r in ratios[t]] for t in names])
    page.text("Gradient norm of each task over the mean norm (1: balanced); a task far "
              "above the others dominates the shared update under equal weighting.")


def _affinity_figure(page, epochs, names, prefix):
    """The task affinity averaged over the epochs that measured it."""
    with_aff = [h["diagnostics"]["affinity"] for h in epochs if "affinity" in h["diagnostics"]]
    if not with_aff:
        return
    z = np.mean(with_aff, axis=0)
    scale = plots.symmetric_scale(z)
    page.figure(plots.matrix(z, names, "Task affinity Z[i → j] (Fifty et al., 2021)",
                             vmin=-scale, vmax=scale, fmt="{:.1e}", row_label="step on task i",
                             col_label="loss of task j"),
                f"{prefix}affinity",
                "Relative decrease of task j's loss after a lookahead step of the shared "
                "parameters on task i's gradient alone: positive, i helps j; negative, i hurts j.")


def _gate_figures(page, history, gates, prefix):
    """The last epoch's gate weights (one matrix, or one per task when their experts differ)
    and the gate entropy by epoch."""
    experts = gates[next(iter(gates))]["experts"] or [
        f"expert_{i}" for i in range(len(gates[next(iter(gates))]["weights"]))]
    same = all(len(g["weights"]) == len(experts) for g in gates.values())
    if same:
        page.figure(plots.matrix([gates[t]["weights"] for t in gates], list(gates),
                                 "Mean gate weight per expert (last epoch)", cmap="Blues",
                                 vmin=0.0, vmax=1.0, col_labels=experts),
                    f"{prefix}gates",
                    "Each task's mean gate weight on each expert over validation batches.")
    else:
        for task, g in gates.items():
            page.figure(plots.matrix([g["weights"]], [task], f"{task}: mean gate weight",
                                     cmap="Blues", vmin=0.0, vmax=1.0,
                                     col_labels=g["experts"]),
                        f"{prefix}gates_{task}", f"{task}'s gate over its experts.")
    page.figure(plots.gate_entropy(history), f"{prefix}gate_entropy",
                "Mean per-example gate entropy by epoch; the dashed line is a gate that "
                "spreads evenly over the experts.")


def _data_line(dc):
    """The dataset, or the sources of a mixture, as the config gives them."""
    if not dc.get("sources"):
        return f"{dc.get('name')} {dc.get('options') or ''}".strip()
    return "; ".join(f"{s.get('name') or s['dataset']}: {s['dataset']} {s.get('split', 'train')}"
                     f" -> {s.get('tasks') or 'all tasks'}" for s in dc["sources"])


def _sampling_line(dc):
    sampling = {"strategy": "proportional", "batches": "mixed", **(dc.get("sampling") or {})}
    return ", ".join(f"{k} {v}" for k, v in sampling.items() if v is not None)


def write_run_report(run_dir, output=None):
    """Writes the run's report; returns the path of its `index.html`."""
    history = _read(os.path.join(run_dir, "history.json"), [])
    if not history:
        raise FileNotFoundError(f"{run_dir}: no history.json (train first: python train.py "
                                f"--output {run_dir})")
    config = _read(os.path.join(run_dir, "config.yaml"), {})
    metrics = _read(os.path.join(run_dir, "metrics.json"), {})
    primary = primary_of(metrics) if metrics else {t: ("loss", False) for t in history[0]["train"]}
    page = Page(f"Run report: {os.path.abspath(run_dir)}")
    mc, tc, dc = config.get("model", {}), config.get("train", {}), config.get("data", {})
    page.heading("Setup")
    page.table(["key", "value"], [
        ["data", _data_line(dc)],
        ["tasks", ", ".join(history[0]["train"])],
        ["architecture", f"{mc.get('architecture')} {mc.get('args') or ''}".strip()],
        ["encoder", f"{mc.get('encoder')} {mc.get('encoder_args') or ''}".strip()],
        ["weighting", f"{tc.get('weighting')} {tc.get('weighting_args') or ''}".strip()],
        ["epochs trained", str(len(history))], ["seed", str(tc.get("seed"))],
        ["mean step time", _value(np.mean([h["step_time_ms"] for h in history
                                           if h.get("step_time_ms")] or [np.nan])) + " ms"]])
    if metrics:
        page.heading("Test metrics (best checkpoint)")
        names = sorted({k for m in metrics.values() for k, v in m.items() if isinstance(v, float)})
        sources = any(m.get("sources") for m in metrics.values())
        page.table(["task", "primary"] + names + ["labelled"] + (["sources"] if sources else []),
                   [[t, f"{primary[t][0]} ({'higher' if primary[t][1] else 'lower'} is better)"]
                    + [_value(m.get(n)) if n in m else "" for n in names] + [str(m.get("labelled", ""))]
                    + ([", ".join(m.get("sources", []))] if sources else [])
                    for t, m in metrics.items()])
    delta = _read(os.path.join(run_dir, "delta_m_test.json"))
    if delta:
        page.heading("Multi-task against single-task (test)")
        page.table(["task", "metric", "multi-task", "single-task", "relative %"],
                   [[t, r["metric"], _value(r["multi_task"]), _value(r["single_task"]),
                     f"{r['relative_improvement']:+.2f}"] for t, r in delta["tasks"].items()])
        page.text(f"Δm = {delta['delta_m']:+.2f}% (one seed: see a study for intervals).")
    page.heading("Learning curves")
    page.figure(plots.learning_curves(history, primary), "learning_curves",
                "Per task: loss and primary metric by epoch, train (solid) and validation (dashed).")
    page.figure(plots.task_weights(history), "task_weights",
                "The weight each task's loss got (mean over each epoch's steps).")
    if any(h.get("sampling") for h in history):
        page.heading("Sampling")
        page.figure(plots.sampling(history), "sampling",
                    f"The share of each epoch's examples drawn from each source "
                    f"({_sampling_line(dc)}).")
    page.heading("Why: gradients, affinity, gates")
    diagnostics_figures(page, history)
    return page.write(output or os.path.join(run_dir, "report"))
