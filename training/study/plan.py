"""A study's runs: the grid's cells times the seeds, the single-task baselines and the tuned
equal-weighting settings (with `tune`, the cells and baselines times its settings), each an
experiment config checked before any run starts.

With `tune.pilot_seeds`, the seeds after the pilot's get one run per contender whose
setting (and so its run dir and config) is unknown until the pilot selects it: planned
with `run_dir` and `config` None (`StudyRun.waiting`), as a searched setting's runs have
config None until drawn, and filled by `Plan.choose` (which records the selection in the
contender's folder, `selection.json`) or, for a selection recorded by another worker or
invocation, by `Plan.refresh`.

Every run's config is the base config with the cell's overrides and the seed, loaded
by `load_config` (so grid values are checked against the same declarations as a
config file's) and resolved against its dataset (`Experiment`: task weights, the
monitored metric, loss options); a bad value names the cell and the key.

The grid's axes and their product: `training/study/grid.py`.

Example:
>>> from training.study.plan import data_overrides
>>> data_overrides({"data.options.correlation": 0.5, "data.tasks": ["a"], "train.seed": 1})
{'data.options.correlation': 0.5}
"""

import dataclasses
import json
import os
import threading

from training.config import ConfigError, load_config
from training.study.grid import axes, label, product
from training.study.search import Search
from training.study.spec import StudyError
from training.study.tuning import Tune


