"""Running a study's runs: workers that take trials from the storage (`trials.TrialQueue`) and
train their runs, in this process or as `train.py` subprocesses.

`work(queue, jobs)` starts `jobs` worker threads (0: one, training in this process); each
takes the next trial, trains its runs, tells the result, and goes on until no trial of
the study is waiting; it then waits while runs are still running on other workers (to
take over one whose worker dies) and returns when none is left.

Each run dir gets its config (`study_config.yaml`), written once: a later invocation
whose config for that dir differs (the study file or its `--set` changed) stops rather
than mixing runs of two configs. Each finished run records its exit status, wall time,
peak memory, worker and trial in `study_run.json`; its output goes to `train.log`; every
start of a run appends a line to `study_attempts.jsonl` (who started it, and when).
A `train.py` subprocess dies with its worker (Linux's parent-death signal), so a killed
worker leaves no orphan training in a run dir another worker takes over.

Example:
>>> from training.study.runner import work
>>> failed = work(queue, jobs=2, log=print)   # doctest: +SKIP
"""

import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading
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
    # Written aside and moved in: workers starting together never read a half-written file.
    save_config(run.config, f"{path}.{os.getpid()}.{threading.get_ident()}.tmp")
    os.replace(f"{path}.{os.getpid()}.{threading.get_ident()}.tmp", path)
    return path


class Progress:
    """The `[i/total]` count shared by the worker threads, and the log."""

    def __init__(self, total, log):
        self.total, self.index, self.log = total, 0, log
        self.failed, self.lock = [], threading.Lock()
        self.storage_s, self.run_s = 0.0, 0.0   # time in storage calls, in trained runs

    def timed(self, call, *args):
        """`call(*args)`, its time counted as the storage's."""
        start = time.perf_counter()
        try:
            return call(*args)
        finally:
            with self.lock:
                self.storage_s += time.perf_counter() - start

    def done(self, run, status, wall, claim):
        with self.lock:
            self.index += 1
            self.run_s += wall
            self.log(f"  [{self.index}/{max(self.total, self.index)}] {run.title} "
                     f"seed {run.seed}: "
                     f"{'done' if status == 0 else f'FAILED (exit {status}, see {run.run_dir}/train.log)'}"
                     f" in {wall:.0f} s (trial {claim.number})")
            if status:
                self.failed.append(run)


def record(run, name, content):
    with open(os.path.join(run.run_dir, name), "a" if name.endswith(".jsonl") else "w") as f:
        f.write(json.dumps(content) + "\n")


def finish(run, status, wall, peak_mb, log, index, total):
    """Records a run trained outside the queue (`study_run.json`; seeds in one graph) and
    logs one line."""
    record(run, "study_run.json", {"status": status, "wall_time_s": wall,
                                   "peak_memory_mb": peak_mb})
    log(f"  [{index}/{total}] {run.title} seed {run.seed}: "
        f"{'done' if status == 0 else f'FAILED (exit {status}, see {run.run_dir}/train.log)'}"
        f" in {wall:.0f} s")


