"""The report of a protocol study (`protocol: mmoe_paper`): the MMoE paper's synthetic
experiment as the paper runs it (training/protocols/mmoe_paper).

Reads `<study>/study.json` (written by `study.py`) and writes `<study>/report/`:
`index.html` (self-contained), the PNGs and `summary.md`. Per sine setting: whether
it counts (a setting at the linear-fit floor does not), the claims (i)-(iv) with each
part's value, 95% bootstrap interval and verdict, the mean loss curves over steps with
95% bands per model and correlation (the paper's Figures 3-4), the final-loss
histograms per model (Figure 5) and the final losses against the floor; then the
learning rates the pilot picked.

Example:
>>> from reporting.protocol_report import write_protocol_report
>>> path = write_protocol_report("studies/mmoe_paper")     # doctest: +SKIP
"""

import math
import os

from reporting import protocol_plots
from reporting.page import Page

VERDICT_CLASS = {"reproduced": "better", "contradicted": "worse"}


def _fmt(x, digits=3):
    return "–" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def write_protocol_report(study_dir, content, output=None):
    """Writes the report of the protocol study in `study_dir` (its `study.json` read as
    `content`); returns the path of index.html."""
    spec = content["spec"]
    page = Page(f"Protocol study: {content['name']} (the MMoE paper's synthetic experiment)")
    page.text(f"{content['runs_done']} of {spec['runs']} runs per model, correlation and sine "
              f"setting done; {spec['steps']} steps of batch size {content['batch_size']}, losses recorded every "
              f"{spec['record_every']} steps. Final loss: {content['final_loss']}. Bands and "
              "intervals: 95% (curves: the mean ± 1.96 standard errors over runs; claims: "
              "bootstrap over runs, paired by seed).")
    for sines, entry in content["sines"].items():
        sine_section(page, sines, entry, spec["sines"].get(sines))
    pilot_section(page, content.get("pilot") or {})
    return page.write(output or os.path.join(study_dir, "report"))


def sine_section(page, sines, entry, overrides):
    """One sine setting: its standing, claims, curves, histograms and floor."""
    page.heading(f"Sine setting {sines}")
    page.text(f"Data overrides: {overrides}. Runs paired over every model and correlation: "
              f"{entry['paired_runs']}.")
    if entry["at_floor"]:
        page.note(f"{sines}: {entry['note']}.")
    if not entry["flat"]:
        page.note(f"The mean held-out loss still falls by up to "
                  f"{entry['largest_last_fifth_drop']:.1%} over the last fifth of the steps: "
                  "the curves have not flattened.")
    claims_table(page, entry)
    floor_table(page, entry)
    curves = entry["curves"]
    for split in ("train", "validation"):
        page.figure(protocol_plots.loss_curves(curves, split, entry["floor"]),
                    f"{sines}_{split}_curves", f"{sines}: mean {split} loss over steps per "
                    "model, 95% band (the paper's Figure 3; log scale); grey: the linear fit's test "
                    "loss.")
    page.figure(protocol_plots.correlation_curves(curves, "validation"),
                f"{sines}_correlations", f"{sines}: each model's held-out loss at each "
                "correlation (the paper's Figure 4).")
    page.figure(protocol_plots.final_histograms(entry["final"]), f"{sines}_histograms",
                f"{sines}: final test loss of every run, per model (the paper's Figure 5; log "
                "scale).")


def claims_table(page, entry):
    """Each claim's verdict, then each of its parts with value and interval."""
    claims = entry.get("claims")
    if not claims:
        page.text("Claims: fewer than 2 paired runs, nothing to test.")
        return
    counted = "" if entry["counted"] else " (not counted: at the floor)"
    rows, classes = [], []
    for key, claim in claims.items():
        rows.append([f"({key}) {claim['claim']}", "", "", claim["verdict"] + counted])
        classes.append(["", "", "", VERDICT_CLASS.get(claim["verdict"], "")])
        for part in claim["parts"]:
            state = "holds" if part["holds"] else "contradicted" if part["contradicted"] \
                else "interval spans the threshold"
            rows.append([f"    {part['name']}", _fmt(part["value"], 4),
                         f"[{_fmt(part['ci_low'], 4)}, {_fmt(part['ci_high'], 4)}]", state])
            classes.append([""] * 4)
    page.table(["claim / part", "value", "95% interval", "verdict"], rows, classes)


def floor_table(page, entry):
    """Final loss per model and correlation against the linear fit and the label variance."""
    final, floor, variance = entry["final"], entry["floor"], entry["label_variance"]
    rows = [[model, p, _fmt(e["mean"]), f"[{_fmt(e['low'])}, {_fmt(e['high'])}]",
             _fmt(e["sd"]), _fmt(floor[p]["mean"]), _fmt(variance[p]["mean"]),
             str(e["not_finite"])]
            for model, ps in final.items() for p, e in ps.items()]
    page.table(["model", "correlation", "final loss", "95% interval", "sd over runs",
                "linear-fit floor", "label variance", "non-finite runs"], rows)


def pilot_section(page, pilot):
    """The learning rate each model and correlation got, with the pilot's losses."""
    page.heading("Pilot: the learning rates")
    if not pilot:
        page.text("The pilot has not finished.")
        return
    page.text("Each model and correlation trains at the rate whose pilot runs reached the "
              "lowest mean held-out loss at the last step.")
    rows = []
    for sines, models in pilot.items():
        for model, ps in models.items():
            for p, e in ps.items():
                losses = ", ".join(f"{lr}: {_fmt(v)}" for lr, v in e["rates"].items())
                rows.append([sines, model, p, f"{e['chosen']:g}", losses,
                             f"{e['last_fifth_drop']:.2%}"])
    page.table(["sines", "model", "correlation", "chosen", "held-out loss per rate",
                "last-fifth drop (chosen)"], rows)
