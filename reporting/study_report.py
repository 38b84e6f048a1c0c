"""The report of a study: does multi-task beat single-task here, by how much, and why.

Reads `<study>/study.json` (written by `study.py`) and the run dirs it lists, and
writes `<study>/report/`: `index.html` (self-contained), the PNGs and `summary.md`.
It shows the leaderboard (mean ± sd and 95% interval over seeds, Δm with its
interval, marks where the paired-by-seed difference to the single-task models or to
the tuned equal weighting excludes 0), a plain verdict per cell, bars of each task's
metric with interval whiskers, Δm bars, a Pareto plot for two-task studies, the
tuned baseline's selection, cost (step time, memory), and per cell the mean
gradient cosine, task affinity and gate weights over its seeds. A study with
`grouping:` gets its task-grouping section (`reporting/grouping_report.py`); a protocol
study (`protocol:`) gets its own report (`reporting/protocol_report.py`).

Example:
>>> from reporting.study_report import write_study_report
>>> path = write_study_report("studies/tiny")     # doctest: +SKIP
"""

import json
import math
import os

import numpy as np

from reporting import plots
from reporting.grouping_report import grouping_section
from reporting.page import Page
from reporting.protocol_report import write_protocol_report
from reporting.run_report import _read


def _fmt(x, digits=4):
    return "–" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _interval(e, digits=4):
    return f"{_fmt(e['mean'], digits)} ± {_fmt(e['std'], digits)} [{_fmt(e['ci_low'], digits)}, " \
           f"{_fmt(e['ci_high'], digits)}]"


def _mark(diff):
    if not diff or not diff.get("excludes_zero"):
        return "", ""
    return ("▲", "better") if diff["mean"] > 0 else ("▼", "worse")


def _setting(row):
    """The selected tuned setting of a row (per task for the single-task models)."""
    setting = row.get("setting")
    if isinstance(setting, dict):
        return ", ".join(f"{task} {label}" for task, label in setting.items())
    return setting or "–"


def verdict(row, seeds):
    """One plain sentence on a cell's Δm against the single-task models (and tuned equal)."""
    d = row.get("delta_m")
    if not d or not d["n"]:
        return f"{row['cell']}: no Δm (no single-task baselines)."
    if d["n"] < 2:
        text = f"Δm {d['mean']:+.2f}% from one seed: no interval, no conclusion"
    elif d["ci_low"] > 0:
        text = f"beats the single-task models: Δm {d['mean']:+.2f}% [{d['ci_low']:+.2f}, {d['ci_high']:+.2f}]"
    elif d["ci_high"] < 0:
        text = (f"does NOT beat the single-task models, it is worse: Δm {d['mean']:+.2f}% "
                f"[{d['ci_low']:+.2f}, {d['ci_high']:+.2f}]")
    else:
        text = (f"is not distinguishable from the single-task models with {d['n']} seeds: "
                f"Δm {d['mean']:+.2f}% [{d['ci_low']:+.2f}, {d['ci_high']:+.2f}]")
    vs = row.get("delta_m_vs_tuned_equal")
    if vs and vs["n"] > 1:
        if vs["excludes_zero"]:
            text += (f"; {'better' if vs['mean'] > 0 else 'worse'} than the tuned equal weighting "
                     f"by {vs['mean']:+.2f} points [{vs['ci_low']:+.2f}, {vs['ci_high']:+.2f}]")
        else:
            text += (f"; not distinguishable from the tuned equal weighting "
                     f"({vs['mean']:+.2f} [{vs['ci_low']:+.2f}, {vs['ci_high']:+.2f}])")
    return f"{row['cell']} {text}."


def _cell_histories(study_dir, content, cell, group="cell"):
    out = []
    for run in content["runs"]:
        if run["group"] == group and run["cell"] == cell and run["status"] == "done" \
                and run.get("selected", True):  # a tuned cell: its selected setting's runs
            history = _read(os.path.join(study_dir, run["run_dir"], "history.json"), [])
            if history:
                out.append(history)
    return out


def _mean_diagnostic(histories, key):
    values = [h[-1]["diagnostics"][key] for h in histories
              if h and key in h[-1].get("diagnostics", {})]
    return np.mean(values, axis=0) if values else None


def write_study_report(study_dir, output=None):
    """Writes the study's report; returns the path of its `index.html`."""
    content = _load(study_dir)
    if content.get("protocol"):  # a protocol study (training/protocols): its own report
        return write_protocol_report(study_dir, content, output)
    page = Page(f"Study report: {content['name']}")
    _overview(page, content)
    _verdicts(page, content)
    _leaderboard(page, content)
    _figures(page, content)
    _tuned_equal(page, content)
    if content.get("grouping"):
        grouping_section(page, study_dir, content)
    _cost(page, content["leaderboard"])
    _why(page, study_dir, content)
    return page.write(output or os.path.join(study_dir, "report"))


