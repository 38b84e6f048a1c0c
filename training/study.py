"""Studies: a base experiment times a grid of settings times seeds, with statistics.

A study answers "which multi-task setup beats separate single-task models on this
data, by how much, and is that more than seed noise?". Its YAML file
(`configs/studies/*.yaml`) names a base experiment and what varies:

```yaml
base: configs/tiny.yaml          # any experiment config
set: [train.epochs=2]            # overrides of the base (optional)
seeds: 3                         # a count (0, 1, 2) or a list; default 3
seed_keys: [train.seed]          # config keys set to the seed (default: train.seed)
grid:                            # cells: the product of the axes
  model.architecture: [shared_bottom, mmoe]      # an axis: a key and its values
  weighting:                                     # a named axis: label -> overrides
    equal: {train.weighting: equal}
    pcgrad: {train.weighting: pcgrad, train.weighting_args: {seed: 1}}
single_task: true                # one single-task model per task and seed (default true)
tuned_equal:                     # a tuned equal-weighting baseline (optional): static
  train.learning_rate: [0.001, 0.003]            # weighting over this grid, selected
  train.task_weights: [{}, {left: 2.0}]          # on the validation split
```

Every run is an ordinary run dir (`<output>/runs/<cell>/seed<k>`,
`<output>/single_task/<task>/seed<k>`, `<output>/tuned_equal/<label>/seed<k>`):
`evaluate.py`, `export.py` and `report.py --run` work on it. The single-task
baselines (the base config's encoder and tower, one task) are trained once per seed
and shared by every cell; when an axis changes the data (a `data.` key, e.g. the
task correlation of `mmoe_synthetic`), each distinct dataset gets its own baselines
(`<output>/single_task/<data label>/<task>/seed<k>`). A killed study
continues where it stopped: finished runs are skipped and an interrupted one
resumes from its last checkpoint.

The tuned equal-weighting baseline is the fair comparison (Xin et al., NeurIPS
2022; Kurin et al., NeurIPS 2022: gradient-balancing methods rarely beat a tuned
equal weighting): every setting of the `tuned_equal` grid is trained with every
seed, the setting with the best mean validation score is selected (score: Δm
against the single-task models' validation metrics, or without them the mean
primary metric, sign-adjusted), and its test metrics are reported beside the cells.

`<output>/study.json` holds every run (config, seed, test and validation metrics,
wall time, step time, peak memory) and the leaderboard: per cell and task the
primary metric's mean, standard deviation and 95% interval over seeds, Δm with its
interval, and the paired-by-seed differences to the single-task models and to the
tuned equal weighting (`training/statistics.py`).

Example:
>>> from training.study import Study
>>> study = Study("configs/studies/tiny.yaml", "studies/tiny")   # doctest: +SKIP
>>> study.run(jobs=1)                                            # doctest: +SKIP
>>> print(study.leaderboard_text())                              # doctest: +SKIP
"""

import contextlib
import copy
import dataclasses
import itertools
import json
import math
import os
import re
import resource
import subprocess
import sys
import time

import yaml

from training.config import ConfigError, load_config, save_config
from training.statistics import paired_difference, summarize

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUDY_KEYS = ("name", "base", "set", "seeds", "seed_keys", "grid", "single_task", "tuned_equal")
GROUPS = ("single_task", "tuned_equal", "cell")


class StudyError(ValueError):
    """A problem in a study file (names the file and the key) or in its run dirs."""


@dataclasses.dataclass
class StudyRun:
    """One training run of a study."""

    group: str          # "cell", "single_task" or "tuned_equal"
    cell: str           # the cell's name, the task (single_task) or the setting's label
    seed: int
    run_dir: str
    config: dict
    overrides: dict
    data_group: str = "base"   # cells with the same `data` section share single-task baselines

    @property
    def done(self):
        return os.path.exists(os.path.join(self.run_dir, "metrics.json"))


def _label(value):
    """A short, file-name-safe label for an axis value."""
    if isinstance(value, dict):
        text = ",".join(f"{k}{_label(v)}" for k, v in value.items()) or "none"
    elif isinstance(value, (list, tuple)):
        text = "x".join(_label(v) for v in value)
    else:
        text = str(value)
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text).strip("_") or "none"


