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

from training.study.grouping import GroupingStage
from training.study.leaderboard import collect, main_tasks, read_json, validation_score
from training.study.pilot import Pilot
from training.study.plan import Plan
from training.study.runner import check_dir, work
from training.study.spec import StudySpec
from training.study.storage import default_url, open_storage, redact
from training.study.text import format_grouping, format_leaderboard
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
        self.grouping = GroupingStage(self.plan) if self.spec.grouping else None
        tune = self.plan.tune
        self.pilot = Pilot(self.plan) if tune and tune.pilot else None
        self.content = None

    @property
    def runs(self):
        """Every run known now: the plan's, and the grouping stage's (its group runs once
        their seed's groupings are chosen)."""
        return self.plan.runs + (self.grouping.runs() if self.grouping else [])

    def pending(self):
        return [r for r in self.runs if not r.done]

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
        queue = self.queue(url, heartbeat, grace, log)
        plan, spec = self.plan, self.spec
        runs, todo = self.runs, self.pending()
        for run in runs:  # finished runs too: a changed study must not reuse them
            if run.config is not None:
                check_dir(run)
        start = time.perf_counter()
        queued = queue.prepare()
        prepared = time.perf_counter() - start
        log(f"study {spec.name}: {len(runs)} runs ({len(plan.cells)} cells, "
            f"{len(spec.seeds)} seeds"
            + (f", {plan.tune.budget} tuned settings per contender" if plan.tune else "")
            + (f" selected on a pilot of {plan.tune.pilot} seed(s), "
               f"{sum(r.waiting for r in plan.runs)} run(s) waiting for its selections"
               if self.pilot else "")
            + (f", {len(plan.tuned)} tuned-equal settings" if plan.tuned else "")
            + (f" drawn by {plan.search.sampler_name.upper()}" if plan.search else "")
            + (", single-task baselines" if spec.single_task else "")
            + (", task grouping (more runs once the groupings are chosen)"
               if self.grouping else "")
            + f"); {len(runs) - len(todo)} done, {len(todo)} to run; storage "
            f"{redact(url)} ({queued} queued now, {prepared:.2f} s)")
        graph_failed = self._one_graph(todo, storage, log)
        if self.grouping:
            self._log_groupings(log)
        failed = work(queue, jobs, log, self.score)
        failed += [r for r in graph_failed if not r.done and r not in failed]
        self.plan.refresh()
        self.write()
        return failed

    def _one_graph(self, todo, storage, log):
        """With `one_graph: true`, trains each cell's pending seeds as one graph here, before
        the queue (whose trials of those runs are then dropped as done); returns the runs
        that failed so. Workers of a shared storage train one run per trial instead (every
        worker would otherwise train the same groups): the results are the same."""
        if not self.spec.one_graph:
            return []
        if storage:
            log("one_graph: with --storage, one run per trial instead (each worker would "
                "train the same groups)")
            return []
        from training.replicas.study_runs import run_in_one_graph
        return run_in_one_graph([r for r in todo if r.config is not None], self.output,
                                self.spec.seed_keys, log)[1]

    def queue(self, url, heartbeat=30, grace=None, log=print):
        """The study's `TrialQueue` in the storage at `url` (opened, not prepared)."""
        storage = open_storage(url, heartbeat=heartbeat, grace=grace)
        staged = self.grouping or self.pilot
        return TrialQueue(storage, self.plan, worker_id(), url,
                          stage=(lambda: self.stage_units(log)) if staged else None)

    def stage_units(self, log=print):
        """{unit: [run]} of the grouping stage known now: the affinity runs, and the group
        runs of every seed whose groupings are chosen (chosen here for every seed whose
        affinity run is done and whose plan.json is missing: by whichever worker looks
        first; the choice is deterministic, so two workers write the same plan). With a
        pilot, first selects every contender whose pilot has finished: its runs after the
        pilot join the plan's units (`training/study/pilot.py`)."""
        if self.pilot:
            self.pilot.choose_ready(log)
        if not self.grouping:
            return {}
        self.grouping.choose_ready(log)
        return {run.unit: [run] for run in self.grouping.runs()}

    def _log_groupings(self, log):
        groups = [r for r in self.grouping.runs() if r.group == "group"]
        waiting = [s for s in self.spec.seeds if self.grouping.read_plan(s) is None]
        log(f"study {self.spec.name}: {sum(not r.done for r in groups)} runs of the chosen "
            "groupings to train" + (f"; seed(s) {', '.join(map(str, waiting))}: chosen (and "
                                    "queued) once their affinity runs finish" if waiting else ""))

    def score(self, runs):
        """A unit's value for the storage: the mean validation score of its runs (the
        sign-adjusted mean primary metric over the tasks each run trains); 0 without one."""
        if not hasattr(self, "_primary"):
            self._primary = main_tasks(self.plan)[:2]  # (tasks, primary metrics)
        tasks, primary = self._primary
        values = []
        for run in runs:
            validation = read_json(os.path.join(run.run_dir, "evaluation_validation.json"))
            if validation is not None:
                trained = [t for t in tasks if t.name in validation]
                if trained:
                    values.append(validation_score(validation, trained, primary))
        finite = [v for v in values if math.isfinite(v)]
        return sum(finite) / len(finite) if finite else 0.0

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
        # A temporary file of this process: workers ending together each write theirs whole.
        with open(f"{path}.{os.getpid()}.tmp", "w") as f:
            json.dump(content, f, indent=1, default=_json_default)
        os.replace(f"{path}.{os.getpid()}.tmp", path)
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
