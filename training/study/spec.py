"""A study file, read and typed: `StudySpec`.

The keys (see `training/study/__init__.py` for what a study does with them):

| key           | type                                  | default                |
|---------------|---------------------------------------|------------------------|
| `name`        | string                                | the file name          |
| `base`        | path of an experiment config          | required               |
| `set`         | list of `key=value` overrides         | `[]`                   |
| `seeds`       | a count >= 1, or a list               | `3`                    |
| `seed_keys`   | config keys set to the seed           | `[train.seed]`         |
| `grid`        | axis -> values or labels              | none: one cell         |
| `single_task` | true or false                         | `true`                 |
| `tuned_equal` | axis -> values or labels              | none                   |
| `tune`        | mapping (`training/study/tuning.py`)  | none: one setting      |
| `one_graph`   | true or false                         | `false`                |
| `grouping`    | mapping (`training/grouping/spec.py`) | none: no task grouping |

Example:
>>> import tempfile
>>> from training.study.spec import StudySpec
>>> path = tempfile.mktemp(suffix=".yaml")
>>> _ = open(path, "w").write("base: configs/tiny.yaml\\nseeds: 2\\n")
>>> spec = StudySpec.read(path)
>>> spec.seeds, spec.seed_keys, spec.single_task
([0, 1], ['train.seed'], True)
>>> _ = open(path, "w").write("base: configs/tiny.yaml\\nseeds: 0\\n")
>>> StudySpec.read(path)
Traceback (most recent call last):
...
training.study.spec.StudyError: ...: seeds: expected a count >= 1 or a list of integers, got 0
"""

import dataclasses
import os
from typing import List, Optional

import yaml

from training.grouping.spec import GroupingSpec

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class StudyError(ValueError):
    """A problem in a study file (names the file and the key) or in its run dirs."""


@dataclasses.dataclass
class StudySpec:
    """The keys of a study file, checked (see the module docstring)."""

    path: str
    name: str
    base: str                        # resolved: as given, or relative to the repository
    set: List[str] = dataclasses.field(default_factory=list)
    seeds: List[int] = dataclasses.field(default_factory=lambda: [0, 1, 2])
    seed_keys: List[str] = dataclasses.field(default_factory=lambda: ["train.seed"])
    grid: Optional[dict] = None
    single_task: bool = True
    tuned_equal: Optional[dict] = None
    tune: Optional[dict] = None      # every contender's settings (training/study/tuning.py)
    one_graph: bool = False          # each cell's seeds as replicas of one graph
    grouping: Optional[GroupingSpec] = None

    @classmethod
    def read(cls, path):
        raw = _load(path)
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:
            raise StudyError(f"{path}: unknown key(s) {unknown}; valid keys: {', '.join(KEYS)}")
        base = raw.get("base")
        if not isinstance(base, str):
            raise StudyError(f"{path}: base: required, the path of an experiment config")
        sets = raw.get("set") or []
        if not isinstance(sets, list) or not all(isinstance(s, str) for s in sets):
            raise StudyError(f"{path}: set: expected a list of key=value strings")
        seed_keys = raw.get("seed_keys") or ["train.seed"]
        if not isinstance(seed_keys, list) or not all(isinstance(k, str) for k in seed_keys):
            raise StudyError(f"{path}: seed_keys: expected a list of config keys")
        single, one_graph = raw.get("single_task", True), raw.get("one_graph", False)
        for key, value in (("single_task", single), ("one_graph", one_graph)):
            if not isinstance(value, bool):
                raise StudyError(f"{path}: {key}: expected true or false, got {value!r}")
        return cls(path=path, name=raw.get("name") or os.path.splitext(os.path.basename(path))[0],
                   base=base if os.path.exists(base) else os.path.join(REPO, base), set=sets,
                   seeds=_seeds(raw.get("seeds", 3), path), seed_keys=list(seed_keys),
                   grid=raw.get("grid"), single_task=single, tuned_equal=raw.get("tuned_equal"),
                   tune=raw.get("tune"),
                   one_graph=one_graph, grouping=_grouping(raw, single, path))


KEYS = tuple(f.name for f in dataclasses.fields(StudySpec) if f.name != "path")


def _seeds(seeds, path):
    if isinstance(seeds, bool) or not (isinstance(seeds, int) and seeds >= 1 or (
            isinstance(seeds, list) and seeds and all(isinstance(s, int) for s in seeds))):
        raise StudyError(f"{path}: seeds: expected a count >= 1 or a list of integers, "
                         f"got {seeds!r}")
    return list(range(seeds)) if isinstance(seeds, int) else list(seeds)


def _grouping(raw, single_task, path):
    """The `grouping:` section checked (`GroupingSpec`), or None without one."""
    if "grouping" not in raw:
        return None
    if not single_task:
        raise StudyError(f"{path}: grouping: needs single_task: true (the single-task "
                         "networks are the grouping into T networks and the reference of Δm)")
    try:
        return GroupingSpec.read(raw["grouping"])
    except ValueError as e:
        raise StudyError(f"{path}: {e}") from None


def _load(path, keys=None):
    """The study file as a mapping; with `keys`, a key outside them is an error."""
    if not os.path.exists(path):
        raise StudyError(f"study file not found: {path}")
    with open(path) as f:
        try:
            raw = yaml.safe_load(f) or {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            at = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise StudyError(f"{path}{at}: invalid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(raw, dict):
        raise StudyError(f"{path}: a study must be a YAML mapping")
    unknown = sorted(set(raw) - set(keys or raw))
    if unknown:
        raise StudyError(f"{path}: unknown key(s) {unknown}; valid keys: {', '.join(keys)}")
    return raw
