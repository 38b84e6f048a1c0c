"""The network-selection search of TAG (Fifty et al., NeurIPS 2021) on an affinity matrix.

`z[i, j]` is the affinity of task i onto task j, in the orientation
`training/diagnostics.py` records it: the relative decrease of task j's loss after
a lookahead step of the shared parameters on task i's gradient alone.

The score a task gets from a group it belongs to is the mean affinity onto it from
the other members, `s_j(G) = mean_{i in G, i != j} z[i, j]` (TAG's "inter-task
affinity onto each task"); a task alone in its group scores 0 (nothing helps or hurts
it: the single-task network is the zero of the scale). A grouping's score is the sum
over tasks of the best score among the groups that contain the task (TAG averages,
the same argmax); each task is answered by that group's network.

Two searches, each for exactly `k` groups:

- `best_partition`: every task in exactly one group (a set partition). Exact
  branch-and-bound: groups are built around the lowest task not yet placed (each
  partition is visited once) and a branch is cut when its value so far plus an
  optimistic bound for the tasks left (each task's best single affinity from another
  task left, or 0 alone) cannot beat the best grouping found; equal to exhaustive
  search, much faster. `beam_partition` is the fallback for many tasks: tasks placed
  one at a time, keeping the `width` partial groupings of highest value plus bound.
- `best_cover`: groups may overlap, as in the paper; each of the k groups must be the
  best group of at least one task (a network nobody is answered by is not chosen).
  Exact branch-and-bound over the `2^T - 1` candidate groups (in order of what they
  offer), with the bound: a task not yet covered gets at most its best among the
  candidates left; the covered ones gain at most the sum of the largest single-group
  gains, one per group still to choose.

Every function is pure numpy and returns groups as tuples of task indices.

Example:
>>> import numpy as np
>>> from training.grouping.search import best_partition, grouping_score
>>> z = np.array([[0.0, 0.5, -0.2], [0.4, 0.0, -0.3], [-0.1, -0.2, 0.0]])
>>> best_partition(z, 2)
((0, 1), (2,))
>>> round(grouping_score(z, ((0, 1), (2,)))[0], 3)   # 0.4 onto task 0, 0.5 onto 1, 0 alone
0.9
"""

import heapq
import itertools

import numpy as np

# 2^T candidate groups are tabulated for the exact searches: beyond these, too many.
MAX_EXACT_TASKS = 12
MAX_OVERLAP_TASKS = 6
_EPS = 1e-12


def member_scores(z, group):
    """Scores of a group's members, in the group's order: mean affinity onto each from
    the others (0 for a task alone)."""
    group = list(group)
    if len(group) == 1:
        return np.zeros(1)
    sub = np.asarray(z, np.float64)[np.ix_(group, group)]
    return (sub.sum(axis=0) - np.diag(sub)) / (len(group) - 1)


def grouping_score(z, groups):
    """(total, per-task best score, serving group index per task) of a grouping whose
    groups cover every task; a task in several groups is served by its best one (ties:
    the first)."""
    t = len(z)
    best = np.full(t, -np.inf)
    serving = np.full(t, -1)
    for index, group in enumerate(groups):
        for task, score in zip(group, member_scores(z, group)):
            if score > best[task] + _EPS:
                best[task], serving[task] = score, index
    if (serving < 0).any():
        raise ValueError(f"tasks {np.flatnonzero(serving < 0).tolist()} are in no group")
    return float(best.sum()), best, serving


def subset_scores(z):
    """[2^T, T] table: row `mask` holds each member's score in the group `mask` (bit j =
    task j) and -inf for the tasks outside it."""
    z = np.asarray(z, np.float64)
    t = len(z)
    masks = np.arange(1 << t)
    member = ((masks[:, None] >> np.arange(t)) & 1).astype(bool)
    size = member.sum(axis=1, keepdims=True)
    onto = member @ z - member * np.diag(z)  # sum of z[i, j] over the other members i
    scores = np.where(size > 1, onto / np.maximum(size - 1, 1), 0.0)
    return np.where(member, scores, -np.inf)


def _bits(mask):
    return [j for j in range(mask.bit_length()) if mask >> j & 1]


def _optimistic(z, tasks):
    """Per task of `tasks`: the most it can score in a group drawn from `tasks` (its best
    affinity from another of them, or 0 alone): a mean is at most its largest term."""
    if len(tasks) == 1:
        return np.zeros(1)
    sub = z[np.ix_(tasks, tasks)].copy()
    np.fill_diagonal(sub, -np.inf)
    return np.maximum(sub.max(axis=0), 0.0)


def _check(z, k):
    z = np.asarray(z, np.float64)
    if z.ndim != 2 or z.shape[0] != z.shape[1] or not np.isfinite(z).all():
        raise ValueError(f"affinity: expected a finite square matrix, got shape {z.shape}")
    if not 1 <= int(k) <= len(z):
        raise ValueError(f"budget: {k} groups for {len(z)} tasks; valid: 1..{len(z)}")
    return z, int(k)


