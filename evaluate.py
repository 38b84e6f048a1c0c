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
    from training.baselines import BASELINES_DIR, baseline_dir, delta_m, format_delta_m
    from training.config import load_config
    from training.experiment import Experiment, format_table, write_json

    config = load_config(os.path.join(args.run, "config.yaml"))
    experiment = Experiment(config)
    model = models.load_model(os.path.join(args.run, args.model_file))
    trainer = experiment.make_trainer(model, run_dir=None, tasks=model.tasks, verbose=0,
                                      weighting="equal")
    data = experiment.eval_data(args.split, tasks=model.tasks)
    results = trainer.evaluate(data, exact=True)
    print(format_table(results, title=f"{args.split} metrics ({args.run}):"))
    write_json(os.path.join(args.run, f"evaluation_{args.split}.json"), results)

    single = {}
    for task in model.tasks:
        path = os.path.join(baseline_dir(args.run, task.name), "best.keras")
        if os.path.exists(path):
            baseline = models.load_model(path)
            bt = experiment.make_trainer(baseline, run_dir=None, tasks=baseline.tasks, verbose=0,
                                         weighting="equal")
            single[task.name] = bt.evaluate(experiment.eval_data(args.split, tasks=baseline.tasks),
                                            exact=True)[task.name]
    if single:
        report = delta_m(results, single, model.tasks, experiment.primary_metrics(model.tasks))
        report["split"] = args.split
        print(format_delta_m(report, title=f"Multi-task vs single-task ({args.split}):"))
        write_json(os.path.join(args.run, f"delta_m_{args.split}.json"), report)
    else:
        print(f"(no single-task baselines in {os.path.join(args.run, BASELINES_DIR)}; "
              "train them with train.py --baselines to get Δm)")

    from models.inspection import format_gate_weights, gate_experts, mean_gate_weights
    gates = mean_gate_weights(model, data)
    if gates:
        print(f"Mean gate weight per expert ({args.split}):")
        for line in format_gate_weights(model, gates):
            print("  " + line)
        experts = gate_experts(model)
        write_json(os.path.join(args.run, f"gates_{args.split}.json"),
                   {task: dict(zip(experts[f"gate_{task}"], ws)) for task, ws in gates.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
