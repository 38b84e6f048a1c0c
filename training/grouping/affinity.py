"""The task affinity a run recorded, read back from its `history.json` for grouping.

`training/diagnostics.py` records, on `train.affinity_per_epoch` sampled steps of each
epoch, the matrix `Z[i, j]` (a lookahead step on task i, the relative change of task
j's loss) under `history[epoch]["diagnostics"]`: `tasks` (the row and column order,
auxiliary tasks included), `affinity` (the epoch's mean) and `affinity_samples` (every
sample). TAG averages the affinity over training; so does `read_affinity`, over every
sample of every epoch.

Example:
>>> from training.grouping.affinity import affinity_from_history
>>> history = [{"epoch": 1, "diagnostics": {"tasks": ["a", "b"],
...             "affinity": [[0.1, 0.02], [0.04, 0.2]]}}]
>>> names, z = affinity_from_history(history)
>>> names, float(z[0, 1])
(['a', 'b'], 0.02)
"""

import json
import os

import numpy as np

HOW_TO_RECORD = ("train all the tasks together with `train.affinity_per_epoch: 1` (or more "
                 "sampled steps per epoch; `--set train.affinity_per_epoch=1`) on an "
                 "architecture that shares parameters, e.g. shared_bottom")


def affinity_from_history(history, source="the run"):
    """(task names, mean affinity matrix) over every recorded sample of `history` (a list
    of per-epoch logs); a history without affinity raises, saying how to record it."""
    samples, names, note = [], None, None
    for logs in history:
        diagnostics = logs.get("diagnostics") or {}
        note = diagnostics.get("note", note)
        if "affinity" not in diagnostics:
            continue
        if names is not None and diagnostics["tasks"] != names:
            raise ValueError(f"{source}: the affinity's tasks change between epochs "
                             f"({names} then {diagnostics['tasks']})")
        names = list(diagnostics["tasks"])
        epoch = [s["affinity"] for s in diagnostics.get("affinity_samples", [])]
        samples.extend(epoch or [diagnostics["affinity"]])
    if not samples:
        why = f" (diagnostics: {note})" if note else ""
        raise ValueError(f"train.affinity_per_epoch: {source} recorded no task affinity{why}; "
                         f"{HOW_TO_RECORD}")
    return names, np.mean(np.asarray(samples, np.float64), axis=0)


def read_affinity(run_dir):
    """(task names, mean affinity matrix) of the run in `run_dir` (its `history.json`)."""
    path = os.path.join(run_dir, "history.json")
    if not os.path.exists(path):
        raise ValueError(f"grouping.affinity_run: {run_dir} has no history.json (not a run "
                         f"dir, or a run that has not finished an epoch); {HOW_TO_RECORD}")
    with open(path) as f:
        return affinity_from_history(json.load(f), source=run_dir)


def restrict(names, z, tasks=None, key="grouping.tasks"):
    """(tasks, the affinity among them): the matrix restricted to `tasks` in that order
    (all when None); a task the run did not record names `key` and the recorded ones."""
    if tasks is None:
        return list(names), np.asarray(z, np.float64)
    tasks = list(tasks)
    unknown = [t for t in tasks if t not in names]
    if unknown:
        raise ValueError(f"{key}: unknown task(s) {unknown}; the run's affinity covers: "
                         f"{', '.join(names)}")
    if len(set(tasks)) != len(tasks):
        raise ValueError(f"{key}: a task is listed twice: {tasks}")
    index = [names.index(t) for t in tasks]
    return tasks, np.asarray(z, np.float64)[np.ix_(index, index)]
