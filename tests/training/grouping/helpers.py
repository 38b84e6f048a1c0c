"""Brute-force references for the grouping search: every partition or cover, scored by the
definition written out directly (independent of `training/grouping/search.py`)."""

import itertools

import numpy as np


def score_of(z, groups):
    """Sum over tasks of the best mean affinity onto the task from its group's other
    members (0 alone); None when a task is in no group."""
    best = {}
    for group in groups:
        for j in group:
            others = [z[i][j] for i in group if i != j]
            s = sum(others) / len(others) if others else 0.0
            best[j] = max(best.get(j, -np.inf), s)
    return sum(best.values()) if len(best) == len(z) else None


def partitions(items, k):
    """Every partition of `items` into exactly k non-empty blocks."""
    if not items:
        if k == 0:
            yield []
        return
    first, rest = items[0], items[1:]
    for p in partitions(rest, k - 1):  # `first` alone
        yield [(first,)] + p
    for p in partitions(rest, k):  # `first` joins a block
        for b in range(len(p)):
            yield p[:b] + [tuple(sorted((first,) + p[b]))] + p[b + 1:]


def used(z, groups):
    """Every group is the best group of at least one of its members."""
    def member(g, j):
        others = [z[i][j] for i in g if i != j]
        return sum(others) / len(others) if others else 0.0
    best = {j: max(member(g, j) for g in groups if j in g) for g in groups for j in g}
    return all(any(member(g, j) >= best[j] - 1e-12 for j in g) for g in groups)


def brute_partition(z, k):
    """(best score, canonical groups) over every partition into k groups."""
    t = len(z)
    return max((score_of(z, p), canonical(p)) for p in partitions(list(range(t)), k))


def brute_cover(z, k):
    """(best score, canonical groups) over every k distinct subsets covering the tasks,
    each the best group of one of its members."""
    t = len(z)
    subsets = [c for size in range(1, t + 1) for c in itertools.combinations(range(t), size)]
    best = (-np.inf, None)
    for groups in itertools.combinations(subsets, k):
        s = score_of(z, groups)
        if s is not None and used(z, groups) and s > best[0]:
            best = (s, canonical(groups))
    return best


def canonical(groups):
    return tuple(sorted(tuple(sorted(g)) for g in groups))
