#!/usr/bin/env python
"""pCVR on ALL impressions of `conversion_funnel`: each run's model against the truth.

For every run dir given (or found under a study's output), loads `best.keras`, predicts
the `conversion` output (pCVR) on the run's test split, regenerated from the run's
`data.options` (the generator is deterministic, so these are the impressions the run
was tested on), and prints `tasks.metrics.entire_space_metrics`: AUC against
the potential outcomes, calibration bias and KL to the true conversion probabilities,
on all impressions and on the clicked / not clicked ones, with mean and sd over seeds
per group of runs. The first row is the truth itself (the best any model can do).

    python results/funnel/measure.py --study studies/funnel --output results/funnel/entire_space.json
    python results/funnel/measure.py runs/esmm runs/naive
"""

import argparse
import glob
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
import yaml  # noqa: E402

COLUMNS = ("auc_all", "auc_clicked", "auc_unclicked", "bias_all", "bias_unclicked", "kl")


def run_dirs(study):
    """The multi-task cells' and single-task baselines' run dirs of a study with a
    `conversion` task: {group label: [run dirs]}."""
    groups = {}
    for path in sorted(glob.glob(os.path.join(study, "runs", "*", "seed*"))) + sorted(
            glob.glob(os.path.join(study, "single_task", "**", "conversion", "seed*"),
                      recursive=True)):
        if os.path.exists(os.path.join(path, "best.keras")):
            label = os.path.relpath(os.path.dirname(path), study)
            groups.setdefault(label, []).append(path)
    return groups


def measure(run_dir):
    import models
    from data.conversion_funnel import FunnelParams, generate_split
    from tasks.metrics import entire_space_metrics
    with open(os.path.join(run_dir, "config.yaml")) as f:
        config = yaml.safe_load(f)
    if config["data"]["name"] != "conversion_funnel":
        raise SystemExit(f"{run_dir}: not a conversion_funnel run")
    params = FunnelParams(**(config["data"]["options"] or {}))
    split = generate_split(params, 2)
    model = models.load_model(os.path.join(run_dir, "best.keras"))
    if "conversion" not in model.output_names:
        raise SystemExit(f"{run_dir}: the model has no `conversion` output (pCVR)")
    import tensorflow as tf
    inputs = {k: split[k] for k in ("user", "price", "position")}
    inputs["item"] = split["item"].astype(bytes)
    ds = tf.data.Dataset.from_tensor_slices(inputs).batch(4096)
    pcvr = np.concatenate([np.asarray(model(x, training=False)["conversion"]) for x in ds])
    return entire_space_metrics(pcvr, split), params, split


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="*", help="run dirs")
    p.add_argument("--study", help="a study output dir (every run with a conversion output)")
    p.add_argument("--output", help="write the figures as JSON here")
    args = p.parse_args(argv)
    from tasks.metrics import entire_space_metrics
    groups = run_dirs(args.study) if args.study else {}
    for run in args.runs:
        groups.setdefault(os.path.normpath(run), []).append(run)
    if not groups:
        raise SystemExit("no runs given or found")
    results, truth = {}, None
    for label, dirs in groups.items():
        rows = []
        for run_dir in dirs:
            metrics, params, split = measure(run_dir)
            rows.append(metrics)
            if truth is None:
                truth = entire_space_metrics(split["cvr_probability"], split)
        results[label] = {"runs": dirs, "per_run": rows,
                          "mean": {c: float(np.mean([r[c] for r in rows])) for c in COLUMNS},
                          "sd": {c: float(np.std([r[c] for r in rows], ddof=1)) if len(rows) > 1
                                 else float("nan") for c in COLUMNS}}
    width = max(len(k) for k in list(results) + ["truth"])
    print(f"{'':<{width}}  n  " + "  ".join(f"{c:>16}" for c in COLUMNS))
    print(f"{'truth':<{width}}  -  " + "  ".join(f"{truth[c]:>16.4f}" for c in COLUMNS))
    for label, r in results.items():
        cells = [f"{r['mean'][c]:.4f} ± {r['sd'][c]:.4f}" if len(r["per_run"]) > 1
                 else f"{r['mean'][c]:.4f}" for c in COLUMNS]
        print(f"{label:<{width}}  {len(r['per_run'])}  " + "  ".join(f"{c:>16}" for c in cells))
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"truth": truth, "groups": results}, f, indent=1)
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
