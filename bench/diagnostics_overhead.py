#!/usr/bin/env python
"""What the default training diagnostics cost: epoch time with them on / off, for `equal`.

    python bench/diagnostics_overhead.py                  # 3 tasks, 157 steps per epoch
    python bench/diagnostics_overhead.py --steps 40 --rounds 3

The same small CNN as bench/weighting_overhead.py (`shared_bottom`, 28x28 images, batch
128) trains whole epochs with `Trainer.fit`: once with the default diagnostics
(`train.diagnostics_per_epoch: 4` gradient-cosine samples, `train.affinity_per_epoch: 1`
lookahead, gate statistics on 8 validation batches) and once without, in alternating
rounds so both see the same background load. 157 steps is one epoch of multi_mnist at
batch 128 (20,000 images). Prints the fastest round of each and the ratio (target:
<= 1.05), and the ratio of the medians.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=3)
    ap.add_argument("--batch_size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=157, help="steps per epoch")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)

    import tensorflow as tf

    from bench.weighting_overhead import build_case
    from training.testing import train_config
    from training.trainer import Trainer

    tasks, model_fn, batch = build_case(args.tasks, args.batch_size)
    train = tf.data.Dataset.from_tensors(batch).repeat(args.steps)
    val = tf.data.Dataset.from_tensors(batch).repeat(8)
    variants = {"off": train_config(), "default": train_config(
        diagnostics_per_epoch=4, affinity_per_epoch=1, gate_diagnostics=True)}
    trainers = {k: Trainer(model_fn(), tasks, c, verbose=0) for k, c in variants.items()}
    for trainer in trainers.values():  # trace everything, diagnostics included
        trainer.fit(lambda e: train, val, epochs=1)
    times = {k: [] for k in trainers}
    for r in range(args.rounds):
        for k, trainer in trainers.items():
            start = time.perf_counter()
            trainer.fit(lambda e: train, val, epochs=1)
            times[k].append(time.perf_counter() - start)
    print(f"TensorFlow {tf.__version__}; {args.tasks} tasks, batch {args.batch_size}, "
          f"{args.steps} steps per epoch; {args.rounds} rounds; {os.cpu_count()} CPU cores")
    for k, ts in times.items():
        print(f"  diagnostics {k:<8} epoch {min(ts):7.2f} s (fastest)  {statistics.median(ts):7.2f} s (median)")
    print(f"  ratio default/off: {min(times['default']) / min(times['off']):.3f} (fastest), "
          f"{statistics.median(times['default']) / statistics.median(times['off']):.3f} (median); "
          "target <= 1.05")
    return 0


if __name__ == "__main__":
    sys.exit(main())
