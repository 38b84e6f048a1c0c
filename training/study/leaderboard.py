"""A study's statistics: every run's record, the selections on validation (the tuned
equal weighting's and, with `tune`, every contender's: `training/study/tuning.py`) and the
leaderboard, as `study.json` holds them.

Per cell and task: the primary metric's mean, standard deviation and 95% interval
over seeds, and the paired-by-seed differences to the single-task models and to the
tuned equal weighting; per cell, Δm with its interval (`training/statistics.py`,
`training/baselines.py`); with `tune`, each row's selected setting (only its runs' test
metrics are read into the row) and its seeds. Runs that have not finished are counted,
not averaged. With `tune.pilot_seeds`, selection reads the pilot seeds' validation metrics
only (or the selection recorded when the pilot finished, `plan.selections`), and a row's
test metrics are its selected setting's over every seed.

Example:
>>> from training.study.leaderboard import collect
>>> content = collect(plan)         # doctest: +SKIP
>>> content["leaderboard"][0]["cell"]  # doctest: +SKIP
'single_task'
"""

import json
import os

from training.baselines import delta_m
from training.statistics import paired_difference, summarize
from training.study.tuning import select, validation_score  # noqa: F401 (study.py's score)


def read_json(path):
    """The JSON file at `path`, or None where there is none."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def record(run, output):
    """Everything study.json keeps of one run (one waiting for the pilot's selection: no
    run dir, setting or metrics yet)."""
    def read(name):
        return None if run.waiting else read_json(os.path.join(run.run_dir, name))

    test = read("metrics.json")
    history = read("history.json") or []
    info = read("study_run.json") or {}
    steps = [h["step_time_ms"] for h in history if h.get("step_time_ms")]
    return {"group": run.group, "cell": run.cell, "seed": run.seed, "data_group": run.data_group,
            "run_dir": None if run.waiting else os.path.relpath(run.run_dir, output),
            "overrides": run.overrides, "setting": run.setting, "after_pilot": run.after_pilot,
            "config": run.config.to_dict() if run.config is not None else None,
            "status": "done" if test is not None else ("failed" if info.get("status") else
                                                       "pending"),
            "test": test, "validation": read("evaluation_validation.json"),
            "epochs": len(history), "wall_time_s": info.get("wall_time_s"),
            "step_time_ms": sum(steps) / len(steps) if steps else None,
            "peak_memory_mb": info.get("peak_memory_mb"), "worker": info.get("worker"),
            "trial": info.get("trial")}


def main_tasks(plan):
    """(main tasks, {task: (metric, higher_is_better)}, {task: the sources it is read from,
    for a mixture; else empty}) of the study's cells."""
    from training.experiment import Experiment

    cell = next(r for r in plan.runs if r.group == "cell")
    experiment = Experiment(cell.config)
    tasks = tuple(t for t in experiment.tasks if not t.auxiliary)
    described = experiment.source_descriptions() if cell.config.data.sources else {}
    sources = {} if not cell.config.data.sources else {
        t.name: [f"{s.name} ({described[s.name]})" for s in experiment.mixture.sources
                 if t.name in s.task_names()] for t in tasks}
    return tasks, experiment.primary_metrics(tasks), sources


def _index(records):
    """{(group, cell, data group or "", setting): {seed: record}}."""
    by = {}
    for rec in records:
        key = (rec["group"], rec["cell"], rec["data_group"] if rec["group"] == "single_task"
               else "", rec["setting"])
        by.setdefault(key, {})[rec["seed"]] = rec
    return by


def _settings_of(plan, by, key):
    """{setting: {pilot seed: validation metrics}} of one contender (`key` without the
    setting): what selection reads, and nothing else (the pilot seeds: every seed without
    `tune.pilot_seeds`)."""
    pilot = set(plan.pilot_seeds())
    return {setting: {seed: rec["validation"] for seed, rec in by.get(key + (setting,), {}).items()
                      if seed in pilot}
            for setting, _ in plan.settings()}


def _choose(plan, by, key, tasks, primary, reference=None):
    """A contender's selection (`tuning.select`; the one recorded when its pilot finished,
    if any); without `tune`, its one setting."""
    recorded = plan.selections.get(plan.contender_folder(*key))
    if recorded is not None:
        return dict(recorded)
    choice = select(_settings_of(plan, by, key), tasks, primary, reference)
    if not plan.tune:
        choice["selected"] = ""
    return choice


def _single_task_metrics(plan, by, groups, tasks, primary):
    """({data group: {split: {seed: {task: metrics}}}} of each task's selected single-task
    setting, {(task, data group): its selection})."""
    stl, chosen = {g: {} for g in groups}, {}
    for group in groups:
        for task in tasks:
            key = ("single_task", task.name, group)
            chosen[(task.name, group)] = choice = _choose(plan, by, key, [task], primary)
            for seed, rec in by.get(key + (choice["selected"],), {}).items():
                for split in ("test", "validation"):
                    if rec[split]:
                        stl[group].setdefault(split, {}).setdefault(seed, {})[task.name] = \
                            rec[split][task.name]
    return stl, chosen