def _axes(grid, where):
    """[(axis name, [(label, {key: value})])] from the `grid` mapping."""
    if grid is None:
        return []
    if not isinstance(grid, dict):
        raise StudyError(f"{where}: expected a mapping axis -> values")
    axes = []
    for axis, values in grid.items():
        if isinstance(values, list):
            if not values:
                raise StudyError(f"{where}.{axis}: an axis needs at least one value")
            axes.append((axis, [(_label(v), {axis: v}) for v in values]))
        elif isinstance(values, dict):
            options = []
            for label, overrides in values.items():
                if not isinstance(overrides, dict):
                    raise StudyError(f"{where}.{axis}.{label}: expected a mapping of config "
                                     f"keys to values, got {overrides!r}")
                options.append((_label(label), dict(overrides)))
            if not options:
                raise StudyError(f"{where}.{axis}: an axis needs at least one value")
            axes.append((axis, options))
        else:
            raise StudyError(f"{where}.{axis}: expected a list of values or a mapping "
                             f"label -> overrides, got {values!r}")
    return axes


def _product(axes):
    """[(name, {key: value}, {axis: label})] over the product of the axes."""
    if not axes:
        return [("base", {}, {})]
    out = []
    for combo in itertools.product(*[options for _, options in axes]):
        overrides = {}
        for _, values in combo:
            overrides.update(values)
        out.append(("-".join(label for label, _ in combo), overrides,
                    {axis: label for (axis, _), (label, _) in zip(axes, combo)}))
    return out


def _data_overrides(overrides):
    """The overrides that change the dataset (not which of its tasks are trained)."""
    return {k: v for k, v in overrides.items() if k.startswith("data.")
            and k not in ("data.tasks", "data.auxiliary_tasks")}


