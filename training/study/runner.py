"""Running a study's runs: in this process one after another, or as `train.py`
subprocesses, a few at a time.

Each run dir gets its config (`study_config.yaml`), written once: a later invocation
whose config for that dir differs (the study file or its `--set` changed) stops
rather than mixing runs of two configs. Each finished run records its exit status,
wall time and peak memory in `study_run.json`; its output goes to `train.log`.

Example:
>>> from training.study.runner import run_all
>>> failed = run_all(plan.pending(), jobs=2, log=print)   # doctest: +SKIP
"""

import contextlib
import json
import os
import resource
import subprocess
import sys
import time

import yaml

from training.config import save_config
from training.study.spec import REPO, StudyError


def check_dir(run):
    """Writes the run's config, or checks it is the one a previous invocation wrote."""
    path = os.path.join(run.run_dir, "study_config.yaml")
    if os.path.exists(path):
        with open(path) as f:
            if yaml.safe_load(f) != run.config.to_dict():
                raise StudyError(
                    f"{run.run_dir}: holds a run of another config (the study file or its "
                    f"--set changed since); use a new --output, or remove {run.run_dir}")
        return path
    os.makedirs(run.run_dir, exist_ok=True)
    save_config(run.config, path)
    return path


def run_all(todo, jobs, log):
    """Trains the runs `todo`; `jobs` >= 1: that many subprocesses at a time, 0: in this
    process. Returns the runs that failed."""
    return run_in_process(todo, log) if jobs == 0 else run_subprocesses(todo, jobs, log)


def finish(run, status, wall, peak_mb, log, index, total):
    """Records a finished run (`study_run.json`) and logs one line."""
    record = {"status": status, "wall_time_s": wall, "peak_memory_mb": peak_mb}
    with open(os.path.join(run.run_dir, "study_run.json"), "w") as f:
        json.dump(record, f, indent=1)
    log(f"  [{index}/{total}] {run.group} {run.cell} seed {run.seed}: "
        f"{'done' if status == 0 else f'FAILED (exit {status}, see {run.run_dir}/train.log)'}"
        f" in {wall:.0f} s")


def run_in_process(todo, log):
    from training.experiment import Experiment
    from training.trainer import NonFiniteLossError

    failed = []
    for i, run in enumerate(todo, 1):
        start = time.perf_counter()
        status = 0
        with open(os.path.join(run.run_dir, "train.log"), "a") as out, \
                contextlib.redirect_stdout(out):
            try:
                Experiment(run.config).train(run.run_dir, resume=True)
            except NonFiniteLossError as e:
                print(f"error: {e}")
                status = 3
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        finish(run, status, time.perf_counter() - start, peak, log, i, len(todo))
        if status:
            failed.append(run)
    return failed


def _start(run, env):
    out = open(os.path.join(run.run_dir, "train.log"), "a")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(REPO, "train.py"), "--config",
         os.path.join(run.run_dir, "study_config.yaml"), "--output", run.run_dir,
         "--resume=auto"], stdout=out, stderr=subprocess.STDOUT, env=env)
    return proc, out


def run_subprocesses(todo, jobs, log):
    """`jobs` train.py processes at a time; each run's peak memory is its own."""
    queue, running, failed, index = list(todo), {}, [], 0
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    while queue or running:
        while queue and len(running) < jobs:
            run = queue.pop(0)
            proc, out = _start(run, env)
            running[proc.pid] = (run, proc, out, time.perf_counter())
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        run, proc, out, start = running.pop(pid)
        out.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        index += 1
        finish(run, proc.returncode, time.perf_counter() - start, usage.ru_maxrss / 1024.0, log,
               index, len(todo))
        if proc.returncode:
            failed.append(run)
    return failed
