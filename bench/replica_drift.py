"""How far a one-graph replica drifts from its own run, next to how far the same run drifts
from itself when only the rounding changes.

    flock /work/wt/train.lock python bench/replica_drift.py              # 2 seeds, 10 epochs
    python bench/replica_drift.py --seeds 1 --epochs 3 --train_size 2000 # a quick look

Trains the MMoE-synthetic runs of `bench/replicas.py` three ways: as replicas of one graph
(`training/replicas/`), as separate runs, and as separate runs whose initial weights are each
moved by one float32 rounding step (a difference of rounding only, as another kernel's
summation order makes). It prints, epoch by epoch, the largest relative difference of the
validation loss between the replica and its run, and between the run and its nudged twin,
then the same for the test RMSE. When both columns grow alike from ~1e-7, the replica's
drift is rounding amplified by training (chaotic, as any two kernels would give), not a
difference in what is computed (a wrong data order or update would show from one epoch on,
at full size).
"""

import argparse
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.replicas import configs, one_graph  # noqa: E402
from training.experiment import Experiment  # noqa: E402


class NudgedExperiment(Experiment):
    """An Experiment whose initial weights are each moved by one float32 rounding step
    (x (1 + 2^-23)): the smallest change a different summation order could make."""

    def build_model(self, *args, **kwargs):
        model = super().build_model(*args, **kwargs)
        factor = np.float32(1 + 2 ** -23)
        model.set_weights([w * factor for w in model.get_weights()])
        return model


def separate_runs(cfgs, out, make):
    """history and metrics of each config trained on its own, in this process."""
    runs = []
    for i, c in enumerate(cfgs):
        run = os.path.join(out, make.__name__, f"seed{i}")
        make(c).train(run, verbose=0)
        runs.append(read(run))
    return runs


def read(run):
    with open(os.path.join(run, "history.json")) as f:
        history = json.load(f)
    with open(os.path.join(run, "metrics.json")) as f:
        return history, json.load(f)


def relative(a, b):
    return abs(a - b) / abs(b)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--train_size", type=int, default=10000)
    args = p.parse_args(argv)
    out = tempfile.mkdtemp(prefix="bench_replica_drift_")
    cfgs = configs(args.seeds, args.epochs, args.train_size, os.path.join(out, "tfds"))
    one_graph(cfgs, out)
    graph = [read(os.path.join(out, "graph", f"seed{s}")) for s in range(args.seeds)]
    on = separate_runs(cfgs, out, Experiment)
    off = separate_runs(cfgs, out, NudgedExperiment)
    steps = -(-args.train_size // cfgs[0].train.batch_size)
    print(f"{args.seeds} seed(s), {args.epochs} epochs of {steps} steps; largest relative "
          "difference over the seeds")
    print(f"{'epoch':>5} {'step':>6} {'val_loss: replica vs run':>26} {'run vs nudged run':>19}")
    for e in range(args.epochs):
        g = max(relative(x[0][e]["val_loss"], y[0][e]["val_loss"]) for x, y in zip(graph, on))
        d = max(relative(x[0][e]["val_loss"], y[0][e]["val_loss"]) for x, y in zip(off, on))
        print(f"{e + 1:>5} {(e + 1) * steps:>6} {g:>26.1e} {d:>19.1e}")
    rmse = {name: max(relative(x[1][t]["rmse"], y[1][t]["rmse"]) for x, y in zip(runs, on)
                      for t in ("y1", "y2"))
            for name, runs in (("replica vs run", graph), ("run vs nudged run", off))}
    print("test RMSE: " + ", ".join(f"{k} {v:.1e}" for k, v in rmse.items()))
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