def selections(plan, by, tasks, primary):
    """Every contender's selection from the records `by` (`_index`): (the single-task
    models' metrics at their selected settings, as `_single_task_metrics`, {(task, data
    group): selection}, the tuned equal weighting's, {cell: selection}). The single-task
    ones first: a cell is scored against them."""
    groups = plan.data_groups()
    stl, chosen = _single_task_metrics(plan, by, groups, tasks, primary)
    first = next(iter(groups))
    tuned = select_tuned(plan, by, tasks, primary, stl[first].get("validation", {}))
    cells = {name: _choose(plan, by, ("cell", name, ""), tasks, primary,
                           stl[plan.group_of(o)].get("validation") if plan.spec.single_task
                           else None) for name, o in plan.cells}
    return stl, chosen, tuned, cells


def collect(plan):
    """The study.json content: every run, the selections and the leaderboard."""
    tasks, primary, sources = main_tasks(plan)
    records = [record(r, plan.output) for r in plan.runs]
    by, groups = _index(records), plan.data_groups()
    stl, chosen, tuned, cells = selections(plan, by, tasks, primary)
    first = next(iter(groups))
    _mark_selected(records, chosen, cells, tuned)
    board = Board(tasks, primary, plan.cell_labels)
    rows = []
    if plan.spec.single_task:
        for group in groups:
            name = "single_task" if len(groups) == 1 else f"single_task ({group})"
            settings = {t.name: chosen[(t.name, group)]["selected"] for t in tasks}
            rows.append(board.row("single_task", name, groups[group],
                                  dict(stl[group].get("test", {})), stl[group], None,
                                  [by.get(("single_task", t.name, group, s), {})
                                   for t in tasks for s in _labels(plan)],
                                  data_group=group, setting=settings))
    tuned_test = None
    if tuned["selected"] is not None:
        runs = by[("tuned_equal", tuned["selected"], "", "")]
        tuned_test = {s: r["test"] for s, r in runs.items() if r["test"]}
        rows.append(board.row("tuned_equal", f"tuned_equal ({tuned['selected']})",
                              tuned["configs"][tuned["selected"]], tuned_test, stl[first], None,
                              [by.get(("tuned_equal", label, "", ""), {})
                               for label in tuned["configs"]]
                              + [by.get(("tuned_equal", None, "", None), {})], data_group=first,
                              setting=tuned["selected"]))
    for name, overrides in plan.cells:
        selected, group = cells[name]["selected"], plan.group_of(overrides)
        runs = by.get(("cell", name, "", selected), {})
        rows.append(board.row("cell", name, overrides,
                              {s: r["test"] for s, r in runs.items() if r["test"]}, stl[group],
                              tuned_test, [by.get(("cell", name, "", s), {})
                                           for s in _labels(plan)],
                              data_group=group, setting=selected))
    spec = plan.spec
    return {"name": spec.name, "study_file": spec.path, "base": spec.base,
            "base_set": plan.base_sets, "seeds": spec.seeds, "seed_keys": spec.seed_keys,
            "tasks": [t.name for t in tasks], "sources": sources,
            "axes": [{"name": axis, "options": [{"label": label, "overrides": o}
                                                for label, o in options]}
                     for axis, options in plan.axes],
            "primary_metrics": {k: list(v) for k, v in primary.items()},
            "tuned_equal": tuned, "tune": _tune_section(plan, chosen, cells, tuned),
            "leaderboard": rows, "runs": records}


def _labels(plan):
    """The settings' labels, and None: the runs still waiting for the pilot's selection."""
    return [label for label, _ in plan.settings()] + [None]


def _mark_selected(records, chosen, cells, tuned):
    """Each record's `selected`: whether its test metrics enter the leaderboard."""
    for rec in records:
        if rec["group"] == "single_task":
            rec["selected"] = chosen[(rec["cell"], rec["data_group"])]["selected"] == \
                rec["setting"]
        elif rec["group"] == "cell":
            rec["selected"] = cells[rec["cell"]]["selected"] == rec["setting"]
        elif rec["group"] == "tuned_equal":
            rec["selected"] = tuned["selected"] == rec["cell"]


