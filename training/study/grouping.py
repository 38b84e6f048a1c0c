"""The grouping stage of a study (`grouping:` in the study file): which tasks should share
a network, chosen from measured affinity, trained and compared.

Per seed:

1. the affinity run: every grouped task in one network (the base experiment), trained
   `grouping.affinity_epochs` epochs while recording the inter-task affinity
   (`<output>/grouping/affinity/seed<k>`; or the affinity of `grouping.affinity_run`);
2. the groupings (`<output>/grouping/seed<k>/plan.json`): TAG's choice for every budget
   (`grouping.budgets`, plus 1 and T, the references), `grouping.random` random
   partitions of each budget between them, each with TAG's predicted score, and the
   planted grouping when the dataset stores one (`info.metadata["groups"]`);
3. one ordinary run per distinct group (`<output>/groups/<a+b>/seed<k>`: the base
   experiment on the group's tasks, `training/grouping/configs.py`). A group of one
   task is that task's single-task network of the study, and the group of every task
   is a cell of the study whose config is that network's (e.g. the base cell), so
   neither is trained twice.

`study.json` gets a `grouping` section (`training/grouping/measure.py`): per budget the
measured Δm and test-loss gain of TAG's grouping and of the random ones, with intervals
over seeds and paired-by-seed differences; predicted against measured; the planted
grouping's recovery, by TAG and by the Learning to Branch cells' learned trees.

Example:
>>> from training.study import Study
>>> study = Study("configs/studies/grouping_planted.yaml", "studies/grouping_planted")  # doctest: +SKIP
>>> study.run(jobs=0)             # affinity runs, then the groupings' runs   # doctest: +SKIP
>>> study.content["grouping"]["recovery"]["tag_recovered"]                   # doctest: +SKIP
3
"""

import json
import os
import threading

import numpy as np

from training.grouping import search
from training.grouping.affinity import read_affinity, restrict
from training.grouping.configs import affinity_config, group_config
from training.grouping.measure import group_label, measure
from training.grouping.plan import check_budgets, choose_groupings, random_grouping
from training.study.leaderboard import read_json, record
from training.study.plan import StudyRun, main_task_names
from training.study.spec import StudyError


