"""The task-grouping section of a study report (a study with `grouping:`).

From `study.json`'s `grouping` section (`training/grouping/measure.py`): whether a planted
grouping was recovered (by TAG and by each Learning to Branch run), the groups chosen for
each budget in each seed, the leaderboard per budget (TAG's grouping and the random ones,
Δm and test-loss gain against the single-task networks with 95% intervals, paired
differences to one network and to the random groupings), the grouping curve, TAG's
predicted score against the measurement, the affinity matrix of each seed ordered by
group, and the learned trees.

Example:
>>> from reporting.grouping_report import grouping_section
>>> grouping_section(page, "studies/grouping_planted", content)   # doctest: +SKIP
"""

import math

import numpy as np

from reporting import grouping_plots


def _fmt(x, digits=2):
    return "–" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _interval(s, digits=2):
    if not s or not s.get("n"):
        return "–"
    if s["n"] < 2:
        return _fmt(s["mean"], digits)
    return f"{_fmt(s['mean'], digits)} [{_fmt(s['ci_low'], digits)}, {_fmt(s['ci_high'], digits)}]"


def _groups(groups):
    """`{a, b} {c}`: braces, as a table cell cannot hold `|`."""
    return " ".join("{" + ", ".join(g) + "}" for g in groups) if groups else "–"


def _sci(s):
    """An interval of affinity scores (about 1e-3): in scientific notation."""
    if not s or not s.get("n"):
        return "–"
    text = f"{s['mean']:.2e}"
    return text if s["n"] < 2 or not math.isfinite(s["ci_low"]) else \
        f"{text} [{s['ci_low']:.2e}, {s['ci_high']:.2e}]"


def _cls(diff):
    if not diff or not diff.get("excludes_zero"):
        return ""
    return "better" if diff["mean"] > 0 else "worse"


def recovery_part(page, section):
    r = section.get("recovery")
    if not r:
        return
    page.heading("Task grouping: the planted groups")
    page.text(f"TAG chose the planted grouping (at as many networks as planted groups) in "
              f"{r['tag_recovered']} of {r['tag_seeds']} seeds"
              + (f"; Learning to Branch's learned tree separated the tasks exactly as planted "
                 f"in {r['trees_recovered']} of {len(r['trees'])} runs" if r["trees"] else "")
              + ".")
    by_seed = {str(t["seed"]): t for t in r["trees"]}
    rows = []
    for seed, truth in r["truth"].items():
        chosen = next((g["groups"] for g in section["plans"][seed]["groupings"]
                       if g["kind"] == "tag" and g["budget"] == len(truth or [])), None)
        tree = by_seed.get(seed)
        rows.append([seed, _groups(truth), _groups(chosen), "yes" if r["tag"].get(seed) else "no",
                     _groups(tree["groups"]) if tree else "–",
                     ("yes" if tree["recovered"] else "no") if tree else "–"])
    page.table(["seed", "planted", "TAG", "recovered", "Learning to Branch (tasks sharing "
                "every layer)", "recovered"], rows)


def groups_part(page, section):
    page.heading("Task grouping: groups per budget")
    seeds = [str(s) for s in section["seeds"]]
    rows = []
    for row in section["budgets"]:
        rows.append([str(row["budget"])] + [_groups(row["tag"]["groups"].get(s)) for s in seeds])
    page.table(["networks"] + [f"seed {s}" for s in seeds], rows)
    page.note("TAG's choice: the partition (or, with grouping.overlap, cover) into that many "
              "networks with the highest total affinity onto each task from its group. A "
              "task's network is the run of its group (groups/<tasks>/seed<k>; one task: its "
              "single-task run).")


def leaderboard_part(page, section):
    page.heading("Task grouping: measured per budget")
    table, classes = [], []
    for row in section["budgets"]:
        tag, rand, k = row["tag"], row.get("random") or {}, row["budget"]
        vs_one = tag["vs_one_network"] if k > 1 else None
        table.append([str(k), _interval(tag["delta_m"]), _interval(tag["loss_gain"]),
                      _interval(vs_one), _interval(tag["vs_random"]),
                      _interval(rand.get("delta_m")), _interval(rand.get("loss_gain")),
                      _sci(tag["predicted"]), _sci(rand.get("predicted"))])
        classes.append(["", "", "", _cls(vs_one), _cls(tag["vs_random"]), "", "", "", ""])
    page.table(["networks", "TAG Δm %", "TAG loss gain %", "TAG − one network (Δm)",
                "TAG − random (Δm)", "random Δm %", "random loss gain %", "TAG predicted",
                "random predicted"], table, classes)
    page.note("Test split, mean [95% interval over seeds]. Δm: mean relative improvement of "
              "the primary metrics over the single-task networks; loss gain: mean relative "
              "test-loss decrease over them (what affinity predicts). Differences are paired "
              "by seed; green / red: the interval excludes 0. Predicted: TAG's score, the mean "
              "affinity onto each task from its group (a relative loss decrease per lookahead "
              "step, 0 = every task alone).")
    for key, label in (("delta_m", "Δm % vs single-task"), ("loss_gain", "test-loss gain %")):
        page.figure(grouping_plots.grouping_curve(section["budgets"], key, label),
                    f"grouping_curve_{key}",
                    f"{label} against the number of networks: TAG's grouping and the mean of "
                    "the random groupings, 95% intervals over seeds.")


