"""`study.json` of a `protocol: mmoe_paper` study: what the report and the docs read.

Per sine setting, model and correlation: the mean loss curve over the recorded steps
with its 95% band (the interval of the mean over runs, mean ± 1.96 standard errors),
for the training loss (the mean over each window of `record_every` steps) and the
held-out (validation) loss; each run's final loss; the linear-fit floor and the label
variance; and the claims (i)-(iv) (`claims.check_claims`) over the runs every model
and correlation has finished (paired by seed). A run's **final loss** is the mean over
the two tasks of its test MSE after the last step (not at a best step: the paper's
final loss). A sine setting where every model at every correlation ends within
`FLOOR_MARGIN` of the linear-fit floor (or above it) is flagged "at the floor: not
counted": no architecture can be told apart there, and its claims are not counted.

Example:
>>> floor_flag({"mmoe": {"0.5": {"mean": 4.0}}}, {"0.5": {"mean": 4.1}})
(True, 'at the floor: not counted (every model ends within 5% of the linear fit or above it)')
>>> floor_flag({"mmoe": {"0.5": {"mean": 1.0}}}, {"0.5": {"mean": 4.1}})[0]
False
"""

import os

import numpy as np

from training.experiment import write_json
from training.protocols.mmoe_paper.claims import check_claims
from training.protocols.mmoe_paper.runner import FLAT, last_fifth_drop, pick_rates, read_chunks

FLOOR_MARGIN = 0.05     # "at the floor": a mean final loss above 95% of the linear fit's
FINAL_LOSS = ("the mean over the two tasks of each run's test MSE after the last step")


def band(values):
    """{"mean", "low", "high", "n"} over runs (axis 0) of `values` [N, ...]: the 95%
    interval of the mean (normal approximation), non-finite runs left out."""
    values = np.asarray(values, np.float64)
    finite = np.isfinite(values)
    n = finite.sum(axis=0)
    mean = np.nanmean(np.where(finite, values, np.nan), axis=0)
    sd = np.nanstd(np.where(finite, values, np.nan), axis=0, ddof=1) if values.shape[0] > 1 \
        else np.zeros_like(mean)
    half = 1.96 * sd / np.sqrt(np.maximum(n, 1))
    return {"mean": _list(mean), "low": _list(mean - half), "high": _list(mean + half),
            "n": _list(n)}


def _list(a):
    a = np.asarray(a, np.float64)
    return a.tolist() if a.ndim else float(a)


def collect(spec, output, picked):
    """{sines: {model: {p: {name: [runs, ...]}}}} over the finished main chunks, each run's
    arrays (tasks averaged), runs in seed order; and the seeds of each entry."""
    found = {}
    for chunk, arrays in read_chunks(spec, output, picked):
        for i, (p, _, seed) in enumerate(chunk.replicas):
            entry = found.setdefault(chunk.sines, {}).setdefault(chunk.model, {}).setdefault(
                f"{p:g}", {"seed": [], "train": [], "validation": [], "test": [],
                           "floor": [], "label_variance": [], "steps": arrays["steps"]})
            entry["seed"].append(int(seed))
            for name in ("train", "validation", "test", "floor", "label_variance"):
                entry[name].append(np.mean(arrays[name][i], axis=-1))
    for models in found.values():
        for ps in models.values():
            for entry in ps.values():
                order = np.argsort(entry["seed"])
                for name in ("seed", "train", "validation", "test", "floor", "label_variance"):
                    entry[name] = np.asarray(entry[name])[order]
    return found


def paired_runs(models):
    """The seeds that every model and correlation finished with a finite final loss."""
    common = None
    for ps in models.values():
        for entry in ps.values():
            seeds = set(entry["seed"][np.isfinite(entry["test"])].tolist())
            common = seeds if common is None else common & seeds
    return sorted(common or ())


def final_losses(models, seeds):
    """{model: {p (float): [final loss of each of `seeds`]}}, aligned by seed."""
    out = {}
    for model, ps in models.items():
        for p, entry in ps.items():
            where = {s: i for i, s in enumerate(entry["seed"].tolist())}
            out.setdefault(model, {})[float(p)] = entry["test"][[where[s] for s in seeds]]
    return out


def floor_flag(finals, floor):
    """(flagged, note): every model at every correlation ends at the linear-fit floor."""
    at = all(finals[m][p]["mean"] >= (1.0 - FLOOR_MARGIN) * floor[p]["mean"]
             for m in finals for p in finals[m])
    if not at:
        return False, ""
    return True, (f"at the floor: not counted (every model ends within {FLOOR_MARGIN:.0%} of "
                  "the linear fit or above it)")


def sine_summary(models):
    """One sine setting's curves, final losses, floor, flag and claims."""
    curves, finals, floor, variance = {}, {}, {}, {}
    for model, ps in models.items():
        for p, e in ps.items():
            curves.setdefault(model, {})[p] = {
                "steps": _list(e["steps"]), "train_steps": _list(e["steps"][1:]),
                "train": band(e["train"]), "validation": band(e["validation"]),
                "last_fifth_drop": last_fifth_drop(e["steps"], e["validation"])}
            finals.setdefault(model, {})[p] = {
                **{k: v for k, v in band(e["test"]).items()},
                "sd": float(np.nanstd(e["test"], ddof=1)) if len(e["test"]) > 1 else 0.0,
                "runs": _list(e["test"]), "seeds": e["seed"].tolist(),
                "not_finite": int(np.sum(~np.isfinite(e["test"])))}
            floor.setdefault(p, []).extend(e["floor"].tolist())
            variance.setdefault(p, []).extend(e["label_variance"].tolist())
    floor = {p: {"mean": float(np.mean(v)), "sd": float(np.std(v))} for p, v in floor.items()}
    variance = {p: {"mean": float(np.mean(v))} for p, v in variance.items()}
    flagged, note = floor_flag(finals, floor)
    seeds = paired_runs(models)
    claims = check_claims(final_losses(models, seeds)) if len(seeds) >= 2 else None
    drops = [c["last_fifth_drop"] for ps in curves.values() for c in ps.values()]
    return {"curves": curves, "final": finals, "floor": floor, "label_variance": variance,
            "flat": bool(max(drops) < FLAT), "largest_last_fifth_drop": max(drops),
            "at_floor": flagged, "counted": not flagged, "note": note,
            "paired_runs": len(seeds), "claims": claims}


def write_summary(spec, output):
    """Writes `<output>/study.json`; returns its content."""
    picked = pick_rates(spec, output)  # the pilot's chunks, read once
    found = collect(spec, output, picked)
    done = [len(e["seed"]) for ms in found.values() for ps in ms.values() for e in ps.values()]
    complete = len(done) == len(spec.sines) * len(spec.models) * len(spec.correlations)
    content = {
        "protocol": "mmoe_paper", "name": spec.name, "study_file": spec.path,
        "spec": {k: getattr(spec, k) for k in (
            "models", "correlations", "sines", "learning_rates", "runs", "pilot_runs",
            "pilot_seed", "steps", "record_every", "replicas", "set")},
        "batch_size": spec.config(next(iter(spec.models)), spec.correlations[0],
                                  next(iter(spec.sines)), spec.learning_rates[0], 0
                                  ).train.batch_size,
        "final_loss": FINAL_LOSS, "floor_margin": FLOOR_MARGIN, "flat_below": FLAT,
        "runs_done": min(done) if done and complete else 0,
        "pilot": picked,
        "sines": {sines: sine_summary(models) for sines, models in found.items()}}
    write_json(os.path.join(output, "study.json"), content)
    return content
