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
    """The leaderboard as text: per cell and task, mean ± sd [95% CI] and the marks."""
    tasks = content["tasks"]
    lines = [f"Study {content['name']}: test split, {len(content['seeds'])} seeds "
             f"({', '.join(map(str, content['seeds']))}); mean ± sd [95% CI over seeds]"]
    header = f"{'cell':<34}" + "".join(
        f"{t + ' ' + content['primary_metrics'][t][0]:<33}" for t in tasks) + "Δm % vs single-task"
    lines.append(header)
    for row in content["leaderboard"]:
        cells = [f"{row['cell'][:33]:<34}"]
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
