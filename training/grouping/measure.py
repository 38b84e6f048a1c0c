"""What the trained groupings measured: per budget over seeds, against one network, random
groupings and the single-task networks; TAG's prediction against the measurement; and
whether a planted grouping was recovered (by TAG and by Learning to Branch).

Input: per seed, the grouping plan a study wrote (`grouping/seed<k>/plan.json`, see
`training/study/grouping.py`): every grouping evaluated (`kind` `tag`: TAG's choice
for a budget; `random`: a random partition of the same budget), each with its groups,
which group serves each task and TAG's predicted `score`; `runs`, the run dir of each
group's network; and the test metrics of those runs. A grouping's measured result,
per seed, takes every task's test metrics from the network of its serving group:

- `delta_m`: Δm against the single-task networks (Maninis et al., 2019; the primary
  metrics, in %; `training/baselines.py`): 0 at k = T networks by definition;
- `loss_gain`: the mean over tasks of the relative test-loss decrease against the
  single-task networks (`100 * (1 - L_group / L_single)`), the quantity the affinity
  predicts (its score is a relative loss decrease per lookahead step, not in %).

Rows per budget: TAG's grouping (mean, sd and 95% interval over seeds of both, its
predicted score, each task's metric, and paired-by-seed differences in Δm to one
network and to the mean of the random groupings), and the random groupings (the mean
of a seed's random groupings, then over seeds). `prediction`: per seed the Spearman
rank correlation of the predicted score with each measure over every grouping
evaluated, and how often a random grouping measured better than TAG's choice.

Example:
>>> from training.grouping.measure import partition_of_tree, same_partition
>>> tree = {"layers": [[0, 0, 1]], "tasks": {"a": 0, "b": 2, "c": 0}}
>>> partition_of_tree(tree)
[['a', 'c'], ['b']]
>>> same_partition([["c", "a"], ["b"]], [["b"], ["a", "c"]])
True
"""

import math

import numpy as np
from scipy import stats

from training.baselines import delta_m
from training.statistics import paired_difference, summarize


def group_label(group):
    """The name of a group's network: its tasks joined by `+`."""
    return "+".join(group)


def same_partition(a, b):
    """Whether two groupings have the same groups (order of groups and tasks aside)."""
    return a is not None and b is not None and \
        {frozenset(g) for g in a} == {frozenset(g) for g in b}


def partition_of_tree(tree):
    """A learned tree's grouping: the tasks that share every layer (the same last-layer
    node), in order of their first task."""
    by_parent = {}
    for task, parent in tree["tasks"].items():
        by_parent.setdefault(parent, []).append(task)
    return sorted((sorted(g) for g in by_parent.values()), key=lambda g: g[0])


def grouping_metrics(grouping, runs, tests):
    """{task: test metrics from its serving group's network}; None while a run is not done."""
    out = {}
    for task, index in grouping["serving"].items():
        test = tests.get(runs.get(group_label(grouping["groups"][index])))
        if not test or task not in test:
            return None
        out[task] = test[task]
    return out


def measured(metrics, single, tasks, primary):
    """{delta_m, loss_gain, tasks: {task: primary metric}} of one grouping in one seed."""
    gains = [100.0 * (1.0 - metrics[t.name]["loss"] / single[t.name]["loss"])
             for t in tasks if single[t.name].get("loss")]
    return {"delta_m": delta_m(metrics, single, tasks, primary)["delta_m"],
            "loss_gain": float(np.mean(gains)) if gains else float("nan"),
            "tasks": {t.name: metrics[t.name][primary[t.name][0]] for t in tasks}}


def measure_plan(plan, tests, tasks, primary):
    """The plan's groupings, each with `measured` (None while its runs are not done)."""
    single = grouping_metrics({"groups": [[t.name] for t in tasks],
                               "serving": {t.name: i for i, t in enumerate(tasks)}},
                              plan["runs"], tests)
    out = []
    for grouping in plan["groupings"]:
        metrics = grouping_metrics(grouping, plan["runs"], tests)
        result = measured(metrics, single, tasks, primary) if metrics and single else None
        out.append({**grouping, "measured": result})
    return out


def _values(entries, key):
    return [e["measured"][key] for e in entries if e["measured"]]


