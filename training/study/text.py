"""A study's leaderboard as text: per cell and task, mean ± sd [95% CI] and the marks of the
paired comparisons with the single-task models and the tuned equal weighting.

Example:
>>> from training.study.text import format_leaderboard
>>> print(format_leaderboard(json.load(open("studies/tiny/study.json"))))  # doctest: +SKIP
"""

import math


def _mark(diff):
    """'>' / '<' when the paired interval is above / below 0 (in the better direction)."""
    if not diff or not diff.get("excludes_zero"):
        return " "
    return ">" if diff["mean"] > 0 else "<"


def _fmt(x, digits=4):
    return "nan" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def format_leaderboard(content):
    """The leaderboard as text: per cell (its selected setting with `tune`) and task,
    mean ± sd [95% CI] over the n seeds with test metrics, and the marks."""
    tasks, tune = content["tasks"], content.get("tune")
    lines = [f"Study {content['name']}: test split, {len(content['seeds'])} seeds "
             f"({', '.join(map(str, content['seeds']))}); mean ± sd [95% CI over the n seeds]"]
    if tune:
        lines.append(f"Every contender tuned over the same {tune['budget']} settings, each "
                     f"selected by {tune['criterion']}; setting: the selected one.")
        if tune.get("pilot_seeds"):
            lines.append(pilot_line(tune["pilot_seeds"], content["seeds"]))
    setting_width = 2 + max([len(_setting(r)) for r in content["leaderboard"]] + [7]) \
        if tune else 0
    header = f"{'cell':<34}" + (f"{'setting':<{setting_width}}" if tune else "") + \
        f"{'n':>3} " + "".join(f"{t + ' ' + content['primary_metrics'][t][0]:<33}"
                               for t in tasks) + "Δm % vs single-task"
    lines.append(header)
    for row in content["leaderboard"]:
        cells = [f"{row['cell'][:33]:<34}"]
        if tune:
            cells.append(f"{_setting(row):<{setting_width}}")
        cells.append(f"{len(row['seeds']):>3} ")
        for task in tasks:
            e = row["tasks"][task]
            marks = _mark(e.get("vs_single_task")) + _mark(e.get("vs_tuned_equal"))
            cells.append(f"{_fmt(e['mean'])} ± {_fmt(e['std'], 3)} "
                         f"[{_fmt(e['ci_low'], 3)}, {_fmt(e['ci_high'], 3)}] {marks:<2}"[:32].ljust(33))
        if "delta_m" in row:
            d = row["delta_m"]
            dm = f"{_fmt(d['mean'], 2)} [{_fmt(d['ci_low'], 2)}, {_fmt(d['ci_high'], 2)}]"
            vs = row.get("delta_m_vs_tuned_equal")
            if vs:
                dm += f"  vs tuned {_fmt(vs['mean'], 2)} [{_fmt(vs['ci_low'], 2)}, {_fmt(vs['ci_high'], 2)}]"
            cells.append(dm)
        lines.append("".join(cells))
    lines.append("Marks after a value: first vs single-task, second vs tuned equal weighting; "
                 "'>' better, '<' worse, where the 95% interval of the paired-by-seed "
                 "difference excludes 0 (blank: not distinguishable from noise).")
    if content.get("sources"):
        lines.append("Each task is trained and tested on its own sources: " + "; ".join(
            f"{task}: {', '.join(names)}" for task, names in content["sources"].items()) + ".")
    tuned = content.get("tuned_equal") or {}
    if tuned.get("selected"):
        lines.append(f"Tuned equal weighting: selected {tuned['selected']} "
                     f"{tuned['configs'][tuned['selected']]} by {tuned['criterion']}.")
    failed = [r for r in content["runs"] if r["status"] == "failed"]
    if failed:
        lines.append(f"{len(failed)} run(s) failed: " + ", ".join(r["run_dir"] for r in failed))
    return "\n".join(lines)


