"""A study's runs: the grid's cells times the seeds, the single-task baselines and the tuned
equal-weighting settings, each an experiment config checked before any run starts.

Every run's config is the base config with the cell's overrides and the seed, loaded
by `load_config` (so grid values are checked against the same declarations as a
config file's) and resolved against its dataset (`Experiment`: task weights, the
monitored metric, loss options); a bad value names the cell and the key.

Example:
>>> from training.study.plan import axes, product
>>> grid = axes({"model.architecture": ["mmoe", "ple"], "train.seed": [1]}, "grid")
>>> [(name, overrides) for name, overrides, _ in product(grid)]
[('mmoe-1', {'model.architecture': 'mmoe', 'train.seed': 1}), ('ple-1', {'model.architecture': 'ple', 'train.seed': 1})]
"""

import dataclasses
import itertools
import os
import re

from training.config import ConfigError, load_config
from training.study.spec import StudyError


@dataclasses.dataclass
class StudyRun:
    """One training run of a study."""

    group: str          # "cell", "single_task" or "tuned_equal"
    cell: str           # the cell's name, the task (single_task) or the setting's label
    seed: int
    run_dir: str
    config: object      # training.config.Config
    overrides: dict
    data_group: str = "base"   # cells with the same `data` section share single-task baselines

    @property
    def done(self):
        return os.path.exists(os.path.join(self.run_dir, "metrics.json"))


def label(value):
    """A short, file-name-safe label for an axis value."""
    if isinstance(value, dict):
        text = ",".join(f"{k}{label(v)}" for k, v in value.items()) or "none"
    elif isinstance(value, (list, tuple)):
        text = "x".join(label(v) for v in value)
    else:
        text = str(value)
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text).strip("_") or "none"


def axes(grid, where):
    """[(axis name, [(label, {key: value})])] from a `grid` (or `tuned_equal`) mapping."""
    if grid is None:
        return []
    if not isinstance(grid, dict):
        raise StudyError(f"{where}: expected a mapping axis -> values")
    return [(axis, _options(axis, values, where)) for axis, values in grid.items()]


def _options(axis, values, where):
    if isinstance(values, list):
        options = [(label(v), {axis: v}) for v in values]
    elif isinstance(values, dict):
        options = []
        for name, overrides in values.items():
            if not isinstance(overrides, dict):
                raise StudyError(f"{where}.{axis}.{name}: expected a mapping of config "
                                 f"keys to values, got {overrides!r}")
            options.append((label(name), dict(overrides)))
    else:
        raise StudyError(f"{where}.{axis}: expected a list of values or a mapping "
                         f"label -> overrides, got {values!r}")
    if not options:
        raise StudyError(f"{where}.{axis}: an axis needs at least one value")
    return options


def product(grid_axes):
    """[(name, {key: value}, {axis: label})] over the product of the axes."""
    if not grid_axes:
        return [("base", {}, {})]
    out = []
    for combo in itertools.product(*[options for _, options in grid_axes]):
        overrides = {}
        for _, values in combo:
            overrides.update(values)
        out.append(("-".join(name for name, _ in combo), overrides,
                    {axis: name for (axis, _), (name, _) in zip(grid_axes, combo)}))
    return out


# Keys of `data.` that change how a mixture draws its sources, not what a single-task
# baseline (trained on its task's own sources) sees.
SAMPLING_KEYS = ("data.sampling.strategy", "data.sampling.temperature", "data.sampling.weights",
                 "data.sampling.batches")


def data_overrides(overrides):
    """The overrides that change the data (not which of its tasks are trained, nor how a
    mixture draws from its sources): cells that differ only there share baselines."""
    return {k: v for k, v in overrides.items() if k.startswith("data.")
            and k not in ("data.tasks", "data.auxiliary_tasks") + SAMPLING_KEYS}