def _budget_row(k, by_seed, tasks):
    """One budget's TAG and random rows from {seed: measured groupings}."""
    tag = {s: next((g for g in gs if g["budget"] == k and g["kind"] == "tag"), None)
           for s, gs in by_seed.items()}
    tag = {s: g for s, g in tag.items() if g is not None}
    done = [s for s, g in tag.items() if g["measured"]]
    one = {s: next((g for g in gs if g["budget"] == 1 and g["kind"] == "tag"), None)
           for s, gs in by_seed.items()}
    randoms = {s: [g for g in gs if g["budget"] == k and g["kind"] == "random"
                   and g["measured"]] for s, gs in by_seed.items()}
    rand_mean = {s: {key: float(np.mean(_values(r, key))) for key in ("delta_m", "loss_gain")}
                 for s, r in randoms.items() if r}
    row = {"budget": k, "tag": {
        "delta_m": summarize([tag[s]["measured"]["delta_m"] for s in done]),
        "loss_gain": summarize([tag[s]["measured"]["loss_gain"] for s in done]),
        "predicted": summarize([g["score"] for g in tag.values()]),
        "predicted_gain": summarize([g["gain_over_one_network"] for g in tag.values()]),
        "tasks": {t.name: summarize([tag[s]["measured"]["tasks"][t.name] for s in done])
                  for t in tasks},
        "vs_one_network": paired_difference(
            [tag[s]["measured"]["delta_m"] for s in done],
            [one[s]["measured"]["delta_m"] if one.get(s) and one[s]["measured"] else None
             for s in done]),
        "vs_random": paired_difference(
            [tag[s]["measured"]["delta_m"] for s in done if s in rand_mean],
            [rand_mean[s]["delta_m"] for s in done if s in rand_mean]),
        "groups": {str(s): g["groups"] for s, g in tag.items()},
        "same_in_every_seed": len({frozenset(map(frozenset, g["groups"]))
                                   for g in tag.values()}) == 1}}
    if rand_mean:
        row["random"] = {
            "delta_m": summarize([m["delta_m"] for m in rand_mean.values()]),
            "loss_gain": summarize([m["loss_gain"] for m in rand_mean.values()]),
            "predicted": summarize([float(np.mean([g["score"] for g in r]))
                                    for r in randoms.values() if r]),
            "count": sum(len(r) for r in randoms.values())}
    return row


def _spearman(x, y):
    pairs = [(a, b) for a, b in zip(x, y) if b is not None and math.isfinite(b)]
    if len(pairs) < 3 or len({a for a, _ in pairs}) < 2 or len({b for _, b in pairs}) < 2:
        return float("nan")
    return float(stats.spearmanr(*zip(*pairs)).statistic)


def prediction(by_seed):
    """Predicted score against the measurement over every grouping evaluated, per seed."""
    points, rho_dm, rho_loss, beaten, compared = [], [], [], 0, 0
    for seed, groupings in by_seed.items():
        done = [g for g in groupings if g["measured"]]
        points += [{"seed": seed, "budget": g["budget"], "kind": g["kind"],
                    "predicted": g["score"], "delta_m": g["measured"]["delta_m"],
                    "loss_gain": g["measured"]["loss_gain"]} for g in done]
        rho_dm.append(_spearman([g["score"] for g in done], _values(done, "delta_m")))
        rho_loss.append(_spearman([g["score"] for g in done], _values(done, "loss_gain")))
        tag = {g["budget"]: g for g in done if g["kind"] == "tag"}
        for g in done:
            if g["kind"] == "random" and g["budget"] in tag:
                compared += 1
                beaten += g["measured"]["delta_m"] > tag[g["budget"]]["measured"]["delta_m"]
    return {"spearman_delta_m": summarize(rho_dm), "spearman_loss_gain": summarize(rho_loss),
            "random_beat_tag": beaten, "random_compared": compared, "points": points}


def recovery(by_seed, truths, trees):
    """Whether TAG (at as many networks as true groups) and each Learning to Branch tree
    found the planted grouping, per seed; None without a truth."""
    if not any(truths.values()):
        return None
    tag = {}
    for seed, truth in truths.items():
        chosen = next((g for g in by_seed.get(seed, []) if g["kind"] == "tag"
                       and g["budget"] == len(truth)), None) if truth else None
        if chosen is not None:
            tag[str(seed)] = same_partition(chosen["groups"], truth)
    learned = [{**t, "groups": partition_of_tree(t["tree"]),
                "recovered": same_partition(partition_of_tree(t["tree"]), truths.get(t["seed"]))}
               for t in trees]
    return {"truth": {str(s): t for s, t in truths.items()}, "tag": tag,
            "tag_recovered": sum(tag.values()), "tag_seeds": len(tag),
            "trees": learned, "trees_recovered": sum(t["recovered"] for t in learned)}


def measure(plans, tests, tasks, primary, truths=None, trees=()):
    """The `grouping` section of study.json (see the module docstring).

    Args:
        plans: dict. {seed: plan} (`grouping/seed<k>/plan.json`).
        tests: dict. {run dir as the plans name it: test metrics, or None}.
        tasks: tuple of `Task`. The grouped tasks.
        primary: dict. {task: (metric, higher_is_better)}.
        truths: dict or None. {seed: the planted grouping, or None}.
        trees: list. [{"cell", "seed", "tree"}] of the Learning to Branch cells' runs.
    """
    by_seed = {seed: measure_plan(plan, tests, tasks, primary) for seed, plan in plans.items()}
    budgets = sorted({g["budget"] for gs in by_seed.values() for g in gs})
    trees = list(trees)
    return {"tasks": [t.name for t in tasks], "seeds": sorted(plans),
            "budgets": [_budget_row(k, by_seed, tasks) for k in budgets],
            "prediction": prediction(by_seed),
            "recovery": recovery(by_seed, truths or {}, trees),
            "trees": [{**t, "groups": partition_of_tree(t["tree"])} for t in trees],
            "plans": {str(s): {"affinity": p["affinity"], "groupings": by_seed[s]}
                      for s, p in plans.items()}}
