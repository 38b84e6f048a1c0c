"""`Study`: a study file planned, run and summarised (see the package docstring).

Example:
>>> from training.study.study import Study
>>> study = Study("configs/studies/tiny.yaml", "studies/tiny")   # doctest: +SKIP
>>> [run.run_dir for run in study.pending()][:1]                 # doctest: +SKIP
['studies/tiny/single_task/left/seed0']
"""

import json
import math
import os
import time

from training.study.leaderboard import collect, main_tasks, validation_score
from training.study.plan import Plan
from training.study.runner import check_dir, work
from training.study.spec import StudySpec
from training.study.storage import default_url, open_storage, redact
from training.study.text import format_leaderboard
from training.study.trials import TrialQueue, worker_id


class Study:
    """A planned study: its runs and, once they ran, its statistics.

    Args:
        path: str. The study's YAML file.
        output: str. The study dir (`studies/<name>`).
        sets: list of str. `--set key=value` overrides applied to the base of every run.
    """

    def __init__(self, path, output, sets=()):
        self.spec = StudySpec.read(path)
        self.output = output
        self.plan = Plan.make(self.spec, output, sets)
        self.runs = self.plan.runs
        self.content = None

    def pending(self):
        return self.plan.pending()

    def run(self, jobs=1, log=print, storage=None, heartbeat=30, grace=None):
        """Trains every run that is not done, as one worker of the study's storage (the
        embedded `<output>/optuna.db` unless `storage` names a shared one); returns the
        runs that failed here.

        `jobs` >= 1: that many `train.py` subprocesses at a time (each run's peak memory is
        its own); 0: in this process, one after another (no start-up cost per run, for tiny
        studies and tests; peak memory is then the process's). `heartbeat`: seconds
        between a running trial's heartbeats; `grace`: seconds of silence after which its
        run is taken over (default 4 heartbeats).
        """
        url = storage or default_url(self.output)
        queue = self.queue(url, heartbeat, grace)
        plan, spec = self.plan, self.spec
        todo = self.pending()
        for run in self.runs:  # finished runs too: a changed study must not reuse them
            if run.config is not None:
                check_dir(run)
        start = time.perf_counter()
        queued = queue.prepare()
        prepared = time.perf_counter() - start
        log(f"study {spec.name}: {len(self.runs)} runs ({len(plan.cells)} cells, "
            f"{len(spec.seeds)} seeds"
            + (f", {len(plan.tuned)} tuned-equal settings" if plan.tuned else "")
            + (f" drawn by {plan.search.sampler_name.upper()}" if plan.search else "")
            + (", single-task baselines" if spec.single_task else "")
            + f"); {len(self.runs) - len(todo)} done, {len(todo)} to run; storage "
            f"{redact(url)} ({queued} queued now, {prepared:.2f} s)")
        failed = work(queue, jobs, log, self.score)
        self.plan.refresh()
        self.write()
        return failed

    def queue(self, url, heartbeat=30, grace=None):
        """The study's `TrialQueue` in the storage at `url` (opened, not prepared)."""
        storage = open_storage(url, heartbeat=heartbeat, grace=grace)
        return TrialQueue(storage, self.plan, worker_id(), url)

    def score(self, runs):
        """A unit's value for the storage: the mean validation score of its runs (the
        sign-adjusted mean primary metric over the tasks each run trains); 0 without one."""
        if not hasattr(self, "_primary"):
            self._primary = main_tasks(self.plan)[:2]  # (tasks, primary metrics)
        tasks, primary = self._primary
        values = []
        for run in runs:
            path = os.path.join(run.run_dir, "evaluation_validation.json")
            if os.path.exists(path):
                with open(path) as f:
                    validation = json.load(f)
                trained = [t for t in tasks if t.name in validation]
                if trained:
                    values.append(validation_score(validation, trained, primary))
        finite = [v for v in values if math.isfinite(v)]
        return sum(finite) / len(finite) if finite else 0.0

    def collect(self):
        """The study.json content: every run, the tuned selection and the leaderboard."""
        return collect(self.plan)

    def write(self):
        """Writes `<output>/study.json`; returns its content."""
        content = self.collect()
        os.makedirs(self.output, exist_ok=True)
        path = os.path.join(self.output, "study.json")
        with open(path + ".tmp", "w") as f:
            json.dump(content, f, indent=1, default=_json_default)
        os.replace(path + ".tmp", path)
        self.content = content
        return content

    def leaderboard_text(self, content=None):
        return format_leaderboard(content or self.content or self.collect())


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON serialisable: {value!r}")