class GroupingStage:
    """The grouping runs of a planned study (`Plan`) whose spec has `grouping`."""

    def __init__(self, plan):
        self.plan, self.spec = plan, plan.spec.grouping
        self.where = f"{plan.spec.path}: grouping"
        self.folder = os.path.join(plan.output, "grouping")
        cells = [r for r in plan.runs if r.group == "cell"]
        if len(plan.data_groups()) > 1:
            raise StudyError(f"{self.where}: the cells use {len(plan.data_groups())} datasets; "
                             "grouping needs one")
        self.tasks = self._grouped(main_task_names(cells[0].config))
        try:
            self.budgets = sorted(set(check_budgets(self.spec.budgets, len(self.tasks)))
                                  | {1, len(self.tasks)})
        except ValueError as e:
            raise StudyError(f"{plan.spec.path}: {e}") from None
        self.affinity_runs = [] if self.spec.affinity_run else [
            self._affinity_run(seed) for seed in plan.spec.seeds]
        if self.spec.affinity_run:
            self._affinity(None)  # a run without affinity fails now, before any training

    def _grouped(self, cell_tasks):
        tasks = self.spec.tasks or cell_tasks
        unknown = [t for t in tasks if t not in cell_tasks]
        if unknown or len(set(tasks)) != len(tasks):
            what = f"unknown task(s) {unknown}" if unknown else f"a task is listed twice: {tasks}"
            raise StudyError(f"{self.where}.tasks: {what}; valid: the cells' tasks "
                             f"({', '.join(cell_tasks)})")
        return list(tasks)

    # ------------------------------------------------------------------ runs
    def base(self, seed):
        return self.plan.config_for("grouping", {}, seed)

    def _affinity_run(self, seed):
        s = self.spec
        run_dir = os.path.join(self.folder, "affinity", f"seed{seed}")
        return StudyRun("affinity", "all", seed, run_dir,
                        affinity_config(self.base(seed), self.tasks, s.affinity_epochs,
                                        s.affinity_per_epoch),
                        {"data.tasks": self.tasks, "train.epochs": s.affinity_epochs,
                         "train.affinity_per_epoch": s.affinity_per_epoch},
                        unit=os.path.relpath(run_dir, self.plan.output))

    def run_for(self, group, seed):
        """The run of `group`'s network in `seed`: a study run when one is that network."""
        group = list(group)
        if len(group) == 1:
            return next(r for r in self.plan.runs if r.group == "single_task"
                        and r.cell == group[0] and r.seed == seed)
        config = group_config(self.base(seed), group)
        same = next((r for r in self.plan.runs if r.group == "cell" and r.seed == seed
                     and _normal(r.config) == _normal(config)), None)
        unit = os.path.join("groups", group_label(group), f"seed{seed}")
        return same or StudyRun("group", group_label(group), seed,
                                os.path.join(self.plan.output, unit), config,
                                {"data.tasks": group}, unit=unit)

    def runs(self):
        """The affinity runs, and the group runs of every seed whose groupings are chosen
        (the runs of the study's own plan excluded)."""
        out = list(self.affinity_runs)
        for seed in self.plan.spec.seeds:
            plan = self.read_plan(seed)
            if plan is not None:
                out += [r for r in (self.run_for(g, seed) for g in plan["groups"])
                        if r.group == "group"]
        return out

    # ------------------------------------------------------------- groupings
    def _affinity(self, seed):
        """(task names, affinity) of `seed`'s affinity run (or `grouping.affinity_run`)."""
        run_dir = self.spec.affinity_run or self.affinity_runs[
            self.plan.spec.seeds.index(seed)].run_dir
        try:
            names, z = read_affinity(run_dir)
            return restrict(names, z, self.tasks, key=f"grouping.tasks (affinity of {run_dir})")
        except ValueError as e:
            raise StudyError(f"{self.plan.spec.path}: {e}") from None

    def ready(self, seed):
        """Whether `seed`'s affinity is there to choose from."""
        if self.spec.affinity_run:
            return True
        return self.affinity_runs[self.plan.spec.seeds.index(seed)].done

    def plan_path(self, seed):
        return os.path.join(self.folder, f"seed{seed}", "plan.json")

    def read_plan(self, seed):
        """`seed`'s plan.json when it was written for this grouping spec, else None."""
        path = self.plan_path(seed)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            plan = json.load(f)
        return plan if plan.get("spec") == self.spec.to_dict() and \
            plan.get("tasks") == self.tasks else None

    def choose(self, seed):
        """Chooses `seed`'s groupings and writes its plan.json; returns the plan."""
        names, z = self._affinity(seed)
        entries = [{"kind": "tag", "index": 0, **_renamed(g.to_dict())}
                   for g in choose_groupings(z, names, self.budgets, overlap=self.spec.overlap,
                                             method=self.spec.method,
                                             beam_width=self.spec.beam_width)]
        entries += self._random(z, names, seed)
        groups = _distinct([g for e in entries for g in e["groups"]] + [[t] for t in names])
        source = self.spec.affinity_run or os.path.relpath(
            self.affinity_runs[self.plan.spec.seeds.index(seed)].run_dir, self.plan.output)
        plan = {"seed": seed, "spec": self.spec.to_dict(), "tasks": self.tasks,
                "affinity": {"source": source, "tasks": names, "matrix": z.tolist()},
                "truth": self.truth(seed), "groupings": entries, "groups": groups,
                "runs": {group_label(g): os.path.relpath(self.run_for(g, seed).run_dir,
                                                         self.plan.output) for g in groups}}
        path = self.plan_path(seed)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Written aside and moved in: study workers choosing at once never read half a plan.
        with open(f"{path}.{os.getpid()}.{threading.get_ident()}.tmp", "w") as f:
            json.dump(plan, f, indent=1)
        os.replace(f"{path}.{os.getpid()}.{threading.get_ident()}.tmp", path)
        return plan

    def _random(self, z, names, seed):
        """`grouping.random` random partitions of each budget strictly between 1 and T."""
        rng = np.random.default_rng([int(seed), 1])
        one = float(search.member_scores(z, range(len(z))).mean())
        out = []
        for k in (b for b in self.budgets if 1 < b < len(names)):
            for index in range(self.spec.random):
                groups = random_grouping(names, k, rng)
                _, best, serving = search.grouping_score(
                    z, [[names.index(t) for t in g] for g in groups])
                out.append({"kind": "random", "index": index, "budget": k,
                            "groups": [list(g) for g in groups],
                            "serving": {n: int(s) for n, s in zip(names, serving)},
                            "score": float(best.mean()),
                            "gain_over_one_network": float(best.mean()) - one})
        return out

    def truth(self, seed):
        """The planted grouping of the grouped tasks, when the dataset stores one."""
        from data import pipeline
        from training.experiment import Experiment

        experiment = Experiment(self.base(seed))
        if experiment.spec.prepare is not None:  # not a TFDS builder: no metadata
            return None
        metadata = pipeline.builder(experiment.spec, experiment.data_dir).info.metadata or {}
        groups = metadata.get("groups")
        if not groups:
            return None
        kept = [[t for t in g if t in self.tasks] for g in groups]
        return [g for g in kept if g]

    def choose_ready(self, log=print):
        """Chooses the groupings of every seed whose affinity is ready and whose plan is
        missing or stale; returns the group runs still to train."""
        for seed in self.plan.spec.seeds:
            if self.read_plan(seed) is None and self.ready(seed):
                plan = self.choose(seed)
                log(f"  groupings of seed {seed}: " + "; ".join(
                    f"{g['budget']}: {' '.join('{' + ','.join(x) + '}' for x in g['groups'])}"
                    for g in plan["groupings"] if g["kind"] == "tag"))
        return [r for r in self.runs() if r.group == "group" and not r.done]

    # --------------------------------------------------------------- results
    def collect(self, tasks, primary):
        """(the `grouping` section of study.json, the records of the stage's own runs)."""
        output = self.plan.output
        plans = {s: p for s in self.plan.spec.seeds if (p := self.read_plan(s)) is not None}
        tests = {}
        for plan in plans.values():
            for run_dir in plan["runs"].values():
                tests[run_dir] = read_json(os.path.join(output, run_dir, "metrics.json"))
        grouped = tuple(t for t in tasks if t.name in self.tasks)
        section = measure(plans, tests, grouped, primary,
                          {s: p["truth"] for s, p in plans.items()}, self.trees())
        section["spec"] = self.spec.to_dict()
        section["affinity_runs"] = [os.path.relpath(r.run_dir, output) for r in self.affinity_runs]
        return section, [record(r, output) for r in self.runs()]

    def trees(self):
        """[{cell, seed, tree}] of the Learning to Branch cells' finished runs (their last
        epoch's `tree` diagnostic)."""
        out = []
        for run in self.plan.runs:
            if run.group != "cell" or run.config.model.architecture != "learning_to_branch":
                continue
            history = read_json(os.path.join(run.run_dir, "history.json")) or []
            trees = [h["diagnostics"]["tree"] for h in history
                     if "tree" in h.get("diagnostics", {})]
            if run.done and trees:
                out.append({"cell": run.cell, "seed": run.seed, "tree": trees[-1]})
        return out


