"""What a study is, as its storage keeps it: the study file's keys, the resolved base config and
the list of run keys (a grouping stage's runs stand in it as its `grouping:` section: the
group runs it adds depend on what its affinity runs measure). A worker whose study file
differs from the one its storage was planned from is refused, naming the first difference.

Example:
>>> from training.study.identity import difference
>>> stored = {"seeds": [0, 1, 2], "base": {"train": {"epochs": 2}}, "units": ["a", "b"]}
>>> print(difference(stored, dict(stored, seeds=[0, 1])))
seeds: [0, 1, 2] in the storage, [0, 1] here
>>> print(difference(stored, dict(stored, base={"train": {"epochs": 3}})))
base config train.epochs: 2 in the storage, 3 here
>>> difference(stored, stored) is None
True
"""

import json

KEYS = ("name", "set", "seeds", "seed_keys", "grid", "single_task", "tuned_equal", "tune",
        "grouping", "base", "units")


def identity(plan, units):
    """The JSON-plain identity of a planned study and its run keys."""
    spec = plan.spec
    raw = {"name": spec.name, "set": list(plan.base_sets), "seeds": list(spec.seeds),
           "seed_keys": list(spec.seed_keys), "grid": spec.grid, "single_task": spec.single_task,
           "tuned_equal": spec.tuned_equal, "tune": getattr(spec, "tune", None),
           "grouping": spec.grouping.to_dict() if getattr(spec, "grouping", None) else None,
           "base": plan.base.to_dict(),
           "units": sorted(units)}
    return json.loads(json.dumps(raw, default=str))


def difference(stored, mine):
    """The first difference between two identities, as a sentence; None when equal."""
    for key in KEYS:
        a, b = stored.get(key), mine.get(key)
        if a == b:
            continue
        if key == "base":
            path, x, y = _first(a or {}, b or {})
            return f"base config {path}: {_short(x)} in the storage, {_short(y)} here"
        if key == "units":
            only_there = sorted(set(a or ()) - set(b or ()))
            only_here = sorted(set(b or ()) - set(a or ()))
            return (f"runs: {len(a or ())} in the storage, {len(b or ())} here (only in the "
                    f"storage: {_short(only_there[:3])}; only here: {_short(only_here[:3])})")
        return f"{key}: {_short(a)} in the storage, {_short(b)} here"
    return None


def _first(a, b, prefix=""):
    """(dotted key, value in a, value in b) of the first difference of two nested dicts."""
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        if isinstance(x, dict) and isinstance(y, dict):
            return _first(x, y, f"{prefix}{key}.")
        return f"{prefix}{key}", x, y
    return prefix.rstrip("."), a, b


def _short(value, limit=160):
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