def _die_with_parent():
    """In the child before exec: SIGKILL when the worker that started it dies."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def train_command(run):
    """The `train.py` command line of a run."""
    return [sys.executable, os.path.join(REPO, "train.py"), "--config",
            os.path.join(run.run_dir, "study_config.yaml"), "--output", run.run_dir,
            "--resume=auto"]


def run_subprocess(run, beat, interval):
    """`train.py` on the run, `beat()` every `interval` s; (status, wall, peak MB), or None
    when `beat()` said the run is no longer ours (the child is killed). The child inherits
    this process's environment: its threads per run too (`training.study.threads`)."""
    start = time.perf_counter()
    with open(os.path.join(run.run_dir, "train.log"), "a") as out:
        proc = subprocess.Popen(
            train_command(run), stdout=out, stderr=subprocess.STDOUT,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        next_beat = time.monotonic() + interval
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                return proc.returncode, time.perf_counter() - start, usage.ru_maxrss / 1024.0
            if time.monotonic() >= next_beat:
                if not beat():
                    proc.kill()
                    proc.wait()
                    return None
                next_beat = time.monotonic() + interval
            time.sleep(0.2)


def run_in_process(run, beat, interval):
    """The run trained in this process, `beat()` from a thread meanwhile."""
    from training.experiment import Experiment
    from training.trainer import NonFiniteLossError

    stop, lost = threading.Event(), []

    def beating():
        while not stop.wait(interval):
            if not beat():
                lost.append(True)
                return

    thread = threading.Thread(target=beating, daemon=True)
    thread.start()
    start, status = time.perf_counter(), 0
    with open(os.path.join(run.run_dir, "train.log"), "a") as out, \
            contextlib.redirect_stdout(out):
        try:
            Experiment(run.config).train(run.run_dir, resume=True)
        except NonFiniteLossError as e:
            print(f"error: {e}")
            status = 3
        finally:
            stop.set()
            thread.join()
    if lost:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return status, time.perf_counter() - start, peak


def execute(queue, claim, in_process, progress, score):
    """Trains the claim's runs not done yet and tells the storage; False if it was lost."""
    interval = queue.storage.get_heartbeat_interval() or 30
    train = run_in_process if in_process else run_subprocess
    status, started = 0, time.time()
    for run in claim.runs:
        if run.done:
            continue
        check_dir(run)
        record(run, "study_attempts.jsonl", {"worker": queue.worker, "trial": claim.number,
                                              "start": time.time()})
        result = train(run, lambda: progress.timed(queue.heartbeat, claim), interval)
        if result is None:
            progress.log(f"  trial {claim.number} ({claim.unit}) was taken over by another "
                         f"worker (no heartbeat for the grace period); stopped it here")
            return False
        status, wall, peak = result
        record(run, "study_run.json", {"status": status, "wall_time_s": wall,
                                       "peak_memory_mb": peak, "worker": queue.worker,
                                       "trial": claim.number})
        progress.done(run, status, wall, claim)
        if status:
            break
    result = {"status": status, "wall_time_s": round(time.time() - started, 3),
              "runs": [os.path.relpath(r.run_dir, queue.plan.output) for r in claim.runs]}
    if claim.overrides is not None:
        result["overrides"] = json.loads(json.dumps(claim.overrides, default=str))
    return progress.timed(queue.finish, claim, status == 0,
                          score(claim.runs) if status == 0 else None, {"result": result})


def work(queue, jobs, log, score, poll=2.0):
    """`jobs` worker threads (0: one, in-process) until the study has no waiting or running
    trial; returns the runs that failed here."""
    progress = Progress(sum(not r.done for runs in queue.units.values() for r in runs)
                        + sum(r.waiting for r in queue.plan.runs), log)  # (after a pilot)
    errors = []

    def loop():
        waiting_said = False
        try:
            while True:
                claim = progress.timed(queue.claim)
                if claim is not None:
                    execute(queue, claim, jobs == 0, progress, score)
                    continue
                active = progress.timed(queue.active)
                if not active and queue.grow() and progress.timed(queue.enqueue_missing, True):
                    continue  # a stage's units whose worker died before queuing them
                if not active:
                    return
                if not waiting_said:
                    log(f"  waiting: {active} run(s) still running on other workers")
                    waiting_said = True
                time.sleep(poll)
        except BaseException as e:  # shown by the caller, after the other threads ended
            errors.append(e)

    if jobs <= 1:  # in the calling thread (TensorFlow in this process, signals as usual)
        loop()
    else:
        threads = [threading.Thread(target=loop, daemon=True) for _ in range(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    if progress.index:
        log(f"  storage calls: {progress.storage_s:.2f} s for {progress.index} run(s) trained "
            f"here in {progress.run_s:.0f} s ({100 * progress.storage_s / progress.run_s:.2f}% "
            f"of their wall time)")
    return progress.failed
