"""The MMoE paper's synthetic protocol, as a study file (`protocol: mmoe_paper`), read and
checked: `ProtocolSpec`.

| key              | meaning                                                          |
|------------------|------------------------------------------------------------------|
| `base`, `set`    | the experiment every run starts from (`configs/*.yaml`), overrides |
| `models`         | label -> config overrides (the architectures compared)           |
| `correlations`   | task correlations p (`data.options.correlation`)                 |
| `sines`          | label -> data overrides (the sine settings)                      |
| `learning_rates` | the grid each model and correlation picks from on the pilot      |
| `runs`           | runs per model, correlation and sine setting (seeds 0..runs-1)   |
| `pilot_runs`     | pilot runs per learning rate (seeds `pilot_seed`...)             |
| `pilot_seed`     | first pilot seed (disjoint from the runs' seeds)                 |
| `steps`          | training steps of every run                                      |
| `record_every`   | steps between two recorded losses                                |
| `replicas`       | runs per graph (memory: each holds its own data)                 |

Run r of every model, correlation and sine setting uses seed r for its weights, its
data order and its data (`train.seed`, `data.options.seed`): the same u1, u2, inputs
and noise for every model (paired).

Example:
>>> spec = ProtocolSpec.read("configs/studies/mmoe_paper.yaml")
>>> spec.learning_rates, spec.correlations, sorted(spec.models)
([0.0001, 0.001, 0.01], [0.5, 0.9, 1.0], ['mmoe', 'omoe', 'shared_bottom'])
>>> spec.config("mmoe", 0.9, "reference", 0.001, seed=3).data.options["seed"]
3
"""

import dataclasses
import os
from typing import List

from training.config import ConfigError, load_config
from training.study.spec import REPO, StudyError, _load

INTS = ("runs", "pilot_runs", "pilot_seed", "steps", "record_every", "replicas")
KEYS = ("protocol", "name", "base", "set", "models", "correlations", "sines",
        "learning_rates") + INTS


@dataclasses.dataclass
class ProtocolSpec:
    """The keys of a `protocol: mmoe_paper` study file, checked (see the module docstring)."""

    path: str
    name: str
    base: str
    set: List[str]
    models: dict
    correlations: List[float]
    sines: dict
    learning_rates: List[float]
    runs: int
    pilot_runs: int
    pilot_seed: int
    steps: int
    record_every: int
    replicas: int

    @classmethod
    def read(cls, path):
        raw = _load(path, KEYS)
        for key in INTS:
            if not isinstance(raw.get(key), int) or isinstance(raw.get(key), bool) \
                    or raw[key] < (0 if key == "pilot_seed" else 1):
                raise StudyError(f"{path}: {key}: expected an integer >= "
                                 f"{0 if key == 'pilot_seed' else 1}, got {raw.get(key)!r}")
        for key in ("models", "sines"):
            if not isinstance(raw.get(key), dict) or not raw[key]:
                raise StudyError(f"{path}: {key}: expected a mapping label -> overrides")
        for key in ("correlations", "learning_rates"):
            if not isinstance(raw.get(key), list) or not raw[key]:
                raise StudyError(f"{path}: {key}: expected a list of numbers")
        _check_grid(path, raw)
        base = raw.get("base")
        if not isinstance(base, str):
            raise StudyError(f"{path}: base: required, the path of an experiment config")
        spec = cls(path=path, name=raw.get("name") or os.path.splitext(os.path.basename(path))[0],
                   base=base if os.path.exists(base) else os.path.join(REPO, base),
                   set=list(raw.get("set") or []), models=raw["models"],
                   correlations=[float(p) for p in raw["correlations"]], sines=raw["sines"],
                   learning_rates=[float(lr) for lr in raw["learning_rates"]],
                   **{k: raw[k] for k in INTS})
        spec.check()
        return spec

    def config(self, model, correlation, sines, learning_rate, seed):
        """The experiment config of one run."""
        values = {**self.models[model], **self.sines[sines],
                  "data.options.correlation": correlation, "train.learning_rate": learning_rate,
                  "train.seed": seed, "data.options.seed": seed}
        return load_config(self.base, self.set, values=values)

    def check(self):
        """Every model x sine setting's config loads and fits one graph (else StudyError)."""
        from training.replicas.support import config_unsupported

        for model in self.models:
            for sines in self.sines:
                where = f"{self.path}: models.{model} with sines.{sines}"
                try:
                    for p in self.correlations:
                        config = self.config(model, p, sines, self.learning_rates[0], 0)
                except (ConfigError, ValueError) as e:
                    raise StudyError(f"{where}: {e}") from None
                reason = config_unsupported(config)
                if reason:
                    raise StudyError(f"{where}: the protocol trains its runs in one graph; "
                                     f"not with {reason}")


MODELS = ("shared_bottom", "omoe", "mmoe")   # the claims compare these three labels


def _check_grid(path, raw):
    """The models the claims name, at least two correlations, positive learning rates."""
    missing = [m for m in MODELS if m not in raw["models"]]
    if missing:
        raise StudyError(f"{path}: models: the claims compare {', '.join(MODELS)}; missing "
                         f"{', '.join(missing)}")
    numbers = {key: raw[key] for key in ("correlations", "learning_rates")}
    for key, values in numbers.items():
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise StudyError(f"{path}: {key}: expected a list of numbers, got {values!r}")
    if len(set(numbers["correlations"])) < 2:
        raise StudyError(f"{path}: correlations: the claims need at least two distinct values")
    if min(numbers["learning_rates"]) <= 0:
        raise StudyError(f"{path}: learning_rates: every rate must be > 0")
