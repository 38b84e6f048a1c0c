#!/usr/bin/env python
"""Training step time fed by the real tf.data pipeline, as a ratio to the same step fed
from in-memory tensors. Aim: at most 1.05 (the pipeline hides behind the step).

    .venv/bin/python bench/pipeline.py                      # default.yaml's model, multi_mnist
    .venv/bin/python bench/pipeline.py --config configs/shapes.yaml --steps 60

Both feeds run the trainer's own step (`training.trainer.Trainer.train_step`) on
batches of the same shape; the pipeline is the one training uses (cached
decoded examples, seeded shuffle reshuffled per epoch, batching, AUTOTUNE
prefetch), measured in its steady state (after the first, decoding epoch).
The two feeds alternate for `--rounds` rounds and the medians are compared,
because other processes share the CPU. Prints one line per round and the ratio.
"""

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="configs/default.yaml")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--data_dir", default=None, help="TFDS data_dir (default: a temp dir)")
    p.add_argument("--steps", type=int, default=40, help="steps per round and feed")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--memory_batches", type=int, default=16,
                   help="distinct in-memory batches cycled by the in-memory feed")
    return p.parse_args(argv)


def time_steps(step, batches, steps):
    """Seconds per step over `steps` steps; waits for the last result."""
    import tensorflow as tf

    start = time.perf_counter()
    for _, batch in zip(range(steps), batches):
        out = step(batch)
    # Block until the last step is done: fetch one of its tensors.
    tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, out)
    return (time.perf_counter() - start) / steps


def main(argv=None):
    args = parse_args(argv)
    import tensorflow as tf

    from data import pipeline
    from training.config import load_config
    from training.experiment import Experiment

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="bench_tfds_")
    config = load_config(args.config, [f"data.data_dir={data_dir}"] + args.set)
    experiment = Experiment(config)
    experiment.prepare()
    model = experiment.build_model()
    trainer = experiment.make_trainer(model, run_dir=None, verbose=0)
    batch_size = config.train.batch_size

    # The real pipeline, steady state: cached examples, reshuffled every epoch, endless.
    base = experiment.examples("train")
    real = pipeline.batch(base.repeat(), batch_size, shuffle_seed=config.train.seed,
                          shuffle_buffer=config.data.shuffle_buffer, drop_remainder=True)
    for _ in pipeline.batch(base, 1024):  # first epoch: decode into the cache
        pass
    real_iter = iter(real)
    # In-memory: the same kind of batches, already tensors.
    memory = [next(real_iter) for _ in range(args.memory_batches)]
    memory_iter = itertools.cycle(memory)

    step = trainer.train_step
    time_steps(step, memory_iter, 5)  # trace and warm up both feeds
    time_steps(step, real_iter, 5)
    real_times, memory_times = [], []
    for r in range(args.rounds):
        memory_times.append(time_steps(step, memory_iter, args.steps))
        real_times.append(time_steps(step, real_iter, args.steps))
        print(f"round {r + 1}: pipeline {real_times[-1] * 1e3:.2f} ms/step, "
              f"in-memory {memory_times[-1] * 1e3:.2f} ms/step")
    real_ms, memory_ms = statistics.median(real_times) * 1e3, statistics.median(memory_times) * 1e3
    print(f"dataset {config.data.name}, batch {batch_size}, model "
          f"{config.model.architecture}/{config.model.encoder}, "
          f"{tf.config.threading.get_inter_op_parallelism_threads() or 'default'} inter-op threads")
    print(f"median step: pipeline {real_ms:.2f} ms, in-memory {memory_ms:.2f} ms, "
          f"ratio {real_ms / memory_ms:.3f} (target <= 1.05)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