class Study:
    """A planned study: its runs and, once they ran, its statistics.

    Args:
        path: str. The study's YAML file.
        output: str. The study dir (`studies/<name>`).
        sets: list of str. `--set key=value` overrides applied to the base of every run.
    """

    def __init__(self, path, output, sets=()):
        self.path = path
        self.output = output
        self.spec = self._read(path)
        self.name = self.spec.get("name") or os.path.splitext(os.path.basename(path))[0]
        seeds = self.spec.get("seeds", 3)
        if isinstance(seeds, bool) or not (isinstance(seeds, int) and seeds >= 1 or (
                isinstance(seeds, list) and seeds and all(isinstance(s, int) for s in seeds))):
            raise StudyError(f"{path}: seeds: expected a count >= 1 or a list of integers, "
                             f"got {seeds!r}")
        self.seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
        self.seed_keys = list(self.spec.get("seed_keys") or ["train.seed"])
        base_sets = list(self.spec.get("set") or []) + list(sets)
        if not all(isinstance(s, str) for s in base_sets):
            raise StudyError(f"{path}: set: expected a list of key=value strings")
        base_path = self.spec.get("base")
        if not isinstance(base_path, str):
            raise StudyError(f"{path}: base: required, the path of an experiment config")
        self.base_path = base_path if os.path.exists(base_path) else os.path.join(REPO, base_path)
        self.base_sets = base_sets
        try:
            self.base = load_config(self.base_path, base_sets)
        except ConfigError as e:
            raise StudyError(f"{path}: base: {e}") from None
        self.axes = _axes(self.spec.get("grid"), f"{path}: grid")
        product = _product(self.axes)
        self.cells = [(name, overrides) for name, overrides, _ in product]
        self.cell_labels = {name: labels for name, _, labels in product}
        tuned = self.spec.get("tuned_equal")
        self.tuned = [(n, o) for n, o, _ in _product(_axes(tuned, f"{path}: tuned_equal"))] \
            if tuned else []
        self.single_task = bool(self.spec.get("single_task", True))
        self.runs = self._plan()

    # --------------------------------------------------------------- planning
    @staticmethod
    def _read(path):
        if not os.path.exists(path):
            raise StudyError(f"study file not found: {path}")
        with open(path) as f:
            try:
                spec = yaml.safe_load(f) or {}
            except yaml.YAMLError as e:
                mark = getattr(e, "problem_mark", None)
                at = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
                raise StudyError(f"{path}{at}: invalid YAML: {getattr(e, 'problem', e)}") from None
        if not isinstance(spec, dict):
            raise StudyError(f"{path}: a study must be a YAML mapping")
        unknown = sorted(set(spec) - set(STUDY_KEYS))
        if unknown:
            raise StudyError(f"{path}: unknown key(s) {unknown}; valid keys: {', '.join(STUDY_KEYS)}")
        return spec

    def _config(self, where, overrides, seed):
        values = dict(overrides)
        values.update({k: seed for k in self.seed_keys})
        try:
            return load_config(self.base_path, self.base_sets, values=values)
        except ConfigError as e:
            raise StudyError(f"{self.path}: {where}: {e}") from None

    def data_groups(self):
        """{data group label: the `data.` overrides that define it}, one per distinct dataset."""
        groups = {}
        for _, overrides in self.cells:
            data = _data_overrides(overrides)
            label = _label(",".join(f"{k[5:]}={_label(v)}" for k, v in data.items())) if data else "base"
            groups.setdefault(label, data)
        return groups

    def _group_of(self, overrides):
        data = _data_overrides(overrides)
        return next(label for label, d in self.data_groups().items() if d == data)

    def _plan(self):
        from training.baselines import baseline_config
        from training.experiment import Experiment

        runs = []
        base_tasks = None
        groups = self.data_groups()
        if self.tuned and len(groups) > 1:
            raise StudyError(f"{self.path}: tuned_equal: the cells use {len(groups)} datasets "
                             f"({', '.join(groups)}); a tuned baseline needs one")
        for seed in self.seeds:
            if self.single_task:
                for group, data_overrides in groups.items():
                    base = self._config(f"single-task baselines of {group}", data_overrides, seed)
                    folder = os.path.join(self.output, "single_task", *(
                        [group] if len(groups) > 1 else []))
                    for task in self._task_names(base):
                        runs.append(StudyRun("single_task", task, seed,
                                             os.path.join(folder, task, f"seed{seed}"),
                                             baseline_config(base, task), data_overrides, group))
            for label, overrides in self.tuned:
                values = {"train.weighting": "static", **overrides}
                runs.append(StudyRun("tuned_equal", label, seed,
                                     os.path.join(self.output, "tuned_equal", label, f"seed{seed}"),
                                     self._config(f"tuned_equal {label}", values, seed), values))
            for name, overrides in self.cells:
                config = self._config(f"cell {name}", overrides, seed)
                tasks = self._task_names(config)
                if base_tasks is None:
                    base_tasks = tasks
                elif tasks != base_tasks:
                    raise StudyError(f"{self.path}: cell {name}: tasks {tasks} differ from the "
                                     f"other cells' {base_tasks}; a study compares one task set")
                runs.append(StudyRun("cell", name, seed,
                                     os.path.join(self.output, "runs", name, f"seed{seed}"),
                                     config, overrides, self._group_of(overrides)))
        for run in runs:
            try:
                Experiment.check_names(run.config)
            except ValueError as e:
                raise StudyError(f"{self.path}: {run.group} {run.cell}: {e}") from None
        return runs

    def _task_names(self, config):
        """The main (not auxiliary) tasks a run of `config` trains."""
        aux = set(config["data"]["auxiliary_tasks"] or [])
        if config["data"]["tasks"]:
            return [t for t in config["data"]["tasks"] if t not in aux]
        import data
        spec = data.get_dataset(config["data"]["name"], **(config["data"]["options"] or {}))
        return [t.name for t in spec.tasks if t.name not in aux]

    # ---------------------------------------------------------------- running
    def _check_dir(self, run):
        """Writes the run's config, or checks it is the one a previous invocation wrote."""
        path = os.path.join(run.run_dir, "study_config.yaml")
        if os.path.exists(path):
            with open(path) as f:
                if yaml.safe_load(f) != run.config:
                    raise StudyError(
                        f"{run.run_dir}: holds a run of another config (the study file or its "
                        f"--set changed since); use a new --output, or remove {run.run_dir}")
            return path
        os.makedirs(run.run_dir, exist_ok=True)
        save_config(run.config, path)
        return path

    def pending(self):
        return [r for r in self.runs if not r.done]

    def run(self, jobs=1, log=print):
        """Trains every run that is not done; returns the runs that failed.

        `jobs` >= 1: that many `train.py` subprocesses at a time (each run's peak
        memory is its own); 0: in this process, one after another (no start-up cost
        per run, for tiny studies and tests; peak memory is then the process's).
        """
        todo = self.pending()
        done = len(self.runs) - len(todo)
        log(f"study {self.name}: {len(self.runs)} runs ({len(self.cells)} cells, "
            f"{len(self.seeds)} seeds"
            + (f", {len(self.tuned)} tuned-equal settings" if self.tuned else "")
            + (", single-task baselines" if self.single_task else "")
            + f"); {done} done, {len(todo)} to run")
        for run in self.runs:  # finished runs too: a changed study must not reuse them
            self._check_dir(run)
        failed = (self._run_in_process(todo, log) if jobs == 0
                  else self._run_subprocesses(todo, jobs, log))
        self.write()
        return failed

    def _finish(self, run, status, wall, peak_mb, log, index, total):
        record = {"status": status, "wall_time_s": wall, "peak_memory_mb": peak_mb}
        with open(os.path.join(run.run_dir, "study_run.json"), "w") as f:
            json.dump(record, f, indent=1)
        log(f"  [{index}/{total}] {run.group} {run.cell} seed {run.seed}: "
            f"{'done' if status == 0 else f'FAILED (exit {status}, see {run.run_dir}/train.log)'}"
            f" in {wall:.0f} s")

    def _run_in_process(self, todo, log):
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
            self._finish(run, status, time.perf_counter() - start, peak, log, i, len(todo))
            if status:
                failed.append(run)
        return failed

    def _run_subprocesses(self, todo, jobs, log):
        queue, running, failed, index = list(todo), {}, [], 0
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        while queue or running:
            while queue and len(running) < jobs:
                run = queue.pop(0)
                out = open(os.path.join(run.run_dir, "train.log"), "a")
                proc = subprocess.Popen(
                    [sys.executable, os.path.join(REPO, "train.py"), "--config",
                     os.path.join(run.run_dir, "study_config.yaml"), "--output", run.run_dir,
                     "--resume=auto"], stdout=out, stderr=subprocess.STDOUT, env=env)
                running[proc.pid] = (run, proc, out, time.perf_counter())
            pid, status, usage = os.wait4(-1, 0)
            if pid not in running:
                continue
            run, proc, out, start = running.pop(pid)
            out.close()
            proc.returncode = os.waitstatus_to_exitcode(status)
            index += 1
            self._finish(run, proc.returncode, time.perf_counter() - start,
                         usage.ru_maxrss / 1024.0, log, index, len(todo))
            if proc.returncode:
                failed.append(run)
        return failed

    # ------------------------------------------------------------- statistics
    def _tasks(self):
        from training.experiment import Experiment
        cell = next(r for r in self.runs if r.group == "cell")
        experiment = Experiment(cell.config)
        tasks = tuple(t for t in experiment.tasks if not t.auxiliary)
        return tasks, experiment.primary_metrics(tasks)

    @staticmethod
    def _read_json(path):
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def _record(self, run):
        """Everything study.json keeps of one run."""
        test = self._read_json(os.path.join(run.run_dir, "metrics.json"))
        history = self._read_json(os.path.join(run.run_dir, "history.json")) or []
        info = self._read_json(os.path.join(run.run_dir, "study_run.json")) or {}
        steps = [h["step_time_ms"] for h in history if h.get("step_time_ms")]
        return {"group": run.group, "cell": run.cell, "seed": run.seed,
                "data_group": run.data_group,
                "run_dir": os.path.relpath(run.run_dir, self.output),
                "overrides": run.overrides, "config": run.config,
                "status": "done" if test is not None else ("failed" if info.get("status") else
                                                           "pending"),
                "test": test,
                "validation": self._read_json(os.path.join(run.run_dir,
                                                           "evaluation_validation.json")),
                "epochs": len(history), "wall_time_s": info.get("wall_time_s"),
                "step_time_ms": sum(steps) / len(steps) if steps else None,
                "peak_memory_mb": info.get("peak_memory_mb")}

    def collect(self):
        """The study.json content: every run, the tuned selection and the leaderboard."""
        tasks, primary = self._tasks()
        records = [self._record(r) for r in self.runs]
        by = {}
        for rec in records:
            key = (rec["group"], rec["cell"], rec["data_group"] if rec["group"] == "single_task"
                   else "")
            by.setdefault(key, {})[rec["seed"]] = rec
        groups = self.data_groups()
        stl = {g: {} for g in groups}   # data group -> split -> seed -> task -> metrics
        for group in groups:
            for task in tasks:
                for seed, rec in by.get(("single_task", task.name, group), {}).items():
                    for split in ("test", "validation"):
                        if rec[split]:
                            stl[group].setdefault(split, {}).setdefault(seed, {})[task.name] = \
                                rec[split][task.name]
        first = next(iter(groups))
        tuned = self._select_tuned(by, tasks, primary, stl[first].get("validation", {}))
        rows = []
        if self.single_task:
            for group in groups:
                name = "single_task" if len(groups) == 1 else f"single_task ({group})"
                rows.append(self._row("single_task", name, groups[group],
                                      dict(stl[group].get("test", {})), tasks, primary,
                                      stl[group], None, data_group=group,
                                      by_group=[by.get(("single_task", t.name, group), {})
                                                for t in tasks]))
        tuned_test = None
        if tuned["selected"] is not None:
            runs = by[("tuned_equal", tuned["selected"], "")]
            tuned_test = {s: r["test"] for s, r in runs.items() if r["test"]}
            rows.append(self._row("tuned_equal", f"tuned_equal ({tuned['selected']})",
                                  tuned["configs"][tuned["selected"]], tuned_test, tasks, primary,
                                  stl[first], None, data_group=first, by_group=[runs]))
        for name, overrides in self.cells:
            runs = by.get(("cell", name, ""), {})
            group = self._group_of(overrides)
            rows.append(self._row("cell", name, overrides,
                                  {s: r["test"] for s, r in runs.items() if r["test"]}, tasks,
                                  primary, stl[group], tuned_test, data_group=group,
                                  by_group=[runs]))
        return {"name": self.name, "study_file": self.path, "base": self.base_path,
                "base_set": self.base_sets, "seeds": self.seeds, "seed_keys": self.seed_keys,
                "tasks": [t.name for t in tasks],
                "axes": [{"name": axis, "options": [{"label": label, "overrides": o}
                                                    for label, o in options]}
                         for axis, options in self.axes],
                "primary_metrics": {k: list(v) for k, v in primary.items()},
                "tuned_equal": tuned, "leaderboard": rows, "runs": records}

    def _select_tuned(self, by, tasks, primary, stl_validation):
        from training.baselines import delta_m

        configs = {label: {"train.weighting": "static", **o} for label, o in self.tuned}
        scores = {}
        for label in configs:
            values = []
            for seed, rec in by.get(("tuned_equal", label, ""), {}).items():
                val = rec["validation"]
                if not val:
                    continue
                if stl_validation.get(seed) and len(stl_validation[seed]) == len(tasks):
                    values.append(delta_m(val, stl_validation[seed], tasks, primary)["delta_m"])
                else:
                    values.append(sum((1 if primary[t.name][1] else -1) * val[t.name][primary[t.name][0]]
                                      for t in tasks) / len(tasks))
            if values:
                scores[label] = sum(values) / len(values)
        selected = max(scores, key=scores.get) if scores else None
        criterion = ("mean validation Δm against the single-task models" if self.single_task
                     else "mean validation primary metric (sign-adjusted)")
        return {"configs": configs, "scores": scores, "selected": selected, "criterion": criterion}

    def _row(self, group, name, overrides, test, tasks, primary, stl, tuned_test, by_group,
             data_group="base"):
        from training.baselines import delta_m

        seeds = sorted(test)
        stl_test = stl.get("test", {})
        row = {"group": group, "cell": name, "overrides": overrides, "seeds": seeds, "tasks": {},
               "data_group": data_group, "labels": self.cell_labels.get(name, {})
               if group == "cell" else {}}
        for task in tasks:
            metric, higher = primary[task.name]
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
            row["tasks"][task.name] = entry
        if group != "single_task" and stl_test:
            per_seed = {s: delta_m(test[s], stl_test[s], tasks, primary)["delta_m"]
                        for s in seeds if s in stl_test and len(stl_test[s]) == len(tasks)}
            row["delta_m"] = summarize(list(per_seed.values()))
            row["delta_m"]["by_seed"] = {str(s): v for s, v in per_seed.items()}
            if tuned_test and group == "cell":
                tuned_dm = {s: delta_m(tuned_test[s], stl_test[s], tasks, primary)["delta_m"]
                            for s in per_seed if s in tuned_test}
                common = sorted(tuned_dm)
                row["delta_m_vs_tuned_equal"] = paired_difference(
                    [per_seed[s] for s in common], [tuned_dm[s] for s in common])
        records = [r for runs in by_group for r in runs.values()]
        for key in ("step_time_ms", "peak_memory_mb", "wall_time_s"):
            values = [r[key] for r in records if r.get(key)]
            row[key] = sum(values) / len(values) if values else None
        row["runs"] = {"done": sum(r["status"] == "done" for r in records),
                       "failed": sum(r["status"] == "failed" for r in records),
                       "planned": len(records)}
        return row

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
        return format_leaderboard(content or getattr(self, "content", None) or self.collect())


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON serialisable: {value!r}")


