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

from training.study.leaderboard import collect
from training.study.plan import Plan
from training.study.runner import check_dir, run_all
from training.study.spec import StudySpec
from training.study.text import format_leaderboard


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

    def run(self, jobs=1, log=print):
        """Trains every run that is not done; returns the runs that failed.

        `jobs` >= 1: that many `train.py` subprocesses at a time (each run's peak
        memory is its own); 0: in this process, one after another (no start-up cost
        per run, for tiny studies and tests; peak memory is then the process's).
        """
        todo = self.pending()
        plan, spec = self.plan, self.spec
        log(f"study {spec.name}: {len(self.runs)} runs ({len(plan.cells)} cells, "
            f"{len(spec.seeds)} seeds"
            + (f", {len(plan.tuned)} tuned-equal settings" if plan.tuned else "")
            + (", single-task baselines" if spec.single_task else "")
            + f"); {len(self.runs) - len(todo)} done, {len(todo)} to run")
        for run in self.runs:  # finished runs too: a changed study must not reuse them
            check_dir(run)
        failed = []
        if spec.one_graph:
            from training.replicas.study_runs import run_in_one_graph
            todo, failed = run_in_one_graph(todo, self.output, spec.seed_keys, log)
        failed += run_all(todo, jobs, log)
        self.write()
        return failed

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
