"""Every contender tuned with the same budget (`tune:` in a study file), each selected on
the validation split.

Without `tune:` every cell trains at the base experiment's one setting while the
`tuned_equal` baseline gets a grid: an unequal contest. With it, every contender (each
cell of `grid`, each single-task baseline, and `tuned_equal`) is trained at every
setting of the same budget with every seed, and each contender's setting is selected
on its own validation metrics; only the selected setting's test metrics enter the
leaderboard (Xin et al., NeurIPS 2022; Kurin et al., NeurIPS 2022: compare methods
each tuned with the same budget).

```yaml
tune:
  grid:                         # axis -> values (or label -> overrides), as `grid:`
    train.learning_rate: [0.0005, 0.001, 0.002]
  budget: 3                     # settings per contender (optional; default the grid's size)
  pilot_seeds: 1                # tune on the first seed(s) only (optional; default: every seed)
```

Semantics:

- **budget** = the number of settings each contender is trained at (each with every
  seed). The product of `tune.grid` must have exactly `budget` settings, and a
  `tuned_equal` baseline exactly `budget` settings too (its grid's product, or a
  search's `trials`): a study whose contenders would get different budgets is a study
  file error naming the key (`config error: ...: tune.budget: ...`, exit 2).
- **settings**: a setting's overrides apply on top of the cell's; a key of `tune.grid`
  may not also be set by a `grid` axis (the cell's value would be overwritten).
  A single-task baseline is tuned over the same settings.
- **selection**, per contender, on the validation split only (`select`): the setting
  with the best mean over seeds of its validation score: Δm against the single-task
  models' validation metrics (their own selected setting, same seed) when the study
  has them, else the mean primary metric, sign-adjusted (a single-task baseline: its
  task's primary metric). A run that failed or diverged counts with no score; a
  setting with no finished seed cannot be selected. Test metrics are never read to
  select; they are read only for the selected setting, for the leaderboard.
- **runs**: `<output>/runs/<cell>/<setting>/seed<k>`,
  `<output>/single_task/<task>/<setting>/seed<k>` (`tuned_equal/<setting>/seed<k>` as
  before), each an ordinary run dir; in the storage, one trial per run, the setting a
  parameter (`setting`); with `one_graph: true` each setting's seeds are one group.
- **pilot_seeds** = K (optional; 1 <= K < the study's seed count): every contender is
  trained at every setting with the study's first K seeds only (the pilot, in `seeds`
  order), its setting is selected on those K seeds' validation metrics alone (the
  single-task references too: their own setting selected on the same K seeds), and the
  other seeds train only the selected setting. Runs: (K x budget + the other seeds) per
  contender instead of seeds x budget, at the cost of a noisier selection (a mean over K
  seeds). The selection is made once the contender's pilot runs and those of the
  single-task models it is scored against have finished (a failed run counts with no
  score), and recorded in the contender's folder (`runs/<cell>/selection.json`,
  `single_task/<task>/selection.json`, `tuned_equal/selection.json`; the first worker to
  write it wins, so every worker and later invocation trains the same setting); the run
  dirs are those of the full design (`training/study/pilot.py`).
- Early stopping and convergence come from the base experiment: `set:
  [train.epochs=12, train.early_stopping_patience=2]` trains at most 12 epochs and
  stops once `train.monitor` has not improved for 2; the test metrics are those of the
  best validation epoch's weights (`best.keras`).
- Not combined with `grouping:` (the grouping stage trains at the base setting).

Example:
>>> from training.study.tuning import Tune, select
>>> tune = Tune.parse({"grid": {"train.learning_rate": [0.001, 0.003]}, "budget": 2}, "tune")
>>> tune.labels(), tune.budget
(['0.001', '0.003'], 2)
>>> Tune.parse({"grid": {"train.learning_rate": [0.001, 0.003]}, "budget": 1}, "f.yaml: tune")
Traceback (most recent call last):
...
training.study.spec.StudyError: f.yaml: tune.budget: 1 setting(s) per contender, but tune.grid has 2 (train.learning_rate: 2); give the grid exactly the budget
>>> from tasks import Task
>>> tasks, primary = [Task("y", "regression")], {"y": ("rmse", False)}
>>> runs = {"0.001": {0: {"y": {"rmse": 1.0}}, 1: {"y": {"rmse": 1.2}}},
...         "0.003": {0: {"y": {"rmse": 0.9}}, 1: None}}
>>> choice = select(runs, tasks, primary)
>>> choice["selected"], choice["seeds"]
('0.003', {'0.001': 2, '0.003': 1})

With a pilot, the first seeds of the study (here 1 of 3) train every setting:
>>> tune = Tune.parse({"grid": {"train.learning_rate": [0.001, 0.003]}, "pilot_seeds": 1}, "t")
>>> tune.pilot_seeds([4, 5, 6])
[4]
>>> Tune.parse({"grid": {"train.learning_rate": [0.001]}, "pilot_seeds": 0}, "f.yaml: tune")
Traceback (most recent call last):
...
training.study.spec.StudyError: f.yaml: tune.pilot_seeds: expected a count of seeds, got 0; valid: 1 to the study's seed count minus 1
"""

import dataclasses
import math

from training.baselines import delta_m
from training.study.grid import axes, product
from training.study.spec import StudyError

KEYS = ("grid", "budget", "pilot_seeds")