def _mark(diff):
    """'>' / '<' when the paired interval is above / below 0 (in the better direction)."""
    if not diff or not diff.get("excludes_zero"):
        return " "
    return ">" if diff["mean"] > 0 else "<"


def _fmt(x, digits=4):
    return "nan" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def format_leaderboard(content):
    """The leaderboard as text: per cell and task, mean ± sd [95% CI] and the marks."""
    tasks = content["tasks"]
    lines = [f"Study {content['name']}: test split, {len(content['seeds'])} seeds "
             f"({', '.join(map(str, content['seeds']))}); mean ± sd [95% CI over seeds]"]
    header = f"{'cell':<34}" + "".join(
        f"{t + ' ' + content['primary_metrics'][t][0]:<33}" for t in tasks) + "Δm % vs single-task"
    lines.append(header)
    for row in content["leaderboard"]:
        cells = [f"{row['cell'][:33]:<34}"]
        for task in tasks:
            e = row["tasks"][task]
            marks = _mark(e.get("vs_single_task")) + _mark(e.get("vs_tuned_equal"))
            cells.append(f"{_fmt(e['mean'])} ± {_fmt(e['std'], 3)} "
                         f"[{_fmt(e['ci_low'], 3)}, {_fmt(e['ci_high'], 3)}] {marks:<2}"[:32].ljust(33))
        if "delta_m" in row:
            d = row["delta_m"]
            dm = f"{_fmt(d['mean'], 2)} [{_fmt(d['ci_low'], 2)}, {_fmt(d['ci_high'], 2)}]"
            vs = row.get("delta_m_vs_tuned_equal")
            if vs:
                dm += f"  vs tuned {_fmt(vs['mean'], 2)} [{_fmt(vs['ci_low'], 2)}, {_fmt(vs['ci_high'], 2)}]"
            cells.append(dm)
        lines.append("".join(cells))
    lines.append("Marks after a value: first vs single-task, second vs tuned equal weighting; "
                 "'>' better, '<' worse, where the 95% interval of the paired-by-seed "
                 "difference excludes 0 (blank: not distinguishable from noise).")
    tuned = content.get("tuned_equal") or {}
    if tuned.get("selected"):
        lines.append(f"Tuned equal weighting: selected {tuned['selected']} "
                     f"{tuned['configs'][tuned['selected']]} by {tuned['criterion']}.")
    failed = [r for r in content["runs"] if r["status"] == "failed"]
    if failed:
        lines.append(f"{len(failed)} run(s) failed: " + ", ".join(r["run_dir"] for r in failed))
    return "\n".join(lines)
