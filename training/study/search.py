"""A tuning search: settings drawn by Optuna's TPE sampler over a space, a fixed budget of them.

Where a study asks for tuning by search instead of a grid (`tuned_equal` with `search: tpe`),
each setting is one Optuna trial of the search's own study in the storage
(`<study name>:tuned_equal`): the sampler draws the setting when a worker takes the
trial (TPE's `constant_liar`, so workers running at once do not draw the same point), the
setting is trained with every seed of the study, and the trial's value is the
setting's validation score. The budget is exact: the trials are queued up front and each
is taken by one worker.

```yaml
tuned_equal:
  search: tpe
  trials: 8                  # settings drawn (each trained with every seed)
  space:
    train.learning_rate: {low: 0.0003, high: 0.01, log: true}   # float (int: integer bounds)
    train.batch_size: {low: 32, high: 256, step: 32}
    train.task_weights: [{}, {left: 2.0}]                        # a choice among values
  seed: 0                    # the sampler's seed (optional)
  startup: 3                 # random settings before TPE models (optional; default trials // 3)
```

The same class serves any search over a cell's settings with a budget (a per-cell tuning
is a `Search` per cell, each with its own study in the storage).

Example:
>>> from training.study.search import Search
>>> s = Search.parse({"search": "tpe", "trials": 4,
...                   "space": {"train.learning_rate": {"low": 0.001, "high": 0.1, "log": True},
...                             "train.task_weights": [{}, {"left": 2.0}]}}, "tuned_equal")
>>> s.trials, s.startup, [sorted(c) for c in s.corners()][:1]
(4, 1, [['train.learning_rate', 'train.task_weights']])
>>> Search.parse({"search": "grid"}, "tuned_equal")
Traceback (most recent call last):
...
training.study.spec.StudyError: tuned_equal.search: unknown sampler 'grid'; valid: tpe (a grid is a mapping axis -> values, without `search`)
"""

import dataclasses
import json

from training.study.spec import StudyError

SAMPLERS = ("tpe",)
KEYS = ("search", "trials", "space", "seed", "startup")


@dataclasses.dataclass
class Dimension:
    """One key of a search space: a float or int range, or a choice among values."""

    key: str
    low: float = None
    high: float = None
    log: bool = False
    step: float = None
    values: list = None     # a choice (values of any YAML type)

    def draw(self, trial):
        """The config value `trial` (an `optuna.Trial`) draws, recorded as its parameter."""
        if self.values is not None:
            # Optuna's choices are plain scalars: each value as its JSON text (exact, reversible).
            labels = [json.dumps(v, sort_keys=True) for v in self.values]
            return self.values[labels.index(trial.suggest_categorical(self.key, labels))]
        if isinstance(self.low, int) and isinstance(self.high, int) and \
                (self.step is None or isinstance(self.step, int)):
            return trial.suggest_int(self.key, self.low, self.high, step=self.step or 1,
                                     log=self.log)
        return trial.suggest_float(self.key, float(self.low), float(self.high), step=self.step,
                                   log=self.log)

    def ends(self):
        return list(self.values) if self.values is not None else [self.low, self.high]


@dataclasses.dataclass
class Search:
    """A budget of `trials` settings drawn by `sampler` from `space`."""

    name: str
    trials: int
    space: list          # [Dimension]
    sampler_name: str = "tpe"
    seed: int = 0
    startup: int = 1

    @staticmethod
    def wanted(raw):
        """Whether a `tuned_equal`-like mapping asks for a search (else it is a grid)."""
        return isinstance(raw, dict) and "search" in raw

    @classmethod
    def parse(cls, raw, where):
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:
            raise StudyError(f"{where}: unknown key(s) {unknown}; valid keys: {', '.join(KEYS)}")
        if raw.get("search") not in SAMPLERS:
            raise StudyError(f"{where}.search: unknown sampler {raw.get('search')!r}; valid: "
                             f"{', '.join(SAMPLERS)} (a grid is a mapping axis -> values, "
                             f"without `search`)")
        trials = raw.get("trials")
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
            raise StudyError(f"{where}.trials: expected a count >= 1, got {trials!r}")
        space = raw.get("space")
        if not isinstance(space, dict) or not space:
            raise StudyError(f"{where}.space: expected a mapping config key -> "
                             f"{{low, high[, log, step]}} or a list of values")
        dims = [_dimension(key, value, f"{where}.space.{key}") for key, value in space.items()]
        startup = raw.get("startup", max(1, trials // 3))
        for key, value in (("seed", raw.get("seed", 0)), ("startup", startup)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise StudyError(f"{where}.{key}: expected an integer >= 0, got {value!r}")
        return cls(where.split(":")[-1].strip(), trials, dims, raw["search"],
                   raw.get("seed", 0), startup)

    def labels(self):
        """The settings' names (and folders): tpe000, tpe001, ..."""
        return [f"{self.sampler_name}{i:03d}" for i in range(self.trials)]

    def sampler(self):
        import optuna
        return optuna.samplers.TPESampler(seed=self.seed, n_startup_trials=self.startup,
                                          constant_liar=True)

    def suggest(self, trial):
        """{config key: value} drawn for `trial` (an `optuna.Trial`); stored as its params."""
        return {d.key: d.draw(trial) for d in self.space}

    def params(self, overrides):
        """The trial parameters of drawn `overrides` (to queue a setting again as it was)."""
        return {d.key: json.dumps(overrides[d.key], sort_keys=True) if d.values is not None
                else overrides[d.key] for d in self.space if d.key in overrides}

    def corners(self):
        """Settings at the ends of every dimension: the configs checked before any run."""
        longest = max(len(d.ends()) for d in self.space)
        return [{d.key: d.ends()[min(i, len(d.ends()) - 1)] for d in self.space}
                for i in range(longest)]


def _dimension(key, value, where):
    if isinstance(value, list):
        if not value:
            raise StudyError(f"{where}: a choice needs at least one value")
        return Dimension(key, values=list(value))
    if not isinstance(value, dict) or set(value) - {"low", "high", "log", "step"} or \
            not {"low", "high"} <= set(value):
        raise StudyError(f"{where}: expected {{low, high[, log, step]}} or a list of values, "
                         f"got {value!r}")
    low, high = value["low"], value["high"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)) \
            or not low < high:
        raise StudyError(f"{where}: low and high must be numbers with low < high, got "
                         f"{low!r}, {high!r}")
    if value.get("log") and low <= 0:
        raise StudyError(f"{where}: a log range needs low > 0, got {low!r}")
    if value.get("log") and value.get("step") is not None:
        raise StudyError(f"{where}: give log or step, not both")
    return Dimension(key, low, high, bool(value.get("log", False)), value.get("step"))