def _tune_section(plan, chosen, cells, tuned):
    """study.json's `tune`: the settings, the budget and every contender's selection
    (validation scores and the seeds each rests on); None without `tune`."""
    if not plan.tune:
        return None
    contenders = {f"single_task {task}" + (f" ({group})" if len(plan.data_groups()) > 1
                                           else ""): choice
                  for (task, group), choice in chosen.items()}
    contenders.update({f"cell {name}": choice for name, choice in cells.items()})
    if tuned["configs"]:
        contenders["tuned_equal"] = {k: tuned[k] for k in ("scores", "seeds", "selected")}
    return {"budget": plan.tune.budget, "settings": dict(plan.tune.settings),
            "pilot_seeds": plan.pilot_seeds() if plan.tune.pilot else None,
            "criterion": _criterion(plan) + (" (a single-task model: its task's validation "
                                             "primary metric)" if plan.spec.single_task else ""),
            "contenders": contenders}


def _criterion(plan):
    return ("mean validation Δm against the single-task models" if plan.spec.single_task
            else "mean validation primary metric (sign-adjusted)")


def select_tuned(plan, by, tasks, primary, stl_validation):
    """The tuned equal-weighting setting with the best mean validation score over the
    pilot seeds (every seed without a pilot; the recorded selection once there is one)."""
    configs = {label: {"train.weighting": "static", **o} for label, o in plan.tuned
               if o is not None}  # a searched setting not drawn yet has none
    pilot = set(plan.pilot_seeds())
    runs = {label: {seed: rec["validation"] for seed, rec in
                    by.get(("tuned_equal", label, "", ""), {}).items() if seed in pilot}
            for label in configs}
    recorded = plan.selections.get("tuned_equal")
    choice = select(runs, tasks, primary, stl_validation) if recorded is None else \
        {k: recorded[k] for k in ("scores", "seeds", "selected")}
    return {"configs": configs, **choice, "criterion": _criterion(plan)}


class Board:
    """Makes the leaderboard's rows for one set of tasks and primary metrics."""

    def __init__(self, tasks, primary, cell_labels):
        self.tasks, self.primary, self.cell_labels = tasks, primary, cell_labels

    def row(self, group, name, overrides, test, stl, tuned_test, by_group, data_group="base",
            setting=""):
        """One row: per task its statistics over seeds, Δm, costs and run counts (every
        setting's runs: the tuning budget spent). `setting`: the selected one (per task for
        the single-task models; "" without `tune`)."""
        seeds = sorted(test)
        stl_test = stl.get("test", {})
        row = {"group": group, "cell": name, "overrides": overrides, "setting": setting,
               "seeds": seeds,
               "tasks": {t.name: self._task_entry(t, group, test, seeds, stl_test, tuned_test)
                         for t in self.tasks},
               "data_group": data_group,
               "labels": self.cell_labels.get(name, {}) if group == "cell" else {}}
        if group != "single_task" and stl_test:
            row.update(self._delta_m(group, test, seeds, stl_test, tuned_test))
        records = [r for runs in by_group for r in runs.values()]
        for key in ("step_time_ms", "peak_memory_mb", "wall_time_s"):
            values = [r[key] for r in records if r.get(key)]
            row[key] = sum(values) / len(values) if values else None
        row["runs"] = {"done": sum(r["status"] == "done" for r in records),
                       "failed": sum(r["status"] == "failed" for r in records),
                       "planned": len(records)}
        return row

    def _task_entry(self, task, group, test, seeds, stl_test, tuned_test):
        metric, higher = self.primary[task.name]
        values = {s: test[s][task.name][metric] for s in seeds if task.name in test[s]}
        entry = summarize(list(values.values()))
        entry.update({"metric": metric, "higher_is_better": higher})
        sign = 1.0 if higher else -1.0
        if group != "single_task" and stl_test:
            common = [s for s in values if task.name in stl_test.get(s, {})]
            entry["vs_single_task"] = paired_difference(
                [sign * values[s] for s in common],
                [sign * stl_test[s][task.name][metric] for s in common])
        if tuned_test:
            common = [s for s in values if s in tuned_test]
            entry["vs_tuned_equal"] = paired_difference(
                [sign * values[s] for s in common],
                [sign * tuned_test[s][task.name][metric] for s in common])
        return entry

    def _delta_m(self, group, test, seeds, stl_test, tuned_test):
        tasks, primary = self.tasks, self.primary
        per_seed = {s: delta_m(test[s], stl_test[s], tasks, primary)["delta_m"]
                    for s in seeds if s in stl_test and len(stl_test[s]) == len(tasks)}
        out = {"delta_m": summarize(list(per_seed.values()))}
        out["delta_m"]["by_seed"] = {str(s): v for s, v in per_seed.items()}
        if tuned_test and group == "cell":
            tuned_dm = {s: delta_m(tuned_test[s], stl_test[s], tasks, primary)["delta_m"]
                        for s in per_seed if s in tuned_test}
            common = sorted(tuned_dm)
            out["delta_m_vs_tuned_equal"] = paired_difference(
                [per_seed[s] for s in common], [tuned_dm[s] for s in common])
        return out
