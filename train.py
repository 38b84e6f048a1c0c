#!/usr/bin/env python
"""Train a multi-task model from a YAML config.

    python train.py                                   # configs/default.yaml
    python train.py --config configs/tiny.yaml --output runs/tiny
    python train.py --config configs/default.yaml --set train.epochs=5 --set data.tasks=[left,right]
    python train.py --list                            # datasets, architectures, ... by name

Writes to the run dir: config.yaml (resolved), checkpoints/ (each epoch),
best.keras (best on `train.monitor`), logs/ (TensorBoard), history.json and
metrics.json (final test metrics, {"<task>": {"<metric>": value}}).
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_CONFIG = "configs/default.yaml"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=None, help=f"YAML config (default {DEFAULT_CONFIG})")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set train.epochs=2 (repeatable)")
    p.add_argument("--output", default=None, help="run dir (default runs/<config name>)")
    p.add_argument("--resume", action="store_true", help="continue from the run dir's last checkpoint")
    p.add_argument("--list", action="store_true", help="print the selectable names and exit")
    return p.parse_args(argv)


def list_names():
    import data
    import models
    from models.encoders import ENCODERS
    from training.weighting import WEIGHTINGS

    print("datasets (data.name):           " + ", ".join(data.list_datasets()))
    print("architectures (model.architecture): " + ", ".join(models.list_architectures()))
    print("encoders (model.encoder):       " + ", ".join(sorted(ENCODERS)))
    print("weighting (train.weighting):    " + ", ".join(sorted(WEIGHTINGS)))
    print("optimizers (train.optimizer):   adam, adamw, rmsprop, sgd")


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        list_names()
        return 0
    from training.config import ConfigError, load_config

    config_path = args.config or DEFAULT_CONFIG
    try:
        config = load_config(config_path, args.set)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    run_dir = args.output or os.path.join("runs", os.path.splitext(os.path.basename(config_path))[0])

    from training.experiment import Experiment, format_table

    try:
        experiment = Experiment(config)
    except (ValueError, KeyError) as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    print(f"dataset {config['data']['name']}: tasks {', '.join(t.name for t in experiment.tasks)}; "
          f"architecture {config['model']['architecture']}; run dir {run_dir}")
    results = experiment.train(run_dir, resume=args.resume)
    print(format_table(results, title="Test metrics (best checkpoint):"))
    print(f"wrote {os.path.join(run_dir, 'metrics.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