def _load(study_dir):
    """The study's `study.json`; a study not run yet says how to run it."""
    path = os.path.join(study_dir, "study.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{study_dir}: no study.json (run it first: python study.py "
                                f"--config configs/studies/<name>.yaml --output {study_dir})")
    with open(path) as f:
        return json.load(f)


def _primary(content):
    """{task: (metric, higher_is_better)} of the study's tasks."""
    return {t: tuple(v) for t, v in content["primary_metrics"].items()}


def _overview(page, content):
    """What was run: the base experiment, the seeds, the runs done and the sources."""
    done = sum(r["status"] == "done" for r in content["runs"])
    page.text(f"Base experiment {content['base']} {' '.join(content.get('base_set') or [])}; "
              f"{len(content['seeds'])} seeds ({', '.join(map(str, content['seeds']))}); "
              f"{done} of {len(content['runs'])} runs done. Test split; every number is the mean "
              f"over seeds with its standard deviation and 95% interval (Student's t).")
    if content.get("sources"):
        page.text("Each task is trained and tested on its own sources: " + "; ".join(
            f"{task}: {', '.join(names)}" for task, names in content["sources"].items()) + ".")


def _verdicts(page, content):
    page.heading("Verdict")
    for row in content["leaderboard"]:
        if row["group"] != "single_task":
            page.text(verdict(row, content["seeds"]))


def _leaderboard(page, content):
    """The leaderboard table (one row per cell, marks where a difference excludes 0)."""
    page.heading("Leaderboard")
    tasks, tune, primary = content["tasks"], content.get("tune"), _primary(content)
    header = ["cell"] + (["setting"] if tune else []) + ["n"] + \
        [f"{t} {primary[t][0]}" for t in tasks] + ["Δm % vs single-task", "Δm vs tuned equal"]
    table, classes = [], []
    for row in content["leaderboard"]:
        cells, cls = _leaderboard_row(row, tasks, tune)
        table.append(cells)
        classes.append(cls)
    page.table(header, table, classes)
    page.note("▲S / ▼S: better / worse than the single-task models, ▲T / ▼T: than the tuned "
              "equal weighting, where the 95% interval of the paired-by-seed difference excludes 0 "
              "(green / red cells). No mark: the seeds do not tell the two apart. n: the seeds "
              "with test metrics each interval rests on."
              + (f" Every contender was trained at the same {tune['budget']} settings "
                 f"({', '.join(tune['settings'])}) and its setting selected by "
                 f"{tune['criterion']}; setting: the selected one." if tune else "")
              + (f" Selection on a pilot of {len(tune['pilot_seeds'])} seed(s) "
                 f"({', '.join(map(str, tune['pilot_seeds']))}): every setting was trained with "
                 "the pilot seed(s) only and selected on their validation metrics; the other "
                 "seeds trained only the selected setting (n counts every seed of it)."
                 if tune and tune.get("pilot_seeds") else ""))


def _leaderboard_row(row, tasks, tune):
    """(cells, their CSS classes) of one leaderboard row."""
    cells, cls = [row["cell"]], [""]
    if tune:
        cells.append(_setting(row))
        cls.append("")
    cells.append(str(len(row["seeds"])))  # the seeds each interval rests on
    cls.append("")
    for t in tasks:
        e = row["tasks"][t]
        s_mark, s_cls = _mark(e.get("vs_single_task"))
        t_mark, _ = _mark(e.get("vs_tuned_equal"))
        cells.append(_interval(e) + (f" {s_mark}S" if s_mark else "")
                     + (f" {t_mark}T" if t_mark else ""))
        cls.append(s_cls)
    d = row.get("delta_m")
    cells.append(_interval(d, 2) if d else "")
    cls.append("better" if d and d["n"] > 1 and d["ci_low"] > 0 else
               "worse" if d and d["n"] > 1 and d["ci_high"] < 0 else "")
    vs = row.get("delta_m_vs_tuned_equal")
    cells.append(f"{_fmt(vs['mean'], 2)} [{_fmt(vs['ci_low'], 2)}, {_fmt(vs['ci_high'], 2)}]"
                 if vs else "")
    cls.append(_mark(vs)[1])
    return cells, cls