@dataclasses.dataclass
class StudyRun:
    """One training run of a study."""

    group: str          # "cell", "single_task" or "tuned_equal"
    cell: str           # the cell's name, the task (single_task) or the setting's label
    seed: int
    run_dir: str
    config: object      # training.config.Config
    overrides: dict     # None: a searched setting not drawn yet (and config None too)
    data_group: str = "base"   # cells with the same `data` section share single-task baselines
    unit: str = ""      # the unit of work (one storage trial): the run dir under the study
                        # dir, or a searched setting's folder (all its seeds)
    setting: str = ""   # the `tune` setting's label ("": the study has no `tune`)
    contender: str = "" # the folder (under the study dir) of the contender it belongs to
    after_pilot: bool = False   # a seed after `tune.pilot_seeds`: trains the pilot's selection

    @property
    def title(self):
        """What the log calls it: group, cell and (with `tune`) setting."""
        return f"{self.group} {self.cell}" + (f" setting {self.setting}" if self.setting else "")

    @property
    def waiting(self):
        """Whether it waits for its contender's selection on the pilot (no run dir yet)."""
        return self.run_dir is None

    @property
    def done(self):
        return not self.waiting and os.path.exists(os.path.join(self.run_dir, "metrics.json"))



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
    tuned: list         # [(label, overrides)]; a searched setting's are None until drawn
    runs: list = dataclasses.field(default_factory=list)
    search: object = None   # a Search when `tuned_equal` asks for one (else a grid)
    tune: object = None     # a Tune: every contender's settings (None: one, the base's)
    selections: dict = dataclasses.field(default_factory=dict)  # {contender: its pilot's}

    @classmethod
    def make(cls, spec, output, sets=()):
        base_sets = list(spec.set) + list(sets)
        try:
            base = load_config(spec.base, base_sets)
        except ConfigError as e:
            raise StudyError(f"{spec.path}: base: {e}") from None
        grid = axes(spec.grid, f"{spec.path}: grid")
        cells = product(grid)
        search = None
        if Search.wanted(spec.tuned_equal):
            search = Search.parse(spec.tuned_equal, f"{spec.path}: tuned_equal")
            tuned = [(name, read_setting(output, name)) for name in search.labels()]
        elif spec.tuned_equal:
            tuned = [(n, o) for n, o, _ in product(axes(spec.tuned_equal,
                                                        f"{spec.path}: tuned_equal"))]
        else:
            tuned = []
        tune = None
        if spec.tune is not None:
            tune = Tune.parse(spec.tune, f"{spec.path}: tune")
            tune.check(spec, [(n, o) for n, o, _ in cells],
                       search.trials if search else len(tuned))
        plan = cls(spec, output, base_sets, base, grid, [(n, o) for n, o, _ in cells],
                   {n: labels for n, _, labels in cells}, tuned, search=search, tune=tune)
        plan.runs = plan._runs()
        plan.refresh()
        return plan

    def units(self, waiting=False):
        """{unit key: [its runs]} in the order the runs are planned; the runs waiting for
        the pilot's selection (which cannot be queued yet) only with `waiting`."""
        out = {}
        for run in self.runs:
            if waiting or not run.waiting:
                out.setdefault(run.unit, []).append(run)
        return out

    def pilot_seeds(self):
        """The seeds every setting is trained with (`tune.pilot_seeds`'s; else every seed)."""
        return self.tune.pilot_seeds(self.spec.seeds) if self.tune else list(self.spec.seeds)

    def refresh(self):
        """Takes in the searched settings drawn and the selections recorded since planning
        (by other workers or invocations)."""
        for name, overrides in list(self.tuned):
            drawn = read_setting(self.output, name) if self.search and overrides is None \
                else None
            if drawn is not None:
                self.draw(name, drawn, write=False)
        for contender in dict.fromkeys(r.contender for r in self.runs if r.after_pilot
                                       and r.contender not in self.selections):
            recorded = read_selection(self.output, contender)
            if recorded is not None:
                self.choose(contender, recorded, write=False)

    def choose(self, contender, selection, write=True):
        """Gives the runs of `contender` (its folder under the study dir) after the pilot
        the setting `selection["selected"]`: their run dirs and configs. With `write`, first
        records `selection` in `<contender>/selection.json` unless another worker recorded
        one before (the first one holds, so every worker trains the same setting); returns
        the selection that holds."""
        if write:
            selection = write_selection(self.output, contender, selection)
        self.selections[contender] = selection
        for i, run in enumerate(self.runs):
            if run.after_pilot and run.contender == contender and run.waiting:
                chosen = self._setting_run(run, selection["selected"])
                self.runs[i] = dataclasses.replace(chosen, unit=run.unit, after_pilot=True)
        return selection

    def _setting_run(self, run, label):
        """The run of `run`'s contender and seed at the setting `label`."""
        if run.group == "tuned_equal":
            overrides = dict(self.tuned).get(label) or read_setting(self.output, label)
            return self._tuned_run(label, overrides, run.seed)
        values = dict(self.settings())[label]
        if run.group == "cell":
            return self._cell_run(run.cell, run.overrides, run.seed, label, values)
        base = self._single_task_base(run.data_group, run.overrides, label, values, run.seed)
        return self._single_task_run(base, run.data_group, run.overrides, run.cell, run.seed,
                                     label)

    def contender_folder(self, group, name, data_group=""):
        """The folder (under the study dir) of a contender: `runs/<cell>`,
        `single_task/[<data group>/]<task>` or `tuned_equal`."""
        if group == "single_task":
            many = len(self.data_groups()) > 1
            return os.path.join("single_task", *([data_group] if many else []), name)
        return "tuned_equal" if group == "tuned_equal" else os.path.join("runs", name)

    def draw(self, name, overrides, write=True):
        """Gives the searched setting `name` its drawn `overrides`: its runs get their configs
        and `tuned_equal/<name>/setting.json` records them for later invocations."""
        runs = [r for r in self.runs if r.group == "tuned_equal" and r.cell == name
                and not r.after_pilot]  # (the seeds after a pilot: their own units)
        values = {"train.weighting": "static", **overrides}
        for run in runs:
            run.config = self.config_for(f"tuned_equal {name}", values, run.seed)
            run.overrides = values
        self.tuned = [(n, overrides if n == name else o) for n, o in self.tuned]
        if not write:
            return runs
        path = os.path.join(self.output, "tuned_equal", name, SETTING)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(f"{path}.{os.getpid()}.tmp", "w") as f:  # (one worker draws a setting)
            json.dump({"overrides": overrides}, f, indent=1)
        os.replace(f"{path}.{os.getpid()}.tmp", path)
        return runs

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
        runs, pilot = [], self.pilot_seeds()
        for seed in self.spec.seeds:
            if seed not in pilot:
                runs += self._after_pilot(runs, seed)
                continue
            if self.spec.single_task:
                runs += self._single_task_runs(seed, groups)
            runs += [self._tuned_run(name, overrides, seed) for name, overrides in self.tuned]
            runs += [self._cell_run(name, overrides, seed, setting, values)
                     for name, overrides in self.cells for setting, values in self.settings()]
        self._check(runs)
        if self.search:  # the search's ends, as configs, before any setting is drawn
            for i, corner in enumerate(self.search.corners()):
                self._check_config(f"tuned_equal search (end {i + 1} of its space)",
                                   {"train.weighting": "static", **corner})
        return runs

    def settings(self):
        """[(label, overrides)] every contender is trained at: `tune`'s, or the base's."""
        return self.tune.settings if self.tune else [("", {})]

    def _after_pilot(self, runs, seed):
        """`seed`'s run of every contender planned in `runs`, waiting for its selection."""
        out, seen = [], set()
        for run in runs:
            if run.contender not in seen:
                seen.add(run.contender)
                out.append(StudyRun(run.group, None if run.group == "tuned_equal" else run.cell,
                                    seed, None, None, None if run.group == "tuned_equal" else
                                    run.overrides, run.data_group, setting=None,
                                    unit=os.path.join(run.contender, f"seed{seed}"),
                                    contender=run.contender, after_pilot=True))
        return out

    def _tuned_run(self, name, overrides, seed):
        values = None if overrides is None else {"train.weighting": "static", **overrides}
        unit = os.path.join("tuned_equal", name, *([] if self.search else [f"seed{seed}"]))
        return StudyRun("tuned_equal", name, seed,
                        os.path.join(self.output, "tuned_equal", name, f"seed{seed}"),
                        None if values is None else
                        self.config_for(f"tuned_equal {name}", values, seed), values,
                        unit=unit, contender="tuned_equal")

    def _cell_run(self, name, overrides, seed, setting, values):
        unit = os.path.join("runs", name, *([setting] if setting else []), f"seed{seed}")
        where = f"cell {name}" + (f" setting {setting}" if setting else "")
        return StudyRun("cell", name, seed, os.path.join(self.output, unit),
                        self.config_for(where, {**overrides, **values}, seed), overrides,
                        self.group_of(overrides), unit=unit, setting=setting,
                        contender=self.contender_folder("cell", name))

    def _single_task_runs(self, seed, groups):
        runs = []
        for group, overrides in groups.items():
            for setting, values in self.settings():
                base = self._single_task_base(group, overrides, setting, values, seed)
                runs += [self._single_task_run(base, group, overrides, task, seed, setting)
                         for task in main_task_names(base)]
        return runs

    def _single_task_base(self, group, overrides, setting, values, seed):
        """The config of `group`'s cells at `setting`, from which each task's single-task
        baseline is made."""
        return self.config_for(f"single-task baselines of {group}"
                               + (f" setting {setting}" if setting else ""),
                               {**overrides, **values}, seed)

    def _single_task_run(self, base, group, overrides, task, seed, setting):
        from training.baselines import baseline_config

        contender = self.contender_folder("single_task", task, group)
        run_dir = os.path.join(self.output, contender, *([setting] if setting else []),
                               f"seed{seed}")
        return StudyRun("single_task", task, seed, run_dir, baseline_config(base, task),
                        overrides, group, unit=os.path.relpath(run_dir, self.output),
                        setting=setting, contender=contender)

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
            key = (run.group, run.cell, run.data_group, run.setting)
            if key in seen or run.config is None:
                continue  # another seed of a checked run, or a setting not drawn yet
            seen.add(key)
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


    def _check_config(self, where, values):
        from training.experiment import Experiment

        config = self.config_for(where, values, self.spec.seeds[0])
        try:
            Experiment(config)
        except (ValueError, KeyError) as e:
            raise StudyError(f"{self.spec.path}: {where}: {e}") from None