def best_partition(z, k):
    """The partition of the tasks into exactly `k` groups with the highest score (exact)."""
    z, k = _check(z, k)
    t = len(z)
    if t > MAX_EXACT_TASKS:
        raise ValueError(f"exact search takes at most {MAX_EXACT_TASKS} tasks, got {t}; "
                         "use beam_partition")
    table = subset_scores(z)
    block_value = np.where(np.isfinite(table), table, 0.0).sum(axis=1)
    best = [-np.inf, None]

    def visit(uncovered, blocks_left, value, chosen):
        tasks = _bits(uncovered)
        if not tasks:
            if blocks_left == 0 and value > best[0] + _EPS:
                best[0], best[1] = value, list(chosen)
            return
        if blocks_left == 0 or len(tasks) < blocks_left:
            return
        if value + _optimistic(z, tasks).sum() <= best[0] + _EPS:
            return
        low, rest = tasks[0], tasks[1:]
        sizes = [len(tasks)] if blocks_left == 1 else range(1, len(tasks) - blocks_left + 2)
        blocks = [(1 << low) | sum(1 << r for r in extra)
                  for size in sizes for extra in itertools.combinations(rest, size - 1)]
        for block in sorted(blocks, key=lambda b: -block_value[b]):  # good ones first
            visit(uncovered & ~block, blocks_left - 1, value + block_value[block],
                  chosen + [block])

    visit((1 << t) - 1, k, 0.0, [])
    return tuple(tuple(_bits(b)) for b in best[1])


def beam_partition(z, k, width=64):
    """A partition into exactly `k` groups by beam search (approximate, any task count).

    Tasks are placed in order, each into an existing group or a new one; after each
    task the `width` partial groupings with the highest value plus optimistic bound
    (the tasks left as in `best_partition`, against every task) are kept.
    """
    z, k = _check(z, k)
    t = len(z)
    everyone = list(range(t))
    states = [((), 0.0)]  # (groups as tuples of task indices, value so far)
    for task in range(t):
        left = t - task - 1
        ahead = _optimistic(z, everyone)[task + 1:].sum() if left else 0.0
        grown = []
        for groups, _ in states:
            options = [groups[:g] + (groups[g] + (task,),) + groups[g + 1:]
                       for g in range(len(groups))]
            if len(groups) < k:
                options.append(groups + ((task,),))
            for option in options:
                if len(option) + left >= k:  # enough tasks left to open the missing groups
                    value = sum(member_scores(z, g).sum() for g in option)
                    grown.append((option, value, value + ahead))
        states = [(g, v) for g, v, _ in heapq.nlargest(int(width), grown, key=lambda s: s[2])]
    final = [(g, v) for g, v in states if len(g) == k]
    return max(final, key=lambda s: s[1])[0]


def best_cover(z, k):
    """Exactly `k` distinct, possibly overlapping groups covering every task, each the best
    group of at least one task, with the highest score (exact)."""
    z, k = _check(z, k)
    t = len(z)
    if t > MAX_OVERLAP_TASKS:
        raise ValueError(f"overlapping groups: exact search takes at most "
                         f"{MAX_OVERLAP_TASKS} tasks, got {t}")
    table = subset_scores(z)[1:]  # every non-empty group
    order = np.argsort(-np.where(np.isfinite(table), np.maximum(table, 0), 0).sum(axis=1),
                       kind="stable")
    table = table[order]
    masks = order + 1
    # suffix[c, j]: the best task j can get from candidates c, c+1, ...
    suffix = np.maximum.accumulate(table[::-1], axis=0)[::-1]
    suffix = np.vstack([suffix, np.full((1, t), -np.inf)])
    best = [-np.inf, None]

    def bound(c, current, slots):
        """What candidates c, c+1, ... can still give: uncovered tasks at most their best
        among them, covered ones at most the `slots` largest single-candidate gains (the
        gain of several groups is at most the sum of their gains)."""
        covered = np.isfinite(current)
        if not np.isfinite(suffix[c][~covered]).all():
            return -np.inf  # a task no candidate left contains
        gains = (np.maximum(table[c:] - np.where(covered, current, np.inf), 0.0)).sum(axis=1)
        top = np.partition(gains, len(gains) - slots)[-slots:] if len(gains) > slots else gains
        return suffix[c][~covered].sum() + current[covered].sum() + top.sum()

    def visit(start, chosen, current):
        if len(chosen) == k:
            total = current.sum()
            used = all((table[c] >= current - _EPS).any() for c in chosen)
            if np.isfinite(total) and used and total > best[0] + _EPS:
                best[0], best[1] = total, list(chosen)
            return
        for c in range(start, len(table) - (k - len(chosen)) + 1):
            if bound(c, current, k - len(chosen)) <= best[0] + _EPS:
                break  # later candidates offer a subset of what c..end offer: no better
            visit(c + 1, chosen + [c], np.maximum(current, table[c]))

    visit(0, [], np.full(t, -np.inf))
    return tuple(sorted(tuple(_bits(int(masks[c]))) for c in best[1]))