def _figures(page, content):
    """Metric bars, Δm bars, the Pareto plot and one sweep per numeric axis."""
    rows, tasks, primary = content["leaderboard"], content["tasks"], _primary(content)
    page.figure(plots.metric_bars(rows, tasks, primary), "metric_bars",
                "Each task's test metric per cell; whiskers are 95% intervals over seeds.")
    page.figure(plots.delta_m_bars(rows), "delta_m",
                "Δm against the single-task models (Maninis et al., 2019) per cell.")
    page.figure(plots.pareto(rows, tasks, primary), "pareto",
                "Two tasks: the cells on the dotted line are not beaten on both tasks at once.")
    for axis, values in plots.numeric_axes(content.get("axes", [])).items():
        page.figure(plots.sweep(rows, axis, values, tasks, primary), f"sweep_{axis}",
                    f"Each task's test metric against {axis} (mean and 95% interval over seeds), "
                    "one line per setting of the other axes.")


def _tuned_equal(page, content):
    """The tuned equal weighting's settings and the selected one (when the study tuned it)."""
    tuned = content.get("tuned_equal") or {}
    if not tuned.get("configs"):
        return
    page.heading("Tuned equal weighting")
    pilot = (content.get("tune") or {}).get("pilot_seeds")
    page.text("Every setting below trained with "
              + (f"the pilot seed(s) {', '.join(map(str, pilot))}, the selected one with "
                 "every seed" if pilot else "every seed")
              + f"; selected by {tuned['criterion']}.")
    page.table(["setting", "overrides", "validation score"],
               [[label, json.dumps(cfg), _fmt(tuned["scores"].get(label), 3)
                 + ("  ← selected" if label == tuned.get("selected") else "")]
                for label, cfg in tuned["configs"].items()])


def _cost(page, rows):
    page.heading("Cost")
    page.table(["cell", "mean step time (ms)", "peak memory (MB)", "wall time per run (s)", "runs"],
               [[r["cell"], _fmt(r["step_time_ms"], 1), _fmt(r["peak_memory_mb"], 0),
                 _fmt(r["wall_time_s"], 0), f"{r['runs']['done']}/{r['runs']['planned']}"
                 + (f" ({r['runs']['failed']} failed)" if r["runs"]["failed"] else "")]
                for r in rows])


def _why(page, study_dir, content):
    """Per cell, its seeds' mean last-epoch gradient cosine, task affinity and gate weights."""
    page.heading("Why: gradient conflict, task affinity and gate use per cell")
    page.text("Last-epoch diagnostics of each cell, averaged over its seeds "
              "(training/diagnostics.py). Open a run's own report (python report.py --run "
              f"{study_dir}/runs/<cell>/seed<k>) for the curves over time.")
    for row in content["leaderboard"]:
        if row["group"] != "cell":
            continue
        histories = _cell_histories(study_dir, content, row["cell"])
        # The diagnostics cover every trained task, auxiliary ones included.
        trained = next((h[-1]["diagnostics"]["tasks"] for h in histories
                        if "tasks" in h[-1].get("diagnostics", {})), content["tasks"])
        _cell_matrices(page, row["cell"], histories, trained)
        _cell_gates(page, row["cell"], histories, trained)


def _cell_matrices(page, cell, histories, trained):
    """The cell's mean gradient cosine and task affinity (where its runs measured them)."""
    cos = _mean_diagnostic(histories, "gradient_cosine")
    if cos is not None:
        page.figure(plots.matrix(cos, trained, f"{cell}: gradient cosine"),
                    f"cosine_{cell}", f"{cell}: mean gradient cosine.")
    z = _mean_diagnostic(histories, "affinity")
    if z is not None:
        scale = plots.symmetric_scale(z)
        page.figure(plots.matrix(z, trained, f"{cell}: task affinity", vmin=-scale,
                                 vmax=scale, fmt="{:.1e}"),
                    f"affinity_{cell}", f"{cell}: task affinity Z[i → j].")


def _cell_gates(page, cell, histories, trained):
    """The cell's mean gate weight per expert, where every seed's gates have the same experts."""
    gates = [h[-1]["diagnostics"]["gates"] for h in histories
             if h[-1].get("diagnostics", {}).get("gates")]
    gated = [t for t in trained if gates and t in gates[0]]
    if gated and all(len(g[t]["weights"]) == len(gates[0][gated[0]]["weights"])
                     for g in gates for t in gated):
        w = np.mean([[g[t]["weights"] for t in gated] for g in gates], axis=0)
        page.figure(plots.matrix(w, gated, f"{cell}: mean gate weight", cmap="Blues",
                                 vmin=0.0, vmax=1.0,
                                 col_labels=gates[0][gated[0]]["experts"] or None),
                    f"gates_{cell}", f"{cell}: gate weight per expert.")