def prediction_part(page, section):
    p = section["prediction"]
    page.heading("Task grouping: predicted against measured")
    page.text(f"Spearman rank correlation of TAG's predicted score with the measurement, over "
              f"every grouping evaluated in a seed (every budget, TAG's and random), mean "
              f"[95% interval] over seeds: Δm {_interval(p['spearman_delta_m'])}, test-loss gain "
              f"{_interval(p['spearman_loss_gain'])}. A random grouping measured a higher Δm "
              f"than TAG's choice of the same budget in {p['random_beat_tag']} of "
              f"{p['random_compared']} comparisons (where affinity mispredicts).")
    for key, label in (("delta_m", "measured Δm %"), ("loss_gain", "measured test-loss gain %")):
        page.figure(grouping_plots.predicted_vs_measured(p["points"], key, label),
                    f"predicted_{key}", f"TAG's predicted score against the {label} of every "
                    "grouping evaluated (numbers: networks).")


def _ordering_budget(section):
    """The budget whose groups order the affinity matrices: the planted group count, else
    the budget between 1 and T where TAG measured best, else 2."""
    r = section.get("recovery")
    if r and r["truth"]:
        return len(next(iter(r["truth"].values())) or [])
    inner = [row for row in section["budgets"]
             if 1 < row["budget"] < len(section["tasks"]) and row["tag"]["delta_m"]["n"]]
    if inner:
        return max(inner, key=lambda row: row["tag"]["delta_m"]["mean"])["budget"]
    return 2


def affinity_part(page, section):
    k = _ordering_budget(section)
    page.heading("Task grouping: affinity, ordered by group")
    page.text(f"Each seed's affinity (the affinity run's mean over every sample), rows and "
              f"columns ordered by TAG's groups for {k} networks; lines separate the groups.")
    for seed, plan in section["plans"].items():
        groups = next((g["groups"] for g in plan["groupings"]
                       if g["kind"] == "tag" and g["budget"] == k), [])
        a = plan["affinity"]
        page.figure(grouping_plots.affinity_by_group(
            np.asarray(a["matrix"]), a["tasks"], groups, f"seed {seed}: affinity Z[i → j]"),
            f"grouping_affinity_seed{seed}", f"Seed {seed}: affinity ordered by group "
            f"({_groups(groups)}).")


def trees_part(page, section):
    if not section.get("trees"):
        return
    page.heading("Learning to Branch: the learned trees")
    page.text("Each Learning to Branch run's tree at its last epoch: a node per copy of an "
              "encoder stage, each node and task reading its chosen parent (edge labels: the "
              "probability of that parent, while searching); grey nodes feed no task and are "
              "left out of the exported network.")
    for t in section["trees"]:
        page.figure(grouping_plots.branching_tree(t["tree"], f"{t['cell']} seed {t['seed']}"),
                    f"tree_{t['cell']}_seed{t['seed']}",
                    f"{t['cell']}, seed {t['seed']}: tasks sharing every layer: "
                    f"{_groups(t['groups'])}.")


def grouping_section(page, study_dir, content):
    """Adds the grouping section of `content` (study.json) to `page`."""
    section = content["grouping"]
    spec = section["spec"]
    page.heading("Task grouping")
    page.text(f"Which of the {len(section['tasks'])} tasks ({', '.join(section['tasks'])}) "
              f"should share a network (TAG, Fifty et al., NeurIPS 2021): per seed, one "
              f"network of every task trained {spec['affinity_epochs']} epoch(s) recorded the "
              f"affinity ({spec['affinity_per_epoch']} sampled steps per epoch"
              + (f"; from {spec['affinity_run']}" if spec["affinity_run"] else "")
              + f"), groupings were chosen for each budget, {spec['random']} random groupings "
              "per budget drawn, and each distinct group trained as an ordinary run.")
    recovery_part(page, section)
    groups_part(page, section)
    leaderboard_part(page, section)
    prediction_part(page, section)
    affinity_part(page, section)
    trees_part(page, section)
