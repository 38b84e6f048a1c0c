#!/usr/bin/env python
"""Train a multi-task model from a YAML config.

    python train.py                                   # configs/default.yaml
    python train.py --config configs/tiny.yaml --output runs/tiny
    python train.py --config configs/default.yaml --set train.epochs=5 --set data.tasks=[left,right]
    python train.py --config configs/tiny.yaml --set train.weighting=pcgrad
    python train.py --config configs/tiny.yaml --output runs/tiny --resume   # after a crash
    python train.py --config configs/tiny.yaml --output runs/tiny --resume=auto  # resume if possible
    python train.py --config configs/tiny.yaml --output runs/tiny --baselines  # + single-task models
    python train.py --list                            # datasets, architectures, methods by name
    python train.py --list mmoe                       # one of them: its arguments, their meaning
    python train.py --list config                     # every config key and its meaning

Multi-worker (one process per worker, the cluster in TF_CONFIG; see docs/guide/training.md):

    TF_CONFIG='{"cluster": {"worker": ["127.0.0.1:23456", "127.0.0.1:23457"]},
                "task": {"type": "worker", "index": 0}}' \\
        python train.py --config configs/tiny.yaml --strategy multi_worker --output runs/mw

Writes to the run dir: config.yaml (resolved), checkpoints/ (each epoch),
best.keras (best on `train.monitor`), logs/ (TensorBoard), history.json (per-epoch
metrics and task weights) and metrics.json (final test metrics,
{"<task>": {"<metric>": value}}); with --baselines also baselines/<task>/ (the same
files for each single-task model). Exit status: 0 done, 2 config error (a
`config error: <key>: ...` line naming the valid values; also --resume without a
checkpoint, or an unreadable checkpoint), 3 non-finite loss (the last good
checkpoint is kept).
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
    p.add_argument("--resume", nargs="?", const="yes", default=None, choices=("yes", "auto"),
                   help="continue from the run dir's last checkpoint; an error when there is "
                        "none, unless --resume=auto (then start afresh)")
    p.add_argument("--baselines", action="store_true",
                   help="also train one single_task model per task into <run>/baselines/<task>/")
    p.add_argument("--strategy", default="default", choices=("default", "mirrored", "multi_worker"),
                   help="distribution: one device, MirroredStrategy over local devices, or "
                        "MultiWorkerMirroredStrategy with the cluster from TF_CONFIG")
    p.add_argument("--list", nargs="?", const="", default=None, metavar="NAME",
                   help="print the selectable names and exit; with a NAME, that thing's "
                        "arguments (types, valid values, defaults, meaning); 'config': every "
                        "config key")
    return p.parse_args(argv)


def list_names():
    import data
    import models
    from tasks import list_kinds
    from training.optimizers import list_optimizers
    from training.weighting import WEIGHTINGS, list_weightings

    balancing = [n for n in list_weightings() if WEIGHTINGS.get(n).balances_gradients]
    weighting = [n for n in list_weightings() if n not in balancing]
    print("datasets (data.name):           " + ", ".join(data.list_datasets()))
    print("task kinds (kind):              " + ", ".join(list_kinds()))
    print("architectures (model.architecture): " + ", ".join(models.list_architectures()))
    print("encoders (model.encoder):       " + ", ".join(models.list_encoders()))
    print("loss weighting (train.weighting): " + ", ".join(weighting))
    print("gradient balancing (train.weighting): " + ", ".join(balancing))
    print("optimizers (train.optimizer):   " + ", ".join(list_optimizers()))
    print("(python train.py --list NAME: the arguments of one of them)")


def list_config_keys():
    from training.config import field_docs

    for key, (field, doc) in field_docs().items():
        default = field.default_factory() if callable(field.default_factory) else field.default
        print(f"{key}: default {default!r}" + (f"\n    {doc}" if doc else ""))


def list_one(name):
    """Prints `--list NAME`; 2 when nothing has that name."""
    from training.arguments import describe
    from utils.arguments import ArgumentError

    if name == "config":
        list_config_keys()
        return 0
    try:
        print(describe(name))
    except ArgumentError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def load(args):
    """(config, run dir) from the arguments; a config error is printed, None returned."""
    from training.config import ConfigError, load_config

    config_path = args.config or DEFAULT_CONFIG
    try:
        config = load_config(config_path, args.set)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        return None, None
    return config, args.output or os.path.join(
        "runs", os.path.splitext(os.path.basename(config_path))[0])


def main(argv=None):
    args = parse_args(argv)
    if args.list is not None:
        if args.list:
            return list_one(args.list)
        list_names()
        return 0
    config, run_dir = load(args)
    if config is None:
        return 2
    # The strategy comes first: multi-worker setup must precede any other TensorFlow op.
    from training.distribute import is_chief, make_strategy
    try:
        strategy = make_strategy(args.strategy)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from training.experiment import Experiment
    from training.trainer import latest_checkpoint

    try:
        experiment = Experiment(config, strategy=strategy, is_chief=is_chief(strategy))
    except (ValueError, KeyError) as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    if args.resume == "yes" and latest_checkpoint(run_dir) is None:
        print(f"config error: --resume: no checkpoint in {os.path.join(run_dir, 'checkpoints')}; "
              "train without --resume, or pass --resume=auto to resume only when there is one",
              file=sys.stderr)
        return 2
    return run(experiment, run_dir, args)


def run(experiment, run_dir, args):
    """Trains (and the baselines with --baselines); prints the results; the exit status."""
    from training.experiment import format_table
    from training.trainer import CheckpointError, NonFiniteLossError
    from utils.arguments import ArgumentError

    config, resume = experiment.config, args.resume is not None
    verbose = 1 if experiment.is_chief else 0
    if verbose:
        print(f"{experiment.data_name()}: tasks {', '.join(t.name for t in experiment.tasks)}; "
              f"architecture {config.model.architecture}; weighting {config.train.weighting}; "
              f"{experiment.strategy.num_replicas_in_sync} replica(s); run dir {run_dir}")
    try:
        results = experiment.train(run_dir, resume=resume, verbose=verbose)
        if args.baselines:
            from training.baselines import delta_m, format_delta_m, train_baselines
            single = train_baselines(experiment, run_dir, resume=resume, verbose=verbose)
    except ArgumentError as e:  # an argument that does not fit the data (the model build)
        print(f"config error: {e}", file=sys.stderr)
        return 2
    except NonFiniteLossError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if verbose:
        print(format_table(results, title="Test metrics (best checkpoint):"))
        print(f"wrote {os.path.join(run_dir, 'metrics.json')}")
        if args.baselines:
            print(format_delta_m(delta_m(results, single, experiment.tasks,
                                         experiment.primary_metrics()),
                                 title="Multi-task vs single-task (test; evaluate.py writes the JSON):"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