@dataclasses.dataclass
class Plan:
    """Every run of a study, planned from its `StudySpec` (`Plan.make`)."""

    spec: object        # StudySpec
    output: str
    base_sets: list
    base: object        # the base Config
    axes: list
    cells: list         # [(name, overrides)]
    cell_labels: dict   # {name: {axis: label}}
    tuned: list         # [(label, overrides)]
    runs: list = dataclasses.field(default_factory=list)

    @classmethod
    def make(cls, spec, output, sets=()):
        base_sets = list(spec.set) + list(sets)
        try:
            base = load_config(spec.base, base_sets)
        except ConfigError as e:
            raise StudyError(f"{spec.path}: base: {e}") from None
        grid = axes(spec.grid, f"{spec.path}: grid")
        cells = product(grid)
        tuned = [(n, o) for n, o, _ in product(axes(spec.tuned_equal,
                                                    f"{spec.path}: tuned_equal"))] \
            if spec.tuned_equal else []
        plan = cls(spec, output, base_sets, base, grid, [(n, o) for n, o, _ in cells],
                   {n: labels for n, _, labels in cells}, tuned)
        plan.runs = plan._runs()
        return plan

    def data_groups(self):
        """{data group label: the `data.` overrides that define it}, one per distinct dataset."""
        groups = {}
        for _, overrides in self.cells:
            data = data_overrides(overrides)
            name = label(",".join(f"{k[5:]}={label(v)}" for k, v in data.items())) \
                if data else "base"
            groups.setdefault(name, data)
        return groups

    def group_of(self, overrides):
        data = data_overrides(overrides)
        return next(name for name, d in self.data_groups().items() if d == data)

    def pending(self):
        return [r for r in self.runs if not r.done]

    # -------------------------------------------------------------- planning
    def _runs(self):
        groups = self.data_groups()
        if self.tuned and len(groups) > 1:
            raise StudyError(f"{self.spec.path}: tuned_equal: the cells use {len(groups)} "
                             f"datasets ({', '.join(groups)}); a tuned baseline needs one")
        runs = []
        for seed in self.spec.seeds:
            if self.spec.single_task:
                runs += self._single_task_runs(seed, groups)
            for name, overrides in self.tuned:
                values = {"train.weighting": "static", **overrides}
                runs.append(StudyRun("tuned_equal", name, seed,
                                     os.path.join(self.output, "tuned_equal", name, f"seed{seed}"),
                                     self.config_for(f"tuned_equal {name}", values, seed), values))
            for name, overrides in self.cells:
                runs.append(StudyRun("cell", name, seed,
                                     os.path.join(self.output, "runs", name, f"seed{seed}"),
                                     self.config_for(f"cell {name}", overrides, seed), overrides,
                                     self.group_of(overrides)))
        self._check(runs)
        return runs

    def _single_task_runs(self, seed, groups):
        from training.baselines import baseline_config

        runs = []
        for group, overrides in groups.items():
            base = self.config_for(f"single-task baselines of {group}", overrides, seed)
            folder = os.path.join(self.output, "single_task",
                                  *([group] if len(groups) > 1 else []))
            for task in main_task_names(base):
                runs.append(StudyRun("single_task", task, seed,
                                     os.path.join(folder, task, f"seed{seed}"),
                                     baseline_config(base, task), overrides, group))
        return runs

    def config_for(self, where, overrides, seed):
        values = dict(overrides)
        values.update({k: seed for k in self.spec.seed_keys})
        try:
            return load_config(self.spec.base, self.base_sets, values=values)
        except ConfigError as e:
            raise StudyError(f"{self.spec.path}: {where}: {e}") from None

    def _check(self, runs):
        """Every run resolved against its dataset, and one task set for every cell."""
        from training.experiment import Experiment

        cell_tasks, seen = None, set()
        for run in runs:
            if (run.group, run.cell, run.data_group) in seen:
                continue  # another seed of a checked run
            seen.add((run.group, run.cell, run.data_group))
            try:
                Experiment(run.config)
            except (ValueError, KeyError) as e:
                raise StudyError(f"{self.spec.path}: {run.group} {run.cell}: {e}") from None
            if run.group != "cell":
                continue
            tasks = main_task_names(run.config)
            if cell_tasks is None:
                cell_tasks = tasks
            elif tasks != cell_tasks:
                raise StudyError(f"{self.spec.path}: cell {run.cell}: tasks {tasks} differ from "
                                 f"the other cells' {cell_tasks}; a study compares one task set")


def main_task_names(config):
    """The main (not auxiliary) tasks a run of `config` trains."""
    aux = set(config.data.auxiliary_tasks)
    if config.data.tasks:
        return [t for t in config.data.tasks if t not in aux]
    import data
    from data.mixture import Mixture
    every = Mixture.from_config(config.data, data.get_dataset).tasks
    return [t.name for t in every if t.name not in aux]