def pilot_line(pilot, seeds):
    """What a pilot means for the numbers (the text leaderboard's and the report's line).

    >>> pilot_line([0], [0, 1, 2])
    'Selection on a pilot of 1 seed(s) (0): each contender trained every setting with the pilot seed(s) and was selected on their validation metrics alone; seed(s) 1, 2 trained only the selected setting; n counts every seed of the selected setting.'
    """
    rest = [s for s in seeds if s not in pilot]
    return (f"Selection on a pilot of {len(pilot)} seed(s) ({', '.join(map(str, pilot))}): "
            f"each contender trained every setting with the pilot seed(s) and was selected on "
            f"their validation metrics alone; seed(s) {', '.join(map(str, rest))} trained only "
            f"the selected setting; n counts every seed of the selected setting.")


def _setting(row):
    """A row's selected setting; the single-task row's per task ("y1 0.001, y2 0.003")."""
    setting = row.get("setting")
    if isinstance(setting, dict):
        return ", ".join(f"{task} {label if label is not None else '–'}"
                         for task, label in setting.items())
    return "–" if setting is None else setting


def _interval(s, digits=2):
    if not s or not s.get("n"):
        return "–"
    if s["n"] < 2:
        return f"{_fmt(s['mean'], digits)}"
    return f"{_fmt(s['mean'], digits)} [{_fmt(s['ci_low'], digits)}, {_fmt(s['ci_high'], digits)}]"


def _groups(groups):
    return " ".join("{" + ",".join(g) + "}" for g in groups)


def format_grouping(section):
    """The grouping section as text: per budget TAG's and the random groupings' measured
    Δm and test-loss gain, the paired differences, the prediction and the recovery."""
    seeds = section["seeds"]
    lines = [f"Task grouping (TAG, Fifty et al. 2021): {len(section['tasks'])} tasks, "
             f"{len(seeds)} seeds; test split, mean [95% CI over seeds]; Δm and loss gain in % "
             "against the single-task networks",
             f"{'k':<3}{'TAG grouping (first seed)':<34}{'Δm TAG':<25}{'loss gain TAG':<25}"
             f"{'Δm vs one network':<25}{'Δm vs random':<25}{'Δm random':<25}predicted score"]
    for row in section["budgets"]:
        tag, rand = row["tag"], row.get("random") or {}
        first = next(iter(tag["groups"].values()), [])
        name = _groups(first) + ("" if tag["same_in_every_seed"] else " (differs by seed)")
        vs_one = tag["vs_one_network"] if row["budget"] > 1 else None
        lines.append(f"{row['budget']:<3}{name[:33]:<34}{_interval(tag['delta_m']):<25}"
                     f"{_interval(tag['loss_gain']):<25}{_interval(vs_one):<25}"
                     f"{_interval(tag['vs_random']):<25}{_interval(rand.get('delta_m')):<25}"
                     f"{tag['predicted']['mean']:.2e}")
    p = section["prediction"]
    lines.append(f"Predicted score against measured, Spearman over every grouping evaluated, "
                 f"mean over seeds: Δm {_interval(p['spearman_delta_m'])}, loss gain "
                 f"{_interval(p['spearman_loss_gain'])}; a random grouping measured a higher Δm "
                 f"than TAG's of the same budget in {p['random_beat_tag']} of "
                 f"{p['random_compared']} comparisons.")
    r = section.get("recovery")
    if r:
        lines.append(f"Planted grouping recovered: TAG in {r['tag_recovered']} of {r['tag_seeds']} "
                     f"seeds" + (f"; Learning to Branch in {r['trees_recovered']} of "
                                 f"{len(r['trees'])} runs" if r["trees"] else ""))
    for t in section.get("trees", []):
        lines.append(f"Learning to Branch {t['cell']} seed {t['seed']}: tasks sharing every "
                     f"layer {_groups(t['groups'])}")
    return "\n".join(lines)
