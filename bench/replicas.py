"""Wall time of S MMoE-synthetic runs as one graph (`training/replicas/`) against one at a time.

    flock /work/wt/train.lock python bench/replicas.py                  # S = 64, 10 epochs
    python bench/replicas.py --seeds 8 --epochs 2 --train_size 2000     # a quick look
    flock /work/wt/train.lock python bench/replicas.py --single_runs 4  # 4 runs, scaled to 64
    python bench/replicas.py --support       # what trains in one graph

Every run is `configs/mmoe_synthetic.yaml` (MMoE, 8 experts of 16 units, towers of 8,
10,000 training examples, batch 128) with its own seed for the weights, the data order
and the data (`data.options.seed`), diagnostics off. Both ways train the same runs and
write the same files; the datasets one at a time reads are built before either clock
starts (one TFDS build per seed; one graph draws mmoe_synthetic's arrays in memory).
"One at a time" calls `Experiment.train` in this process, run after run (a `train.py`
process per run would add its start-up, about 5 s each); `--single_runs N` times it on
the first N runs and scales by S / N. It prints both wall times, the speed-up, the
largest relative difference between the two ways' test RMSEs, and the load average.
Shared CPUs are noisy: hold the lock.

`--support` trains every registered architecture with the `mlp` encoder, and the `cnn`
encoder, as a group of 2 seeds for one epoch on 256 examples; it prints one line per
case: `one graph`, or the one-line reason it falls back to one run per process.
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def configs(seeds, epochs, train_size, data_dir):
    from training.config import load_config

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return [load_config(os.path.join(repo, "configs", "mmoe_synthetic.yaml"), [
        f"train.seed={s}", f"data.options.seed={s}", f"train.epochs={epochs}",
        f"data.options.train_size={train_size}", f"data.data_dir={data_dir}",
        "train.diagnostics_per_epoch=0", "train.affinity_per_epoch=0",
        "train.gate_diagnostics=false"]) for s in range(seeds)]


def one_graph(cfgs, out):
    from training.experiment import Experiment
    from training.replicas.group import ReplicaGroup

    start = time.perf_counter()
    group = ReplicaGroup([Experiment(c) for c in cfgs],
                         [os.path.join(out, "graph", f"seed{i}") for i in range(len(cfgs))],
                         os.path.join(out, "graph", "group"),
                         seed_keys=["train.seed", "data.options.seed"], verbose=0)
    results = group.train(resume=False)
    return time.perf_counter() - start, results


def one_at_a_time(cfgs, out):
    from training.experiment import Experiment

    start, results = time.perf_counter(), []
    for i, c in enumerate(cfgs):
        results.append(Experiment(c).train(os.path.join(out, "single", f"seed{i}"), verbose=0))
    return time.perf_counter() - start, results


def support_cases():
    """(label, config file, overrides): every registered architecture with the `mlp`
    encoder (on mmoe_synthetic; ESMM and AITM on conversion_funnel, the data they need)
    and the `cnn` encoder (shared bottom on multi_mnist)."""
    from models.registry import ARCHITECTURES

    small = ["data.options.dim=10", "data.options.train_size=256",
             "data.options.validation_size=128", "data.options.test_size=128"]
    cases = []
    for name in ARCHITECTURES.names():
        if name in ("esmm", "aitm"):
            cases.append((f"{name} + mlp", f"arch_{name}.yaml", []))
        else:
            cases.append((f"{name} + mlp", "mmoe_synthetic.yaml", small + [
                f"model.architecture={name}", "model.args={tower_units: [8]}"]))
    cases.append(("shared_bottom + cnn", "arch_shared_bottom.yaml", []))
    return cases


def support(out):
    """{case: None (trains in one graph) or the one-line reason it falls back}; each case
    a group of 2 seeds, 256 training examples, one epoch."""
    from training.config import load_config
    from training.experiment import Experiment
    from training.replicas.group import ReplicaGroup, Unsupported

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    reasons = {}
    for label, path, sets in support_cases():
        cfgs = [load_config(os.path.join(repo, "configs", path), sets + [
            f"train.seed={s}", "train.epochs=1", "data.max_train_examples=256",
            "data.max_eval_examples=128", f"data.data_dir={os.path.join(out, 'tfds')}",
            "train.diagnostics_per_epoch=0", "train.affinity_per_epoch=0",
            "train.gate_diagnostics=false"]) for s in (0, 1)]
        where = os.path.join(out, label.replace(" + ", "_"))
        try:
            ReplicaGroup([Experiment(c) for c in cfgs],
                         [os.path.join(where, f"seed{s}") for s in (0, 1)],
                         os.path.join(where, "group"), verbose=0).train(resume=False)
            reasons[label] = None
        except Unsupported as e:
            reasons[label] = str(e)
        print(f"  {label:<22} {cfgs[0].data.name:<18} {reasons[label] or 'one graph'}",
              flush=True)
    return reasons


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=64, help="runs (S)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--train_size", type=int, default=10000)
    p.add_argument("--single_runs", type=int, default=None,
                   help="time one at a time on the first N runs only and scale to S "
                        "(default: all S)")
    p.add_argument("--support", action="store_true",
                   help="what trains in one graph: each architecture, mlp and cnn (no timing)")
    args = p.parse_args(argv)
    from training.experiment import Experiment

    out = tempfile.mkdtemp(prefix="bench_replicas_")
    if args.support:
        support(out)
        return 0
    cfgs = configs(args.seeds, args.epochs, args.train_size, os.path.join(out, "tfds"))
    measured = args.single_runs or args.seeds
    for c in cfgs[:measured]:  # one graph reads mmoe_synthetic's arrays without a build
        Experiment(c).prepare()
    load = os.getloadavg()[0]
    graph_s, graph = one_graph(cfgs, out)
    single_s, single = one_at_a_time(cfgs[:measured], out)
    diff = max(abs(a[t]["rmse"] - b[t]["rmse"]) / b[t]["rmse"]
               for a, b in zip(graph, single) for t in ("y1", "y2"))
    scaled = single_s * args.seeds / measured
    print(f"{args.seeds} MMoE-synthetic runs, {args.epochs} epochs of {args.train_size} "
          f"examples, batch 128 (load average {load:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after, {os.cpu_count()} CPUs):")
    print(f"  one graph:      {graph_s:8.1f} s")
    how = "" if measured == args.seeds else \
        f" (measured on {measured} runs: {single_s:.1f} s, times {args.seeds}/{measured})"
    print(f"  one at a time:  {scaled:8.1f} s{how}")
    print(f"  speed-up:       {scaled / graph_s:8.1f}x; largest relative difference of test "
          f"RMSE between the two ways, over the runs trained both ways: {diff:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