def _renamed(grouping):
    """A `Grouping.to_dict()` with `method` (how it was searched) as `search`."""
    grouping["search"] = grouping.pop("method")
    return grouping


def _distinct(groups):
    out, seen = [], set()
    for g in groups:
        if tuple(g) not in seen:
            seen.add(tuple(g))
            out.append(list(g))
    return out


def _normal(config):
    """A config as a dict with its trained tasks spelled out (`[]` means all)."""
    out = config.to_dict()
    out["data"]["tasks"] = main_task_names(config)
    return out


def read_plans(study_dir):
    """{seed: plan} of every `grouping/seed<k>/plan.json` of a study dir; a study without
    groupings is an error saying how to make them."""
    folder = os.path.join(study_dir, "grouping")
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    plans = {}
    for name in names:
        path = os.path.join(folder, name, "plan.json")
        if name.startswith("seed") and os.path.exists(path):
            plans[int(name[4:])] = read_json(path)
    if not plans:
        raise ValueError(f"--grouping: {study_dir} has no grouping/seed<k>/plan.json; run a "
                         "study with a grouping: section first (docs/guide/grouping.md)")
    return dict(sorted(plans.items()))


def members(plan, budget, random=None):
    """(run dirs of the grouping's networks, relative to the study dir, {task: index of the
    network that answers it}) of TAG's grouping for `budget` (or random grouping `random`)."""
    kind, index = ("tag", 0) if random is None else ("random", int(random))
    chosen = next((g for g in plan["groupings"] if g["kind"] == kind and g["budget"] == budget
                   and g["index"] == index), None)
    if chosen is None:
        valid = sorted({(g["budget"], g["index"]) for g in plan["groupings"] if g["kind"] == kind})
        what = "--budget" if random is None else "--random"
        raise ValueError(f"{what}: no {kind} grouping for {budget} networks"
                         + ("" if random is None else f", index {index}")
                         + f" in seed {plan['seed']}; valid: "
                         + ", ".join(str(b) if random is None else f"--budget {b} --random {i}"
                                     for b, i in valid))
    runs = [plan["runs"][group_label(g)] for g in chosen["groups"]]
    return runs, dict(chosen["serving"])