SETTING = "setting.json"
SELECTION = "selection.json"


def read_selection(output, contender):
    """The selection recorded for `contender` (its folder under the study dir), or None
    before its pilot is finished."""
    path = os.path.join(output, contender, SELECTION)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_selection(output, contender, selection):
    """Records `selection` unless one is recorded already; returns the recorded one.

    Written whole aside and linked in (atomic, and refused when the file exists): two
    workers selecting at once both read the first one's, so the runs after the pilot of a
    contender are trained at one setting whatever the timing."""
    path = os.path.join(output, contender, SELECTION)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(temporary, "w") as f:
        json.dump(selection, f, indent=1)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: move it in if still missing
        if not os.path.exists(path):
            os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return read_selection(output, contender)


def read_setting(output, name):
    """The overrides drawn for the searched setting `name`, or None before it is drawn."""
    path = os.path.join(output, "tuned_equal", name, SETTING)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)["overrides"]


def main_task_names(config):
    """The main (not auxiliary) tasks a run of `config` trains."""
    aux = set(config.data.auxiliary_tasks)
    if config.data.tasks:
        return [t for t in config.data.tasks if t not in aux]
    import data
    from data.mixture import Mixture
    every = Mixture.from_config(config.data, data.get_dataset).tasks
    return [t.name for t in every if t.name not in aux]
