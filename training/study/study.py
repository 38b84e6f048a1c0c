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

from training.study.grouping import GroupingStage
from training.study.leaderboard import collect, main_tasks
from training.study.plan import Plan
from training.study.runner import check_dir, run_all
from training.study.spec import StudySpec
from training.study.text import format_grouping, format_leaderboard


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
        self.grouping = GroupingStage(self.plan) if self.spec.grouping else None
        self.content = None

    @property
    def runs(self):
        """Every run known now: the plan's, and the grouping stage's (its group runs once
        their seed's groupings are chosen)."""
        return self.plan.runs + (self.grouping.runs() if self.grouping else [])

    def pending(self):
        return [r for r in self.runs if not r.done]

    def run(self, jobs=1, log=print):
        """Trains every run that is not done; returns the runs that failed.

        `jobs` >= 1: that many `train.py` subprocesses at a time (each run's peak
        memory is its own); 0: in this process, one after another (no start-up cost
        per run, for tiny studies and tests; peak memory is then the process's).
        """
        runs = self.runs
        todo = sorted(self.pending(), key=lambda r: r.group != "affinity")  # groupings first
        plan, spec = self.plan, self.spec
        log(f"study {spec.name}: {len(runs)} runs ({len(plan.cells)} cells, "
            f"{len(spec.seeds)} seeds"
            + (f", {len(plan.tuned)} tuned-equal settings" if plan.tuned else "")
            + (", single-task baselines" if spec.single_task else "")
            + (", task grouping (more runs once the groupings are chosen)"
               if self.grouping else "")
            + f"); {len(runs) - len(todo)} done, {len(todo)} to run")
        for run in runs:  # finished runs too: a changed study must not reuse them
            check_dir(run)
        failed = []
        if spec.one_graph:
            from training.replicas.study_runs import run_in_one_graph
            todo, failed = run_in_one_graph(todo, self.output, spec.seed_keys, log)
        failed += run_all(todo, jobs, log)
        if self.grouping:
            groups = self.grouping.choose_ready(log)
            for run in self.grouping.runs():
                check_dir(run)
            log(f"study {spec.name}: {len(groups)} runs of the chosen groupings to train")
            failed += run_all(groups, jobs, log)
        self.write()
        return failed

    def collect(self):
        """The study.json content: every run, the tuned selection, the leaderboard and,
        with `grouping`, its section (`training/grouping/measure.py`)."""
        content = collect(self.plan)
        if self.grouping:
            tasks, primary, _ = main_tasks(self.plan)  # (a grouping's cells are one dataset)
            content["grouping"], records = self.grouping.collect(tasks, primary)
            content["runs"] += records
        return content

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
        content = content or self.content or self.collect()
        text = format_leaderboard(content)
        return text + ("\n\n" + format_grouping(content["grouping"])
                       if content.get("grouping") else "")


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON serialisable: {value!r}")