@dataclasses.dataclass
class Tune:
    """The settings every contender is trained at: [(label, {config key: value})]."""

    settings: list
    budget: int
    pilot: int = None   # the seeds of the pilot (the study's first ones); None: every seed

    @classmethod
    def parse(cls, raw, where):
        if not isinstance(raw, dict):
            raise StudyError(f"{where}: expected a mapping with {', '.join(KEYS)}")
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:
            raise StudyError(f"{where}: unknown key(s) {unknown}; valid keys: {', '.join(KEYS)}")
        if not isinstance(raw.get("grid"), dict) or not raw["grid"]:
            raise StudyError(f"{where}.grid: required, a mapping axis -> values (as `grid:`), "
                             f"e.g. {{train.learning_rate: [0.001, 0.003]}}")
        grid = axes(raw["grid"], f"{where}.grid")
        settings = [(name, overrides) for name, overrides, _ in product(grid)]
        budget = raw.get("budget", len(settings))
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
            raise StudyError(f"{where}.budget: expected a count >= 1 (settings per "
                             f"contender), got {budget!r}")
        if budget != len(settings):
            sizes = ", ".join(f"{axis}: {len(options)}" for axis, options in grid)
            raise StudyError(f"{where}.budget: {budget} setting(s) per contender, but "
                             f"tune.grid has {len(settings)} ({sizes}); give the grid exactly "
                             f"the budget")
        pilot = raw.get("pilot_seeds")
        if pilot is not None and (isinstance(pilot, bool) or not isinstance(pilot, int)
                                  or pilot < 1):
            raise StudyError(f"{where}.pilot_seeds: expected a count of seeds, got {pilot!r}; "
                             f"valid: 1 to the study's seed count minus 1")
        return cls(settings, budget, pilot)

    def labels(self):
        return [name for name, _ in self.settings]

    def pilot_seeds(self, seeds):
        """The seeds every setting is trained with: the pilot's (the first `pilot` of
        `seeds`), or all of them."""
        return list(seeds) if self.pilot is None else list(seeds)[:self.pilot]

    def keys(self):
        return sorted({k for _, overrides in self.settings for k in overrides})

    def check(self, spec, cells, tuned_count):
        """The study's contenders can all get this budget: no grid axis sets a tuned key,
        `tuned_equal` has `budget` settings, no grouping stage, a pilot of fewer seeds than
        the study's."""
        where = f"{spec.path}: tune"
        seeds = len(spec.seeds)
        if self.pilot is not None and self.pilot >= seeds:
            valid = f"1 to {seeds - 1}" if seeds > 1 else "none (the study has 1 seed; give " \
                "it more seeds or drop pilot_seeds)"
            raise StudyError(f"{where}.pilot_seeds: {self.pilot}, but the pilot must leave "
                             f"seeds to train the selected setting on (the study has {seeds}); "
                             f"valid: {valid}")
        for name, overrides in cells:
            both = sorted(set(overrides) & set(self.keys()))
            if both:
                raise StudyError(f"{where}.grid: {', '.join(both)} is also set by the cell "
                                 f"{name}; tune a key or vary it in `grid`, not both")
        if spec.tuned_equal and tuned_count != self.budget:
            key = "trials" if isinstance(spec.tuned_equal, dict) and \
                "search" in spec.tuned_equal else "grid"
            raise StudyError(f"{spec.path}: tuned_equal: {tuned_count} setting(s) (its {key}), "
                             f"but every contender is tuned with tune.budget = {self.budget}; "
                             f"give tuned_equal exactly {self.budget} settings")
        if spec.grouping is not None:
            raise StudyError(f"{where}: not combined with grouping: (the grouping stage "
                             "trains at the base setting); valid: one of them")


def select(runs, tasks, primary, reference=None):
    """The setting with the best mean validation score over its seeds.

    Args:
        runs: {setting: {seed: validation metrics {task: {metric: value}}, or None}}. Only
            validation metrics: selection never sees a test metric.
        tasks: the tasks scored (a single-task baseline: its one task).
        primary: {task: (metric, higher_is_better)}.
        reference: {seed: the single-task models' validation metrics}, or None. A seed
            with a reference for every task is scored by Δm against it, else by the
            mean primary metric, sign-adjusted.

    Returns {"scores": {setting: mean score}, "seeds": {setting: seeds scored},
    "selected": setting or None}.
    """
    scores, seeds = {}, {}
    for label, by_seed in runs.items():
        values = []
        for seed, validation in by_seed.items():
            if not validation:
                continue
            ref = (reference or {}).get(seed)
            if ref and all(t.name in ref for t in tasks):
                value = delta_m(validation, ref, tasks, primary)["delta_m"]
            else:
                value = validation_score(validation, tasks, primary)
            if value is not None and math.isfinite(value):
                values.append(value)
        if values:
            scores[label], seeds[label] = sum(values) / len(values), len(values)
    return {"scores": scores, "seeds": seeds,
            "selected": max(scores, key=scores.get) if scores else None}


def validation_score(validation, tasks, primary):
    """The mean primary metric over `tasks`, sign-adjusted (higher is better): the selection
    score without single-task models, and the value a trial reports to the storage."""
    return sum((1 if primary[t.name][1] else -1) * validation[t.name][primary[t.name][0]]
               for t in tasks) / len(tasks)
