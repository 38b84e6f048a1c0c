#!/usr/bin/env python
"""Evaluate a trained run on a split: per-task metrics, Δm against the single-task
baselines, and the mean gate weight per expert per task (MMoE, CGC, PLE).

    python evaluate.py --run runs/default                # test split
    python evaluate.py --run runs/default --split validation

Writes to the run dir:
- `evaluation_<split>.json`: {"<task>": {"<metric>": value}};
- `delta_m_<split>.json` when `<run>/baselines/<task>/best.keras` exist (from
  `train.py --baselines`): per task the metric used (`train.primary_metrics`, else
  binary: exact AUC; multiclass: accuracy; multilabel: f1; regression: rmse, lower
  is better), the multi-task and the
  single-task values and the relative improvement in %, and `delta_m`, their mean;
- `gates_<split>.json` for gated models: {"<task>": {"<expert>": mean weight}}.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="run dir written by train.py")
    p.add_argument("--split", default="test", help="train, validation or test")
    p.add_argument("--model_file", default="best.keras")
    args = p.parse_args(argv)

    import models
    from training.config import load_config
    from training.experiment import Experiment, format_table, write_json

    experiment = Experiment(load_config(os.path.join(args.run, "config.yaml")))
    model = models.load_model(os.path.join(args.run, args.model_file))
    data = experiment.eval_data(args.split, tasks=model.tasks)
    results = experiment.evaluator(model).evaluate(data, exact=True)
    print(format_table(results, title=f"{args.split} metrics ({args.run}):"))
    write_json(os.path.join(args.run, f"evaluation_{args.split}.json"), results)
    write_delta_m(experiment, model, results, args)
    write_gates(model, data, args)
    return 0


def write_delta_m(experiment, model, results, args):
    """Δm against the run's single-task baselines, when there are any."""
    import models
    from training.baselines import BASELINES_DIR, baseline_dir, delta_m, format_delta_m
    from training.experiment import write_json

    single = {}
    for task in model.tasks:
        path = os.path.join(baseline_dir(args.run, task.name), "best.keras")
        if os.path.exists(path):
            baseline = models.load_model(path)
            data = experiment.eval_data(args.split, tasks=baseline.tasks)
            single[task.name] = experiment.evaluator(baseline).evaluate(
                data, exact=True)[task.name]
    if not single:
        print(f"(no single-task baselines in {os.path.join(args.run, BASELINES_DIR)}; "
              "train them with train.py --baselines to get Δm)")
        return
    report = delta_m(results, single, model.tasks, experiment.primary_metrics(model.tasks))
    report["split"] = args.split
    print(format_delta_m(report, title=f"Multi-task vs single-task ({args.split}):"))
    write_json(os.path.join(args.run, f"delta_m_{args.split}.json"), report)


def write_gates(model, data, args):
    """The mean gate weight per expert per task, for gated models."""
    from models.inspection import format_gate_weights, gate_experts, mean_gate_weights
    from training.experiment import write_json

    gates = mean_gate_weights(model, data)
    if gates:
        print(f"Mean gate weight per expert ({args.split}):")
        for line in format_gate_weights(model, gates):
            print("  " + line)
        experts = gate_experts(model)
        write_json(os.path.join(args.run, f"gates_{args.split}.json"),
                   {task: dict(zip(experts[f"gate_{task}"], ws)) for task, ws in gates.items()})


if __name__ == "__main__":
    sys.exit(main())
