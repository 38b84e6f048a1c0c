"""Groupings for every budget of networks, with TAG's predicted gain, and random groupings.

`choose_groupings` runs the search of `training/grouping/search.py` for each budget k
(k networks; by default k = 1 .. number of tasks) and returns one `Grouping` per budget.
Its `score` is the predicted gain TAG ranks groupings by: the mean over tasks of the
affinity onto each task from its serving group, in units of relative loss decrease per
lookahead step; 0 is every task alone (the single-task networks), and
`gain_over_one_network` is the same against training every task in one network (k = 1).
A study trains each chosen grouping and compares the measured gain with these.

`method`: `exact` (branch-and-bound, equal to exhaustive search; up to
`MAX_EXACT_TASKS` tasks, `MAX_OVERLAP_TASKS` with `overlap`), `beam` (approximate,
partitions only) or `auto` (exact where the task count allows, else beam).

Example:
>>> import numpy as np
>>> from training.grouping.plan import choose_groupings
>>> z = np.array([[0.0, 0.5, -0.2], [0.4, 0.0, -0.3], [-0.1, -0.2, 0.0]])
>>> for g in choose_groupings(z, ["a", "b", "c"]):
...     print(g.budget, g.groups, round(g.score, 3))
1 (('a', 'b', 'c'),) 0.017
2 (('a', 'b'), ('c',)) 0.3
3 (('a',), ('b',), ('c',)) 0.0
"""

import dataclasses
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from training.grouping import search
from training.grouping.affinity import restrict

METHODS = ("auto", "exact", "beam")


@dataclasses.dataclass(frozen=True)
class Grouping:
    """The grouping chosen for one budget.

    Args:
        budget: int. The number of networks.
        groups: tuple of tuple of str. Each network's tasks (a task may be in several
            with `overlap`).
        serving: dict. Task -> index of the group whose network answers it.
        task_scores: dict. Task -> affinity onto it from its serving group.
        score: float. Mean of `task_scores` (TAG's objective; 0 = every task alone).
        gain_over_one_network: float. `score` minus the score of one network for all.
        method: str. `exact` or `beam`: how it was found.
    """

    budget: int
    groups: Tuple[Tuple[str, ...], ...]
    serving: Dict[str, int]
    task_scores: Dict[str, float]
    score: float
    gain_over_one_network: float
    method: str

    def to_dict(self):
        """JSON-ready."""
        out = dataclasses.asdict(self)
        out["groups"] = [list(g) for g in self.groups]
        return out


def check_budgets(budgets, count, key="grouping.budgets"):
    """The budgets as sorted distinct ints in 1..count (all of them when None)."""
    if budgets is None:
        return list(range(1, count + 1))
    bad = [b for b in budgets if isinstance(b, bool) or not isinstance(b, (int, np.integer))
           or not 1 <= b <= count]
    if bad or not budgets:
        raise ValueError(f"{key}: {bad or budgets} not a number of networks for {count} tasks; "
                         f"valid: integers 1..{count}")
    return sorted({int(b) for b in budgets})


def _search(z, k, overlap, method, beam_width):
    if overlap:
        if method == "beam":
            raise ValueError("grouping.method: beam search makes partitions only; valid with "
                             "grouping.overlap: exact, auto")
        return search.best_cover(z, k), "exact"
    if method == "exact" or (method == "auto" and len(z) <= search.MAX_EXACT_TASKS):
        return search.best_partition(z, k), "exact"
    return search.beam_partition(z, k, beam_width), "beam"


def choose_groupings(z, names, budgets=None, tasks=None, overlap=False, method="auto",
                     beam_width=64):
    """One `Grouping` per budget, best first by TAG's criterion within each budget.

    Args:
        z: array [T, T]. Affinity of task i onto task j (`read_affinity`).
        names: list of str. The tasks of z's rows and columns.
        budgets: list of int or None. Numbers of networks (default 1..T).
        tasks: list of str or None. Group only these tasks (default all of `names`).
        overlap: bool. Groups may share tasks (TAG's option).
        method: str. `auto`, `exact` or `beam`.
        beam_width: int. Partial groupings kept by the beam search.
    """
    if method not in METHODS:
        raise ValueError(f"grouping.method: unknown {method!r}; valid: {', '.join(METHODS)}")
    names, z = restrict(names, z, tasks)
    out = []
    one = float(search.member_scores(z, range(len(z))).mean())
    for k in check_budgets(budgets, len(names)):
        groups, how = _search(z, k, overlap, method, beam_width)
        _, best, serving = search.grouping_score(z, groups)
        out.append(Grouping(
            budget=k, groups=tuple(tuple(names[i] for i in g) for g in groups),
            serving={n: int(s) for n, s in zip(names, serving)},
            task_scores={n: float(b) for n, b in zip(names, best)},
            score=float(best.mean()), gain_over_one_network=float(best.mean()) - one,
            method=how))
    return out


def random_grouping(tasks: Sequence[str], k: int, rng: Optional[np.random.Generator] = None):
    """A random partition of `tasks` into exactly `k` non-empty groups (the baseline a
    chosen grouping of the same budget is compared with): a shuffled order cut at k - 1
    distinct random places, each group sorted by the tasks' order."""
    rng = rng or np.random.default_rng()
    tasks = list(tasks)
    k = int(k)
    if not 1 <= k <= len(tasks):
        raise ValueError(f"budget: {k} groups for {len(tasks)} tasks; valid: 1..{len(tasks)}")
    order = rng.permutation(len(tasks))
    cuts = np.sort(rng.choice(np.arange(1, len(tasks)), size=k - 1, replace=False))
    blocks = np.split(order, cuts)
    return tuple(sorted(tuple(tasks[i] for i in sorted(b)) for b in blocks))
