#!/usr/bin/env python
"""What the affinity for task grouping costs: the affinity run against an ordinary run of the
same epochs, on a study's base experiment.

    python bench/grouping_cost.py                                  # configs/grouping_shapes.yaml
    python bench/grouping_cost.py --config configs/grouping_planted.yaml --per_epoch 4
    python bench/grouping_cost.py --set train.epochs=2 --rounds 3

A study with `grouping:` trains, per seed, one network of every task for
`grouping.affinity_epochs` epochs while recording the inter-task affinity on
`grouping.affinity_per_epoch` sampled steps of each epoch (`training/diagnostics.py`:
a lookahead step on each task's gradient and every task's loss after it, T forward
passes per sample). That is the grouping's whole extra cost: this script trains the
base experiment's every task in one network both ways, the affinity run
(`training/grouping/configs.py:affinity_config`) and an ordinary run (every diagnostic
off), the same epochs with validation, in alternating rounds so both see the same
background load, and prints the fastest and median round of each and the ratio
(target: <= 1.10). For scale, a third variant is a run with train.py's default
diagnostics (4 gradient samples and 1 affinity sample per epoch, gate statistics). The affinity run's epochs are the ordinary run's, so the ratio is
also that of the whole run (the final test evaluation, the same for both, left out).
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def trainers(config, per_epoch, epochs):
    """{variant: (trainer, experiment)} for the affinity run and the ordinary run."""
    import keras

    from training.experiment import Experiment
    from training.grouping.configs import affinity_config, group_config
    from training.study.plan import main_task_names

    tasks = main_task_names(config)
    variants = {
        "ordinary": group_config(config, tasks).replace(train={
            "epochs": epochs, "diagnostics_per_epoch": 0, "affinity_per_epoch": 0,
            "gate_diagnostics": False}),
        "affinity": affinity_config(config, tasks, epochs, per_epoch),
        "defaults": group_config(config, tasks).replace(train={
            "epochs": epochs, "diagnostics_per_epoch": 4, "affinity_per_epoch": 1,
            "gate_diagnostics": True})}
    out = {}
    for name, cfg in variants.items():
        experiment = Experiment(cfg)
        experiment.prepare()
        keras.utils.set_random_seed(cfg.train.seed)
        out[name] = (experiment.make_trainer(experiment.build_model(), None, verbose=0),
                     experiment)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/grouping_shapes.yaml",
                    help="the base experiment (a grouping study's base)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a key of the config (repeatable)")
    ap.add_argument("--per_epoch", type=int, default=None,
                    help="affinity samples per epoch (default: grouping.affinity_per_epoch's)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="epochs of each run (default: grouping.affinity_epochs')")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)

    import tensorflow as tf

    from training.config import load_config
    from training.grouping.spec import GroupingSpec

    default = GroupingSpec()
    per_epoch = args.per_epoch or default.affinity_per_epoch
    epochs = args.epochs or default.affinity_epochs
    built = trainers(load_config(args.config, args.set), per_epoch, epochs)
    times = {name: [] for name in built}
    for r in range(args.rounds + 1):  # round 0 traces every function: not timed
        for name, (trainer, experiment) in built.items():
            start = time.perf_counter()
            history = trainer.fit(experiment.train_fn(), experiment.eval_data("validation"),
                                  epochs=epochs)
            if r:
                times[name].append(time.perf_counter() - start)
    steps = int(built["affinity"][1].train_fn()(0).cardinality())
    samples = sum(len(h.get("diagnostics", {}).get("affinity_samples", [])) for h in history)
    tasks = [t.name for t in built["affinity"][1].tasks]
    print(f"TensorFlow {tf.__version__}; {args.config} {' '.join(args.set)}; {len(tasks)} tasks "
          f"({', '.join(tasks)}); {epochs} epochs of {steps} steps, {samples} affinity samples "
          f"({per_epoch} per epoch); {args.rounds} rounds; {os.cpu_count()} CPU cores")
    for name, ts in times.items():
        print(f"  {name:<9} run {min(ts):7.2f} s (fastest)  {statistics.median(ts):7.2f} s (median)")
    fastest = min(times["affinity"]) / min(times["ordinary"])
    median = statistics.median(times["affinity"]) / statistics.median(times["ordinary"])
    print(f"  ratio affinity/ordinary: {fastest:.3f} (fastest), {median:.3f} (median); "
          "target <= 1.10")
    print(f"  ratio affinity/defaults: {min(times['affinity']) / min(times['defaults']):.3f} "
          "(fastest; a run with train.py's default diagnostics)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
