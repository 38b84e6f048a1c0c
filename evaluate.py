#!/usr/bin/env python
"""Evaluate a trained run on a split and print per-task metrics.

    python evaluate.py --run runs/default                # test split
    python evaluate.py --run runs/default --split validation

Writes `<run>/evaluation_<split>.json` ({"<task>": {"<metric>": value}}).
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

    config = load_config(os.path.join(args.run, "config.yaml"))
    experiment = Experiment(config)
    model = models.load_model(os.path.join(args.run, args.model_file))
    trainer = experiment.make_trainer(model, run_dir=None, tasks=model.tasks, verbose=0)
    results = trainer.evaluate(experiment.eval_data(args.split, tasks=model.tasks))
    print(format_table(results, title=f"{args.split} metrics ({args.run}):"))
    write_json(os.path.join(args.run, f"evaluation_{args.split}.json"), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
