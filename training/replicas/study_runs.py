"""A study's runs in one graph per cell (`one_graph: true` in a study file).

The pending runs of each cell (of each single-task baseline, of each tuned setting)
differ only in their seeds: each such set trains as one `ReplicaGroup`, in this
process. A set that cannot (`training/replicas/support.py`) is left to the study's
usual runner, one run per process, with one line saying why; nothing about its results
changes. Each replica's `study_run.json` records the group's wall time divided among
its replicas and the group's size (`replicas`).

Example:
>>> from training.replicas.study_runs import run_in_one_graph
>>> left = run_in_one_graph(plan.pending(), plan.output, ["train.seed"], print)  # doctest: +SKIP
"""

import contextlib
import json
import os
import resource
import time

from training.study.runner import finish


def groups_of(runs):
    """{(group, cell, data group, tuned setting): [runs]} in the study's order: the runs
    that differ only in their seeds."""
    out = {}
    for run in runs:
        out.setdefault((run.group, run.cell, run.data_group, run.setting), []).append(run)
    return out


def run_in_one_graph(todo, output, seed_keys, log):
    """Trains each cell's pending runs as one group; returns (runs left for the usual
    runner, runs that failed)."""
    from training.experiment import Experiment
    from training.replicas.group import ReplicaGroup, Unsupported

    left, failed = [], []
    for (group, cell, data_group, setting), runs in groups_of(todo).items():
        name = f"{group} {cell}" + (f" ({data_group})" if data_group != "base" else "") \
            + (f" setting {setting}" if setting else "")
        if len(runs) < 2:
            left += runs
            continue
        checkpoint = os.path.join(output, "replica_groups", group, cell, data_group, setting)
        try:
            replicas = ReplicaGroup([Experiment(r.config) for r in runs],
                                    [r.run_dir for r in runs], checkpoint, seed_keys,
                                    verbose=0).build()
        except Unsupported as e:
            log(f"one_graph: {name}: one run per process instead: {e}")
            left += runs
            continue
        failed += _train(replicas, runs, log)
    return left, failed


def _train(replicas, runs, log):
    """Trains one group, records each replica's run; returns the failed ones."""
    start = time.perf_counter()
    with open(os.path.join(runs[0].run_dir, "train.log"), "a") as out, \
            contextlib.redirect_stdout(out):
        results = replicas.train(resume=True)
    share = (time.perf_counter() - start) / len(runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    failed = []
    for i, (run, result) in enumerate(zip(runs, results), 1):
        status = 0 if result is not None else 3
        finish(run, status, share, peak, log, i, len(runs))
        _note_group_size(run, len(runs))
        if status:
            message = replicas.trainer.failed[i - 1]
            with open(os.path.join(run.run_dir, "train.log"), "a") as f:
                f.write(f"error: {message}\n")
            failed.append(run)
    log(f"one_graph: {runs[0].title}: {len(runs)} seeds in one graph, "
        f"{share * len(runs):.0f} s")
    return failed


def _note_group_size(run, size):
    path = os.path.join(run.run_dir, "study_run.json")
    with open(path) as f:
        record = json.load(f)
    record["replicas"] = size
    with open(path, "w") as f:
        json.dump(record, f, indent=1)
