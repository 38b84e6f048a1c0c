"""A grid of settings: axes (a config key and its values, or labels -> overrides) and their
product, named by file-name-safe labels. A study's `grid`, `tuned_equal` and `tune.grid`
are read this way.

Example:
>>> from training.study.grid import axes, product
>>> grid = axes({"model.architecture": ["mmoe", "ple"], "train.seed": [1]}, "grid")
>>> [(name, overrides) for name, overrides, _ in product(grid)]
[('mmoe-1', {'model.architecture': 'mmoe', 'train.seed': 1}), ('ple-1', {'model.architecture': 'ple', 'train.seed': 1})]
"""

import itertools
import re

from training.study.spec import StudyError


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
