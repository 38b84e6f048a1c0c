"""Single-task baselines and Δm, the mean relative improvement of a multi-task model.

Δm (Maninis, Radosavovic & Kokkinos, CVPR 2019) compares a multi-task model with
one single-task model per task:

    Δm = 100% * (1/T) * sum_t s_t (M_mtl,t - M_stl,t) / M_stl,t

with `s_t = +1` when a higher metric is better and `-1` when lower is better.
One metric per task: `train.primary_metrics` (e.g. `{income: accuracy}`), else the
task's kind's (`task.primary_metric`):

    binary -> auc (exact, higher is better)  multiclass -> accuracy (higher)
    multilabel -> f1 (micro, higher)         regression -> rmse (lower is better)

A positive Δm means the multi-task model beats its single-task baselines on
average. The baselines are the `single_task` architecture of the same config
(same encoder and tower widths, `models.baseline_config.single_task_config`),
one model per task, trained with the same data, optimizer, epochs and seed.

Example:
>>> from tasks import Task
>>> from training.baselines import delta_m
>>> tasks = [Task("a", "binary"), Task("b", "regression")]
>>> report = delta_m({"a": {"auc": 0.9}, "b": {"rmse": 1.0}},
...                  {"a": {"auc": 0.8}, "b": {"rmse": 1.25}}, tasks)
>>> round(report["delta_m"], 2)  # (+12.5% + 20%) / 2
16.25
"""

import dataclasses
import os

BASELINES_DIR = "baselines"


def delta_m(multi_task, single_task, tasks, primary=None):
    """Δm report: {"tasks": {task: {metric, higher_is_better, multi_task, single_task,
    relative_improvement}}, "delta_m": percent}. Tasks missing a baseline are skipped.
    `primary`: {task: (metric, higher_is_better)}, default each task's kind's."""
    rows, improvements = {}, []
    for task in tasks:
        if task.auxiliary:  # trained only to help the others: not a result
            continue
        metric, higher = (primary or {}).get(task.name, task.primary_metric)
        if task.name not in single_task or task.name not in multi_task:
            continue
        mtl, stl = multi_task[task.name][metric], single_task[task.name][metric]
        sign = 1.0 if higher else -1.0
        rel = 100.0 * sign * (mtl - stl) / stl if stl else float("nan")
        rows[task.name] = {"metric": metric, "higher_is_better": higher, "multi_task": mtl,
                           "single_task": stl, "relative_improvement": rel}
        improvements.append(rel)
    return {"tasks": rows,
            "delta_m": sum(improvements) / len(improvements) if improvements else None}


def format_delta_m(report, title=None):
    lines = [title] if title else []
    lines.append(f"  {'task':<16}{'metric':<10}{'multi-task':>12}{'single-task':>13}{'rel. %':>9}")
    for task, r in report["tasks"].items():
        arrow = "" if r["higher_is_better"] else " (lower is better)"
        lines.append(f"  {task:<16}{r['metric']:<10}{r['multi_task']:>12.4f}{r['single_task']:>13.4f}"
                     f"{r['relative_improvement']:>+9.2f}{arrow}")
    if report["delta_m"] is not None:
        lines.append(f"  Δm = {report['delta_m']:+.2f}% (mean relative improvement over single-task "
                     "models; > 0: multi-task is better)")
    return "\n".join(lines)


def baseline_config(config, task_name):
    """The `Config` of the single-task baseline of `task_name`: one task, `single_task`
    architecture, equal weighting; everything else as in `config`."""
    from models.baseline_config import single_task_config

    train = config.train
    monitor = train.monitor
    if monitor not in ("val_loss", "loss") and not monitor.startswith(
            (f"val_{task_name}_", f"train_{task_name}_")):
        monitor = "val_loss"  # the multi-task monitor names another task
    return config.replace(
        data={"tasks": [task_name], "auxiliary_tasks": []},
        model=single_task_config(dataclasses.asdict(config.model), task_name),
        train={"weighting": "equal", "weighting_args": {}, "task_weights": {}, "monitor": monitor,
               "loss_options": {k: v for k, v in train.loss_options.items() if k == task_name}})


def baseline_dir(run_dir, task_name):
    return os.path.join(run_dir, BASELINES_DIR, task_name)


def train_baselines(experiment, run_dir, resume=False, verbose=1):
    """Trains one single-task model per main task of `experiment` (an `Experiment`) into
    `<run_dir>/baselines/<task>/`, with its strategy; returns {task: test metrics}."""
    from training.experiment import Experiment

    results = {}
    for task in experiment.tasks:
        if task.auxiliary:
            continue
        cfg = baseline_config(experiment.config, task.name)
        if verbose:
            print(f"--- single-task baseline: {task.name} ({cfg.model.architecture})")
        exp = Experiment(cfg, strategy=experiment.strategy, is_chief=experiment.is_chief)
        results[task.name] = exp.train(baseline_dir(run_dir, task.name), resume=resume,
                                       verbose=verbose)[task.name]
    return results
