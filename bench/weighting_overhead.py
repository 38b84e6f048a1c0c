#!/usr/bin/env python
"""Training step time of every weighting / gradient balancing method, as a ratio to `equal`.

    python bench/weighting_overhead.py                 # 2 and 4 tasks, every method
    python bench/weighting_overhead.py --methods pcgrad,mgda_ub --rounds 3
    python bench/weighting_overhead.py --memory        # + peak memory, one process per method

Trains a small CNN (`shared_bottom`, 28x28 synthetic images) on synthetic tasks
with `Trainer.train_step`. Methods that need per-task gradients are timed twice:
on the shared representation (the default, `train.gradient_on: representation`)
and on the shared parameters. Each method is first traced and warmed up; then
`--rounds` rounds time `--steps` steps of every method in turn, so all methods
see the same background load. Reported: the fastest round's mean step time
(least disturbed by other processes on the machine) and its ratio to `equal`'s,
and the ratio of the medians over rounds. With `--memory`, each method also runs
alone in a fresh process for `--steps` x 3 steps and its peak resident memory is
reported as a ratio to `equal`'s (the processes' own peaks, `getrusage`).
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_case(num_tasks, batch_size, seed=0):
    import keras
    import numpy as np
    import tensorflow as tf

    import models
    from inputs import InputSpec
    from training.testing import synthetic_problem

    p = synthetic_problem(num_tasks=num_tasks, num_examples=batch_size, seed=seed)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(batch_size, 28, 28, 1), dtype=np.uint8)
    spec = InputSpec("image", "image", shape=(28, 28, 1), dtype="uint8")
    batch = next(iter(p.examples().batch(batch_size)))
    batch = ({"image": tf.constant(images)}, batch[1], batch[2])

    def model():
        keras.utils.set_random_seed(seed)
        return models.MultiTaskModel(
            tasks=[t.to_config() for t in p.tasks], inputs=[spec.to_config()],
            architecture="shared_bottom", encoder="cnn",
            encoder_args={"filters": [16, 32], "units": 64}, args={"tower_units": [32]})
    return p.tasks, model, batch


def config(method, gradient_on):
    """The train section of one variant (gradient_on only for methods that use it)."""
    from training.testing import train_config
    from training.weighting import WEIGHTINGS

    uses = WEIGHTINGS.get(method).uses_gradients
    return train_config(weighting=method, gradient_on=gradient_on if uses else None)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="2,4", help="task counts, comma-separated")
    ap.add_argument("--methods", default="", help="methods (default: all)")
    ap.add_argument("--batch_size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3, help="steps per method per round")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--memory", action="store_true",
                    help="also the peak memory of each method, one subprocess each")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)  # method,on,tasks: child run
    args = ap.parse_args(argv)
    if args.one:
        return run_one(args)

    import tensorflow as tf

    from training.weighting import list_weightings

    methods = [m for m in args.methods.split(",") if m] or list_weightings()
    print(f"TensorFlow {tf.__version__}; batch {args.batch_size}; {args.rounds} rounds x "
          f"{args.steps} steps; {os.cpu_count()} CPU cores")
    for num_tasks in [int(t) for t in args.tasks.split(",")]:
        tasks, model_fn, batch = build_case(num_tasks, args.batch_size)
        variants = variants_of(methods, tasks)
        times = time_rounds(warm_trainers(variants, model_fn, tasks, batch), batch, args)
        print(f"\n{num_tasks} tasks ({', '.join(t.name for t in tasks)}); equal: "
              f"{1000 * min(times[('equal', 'representation')]):.1f} ms/step")
        memory = peak_memory(variants, num_tasks, args) if args.memory else {}
        print_table(tasks, times, memory)
    return 0


def variants_of(methods, tasks):
    """(method, gradient space) pairs to time: `equal` first, a method that uses per-task
    gradients once per space it can take them on."""
    from training.weighting import make_weighting

    variants = [("equal", "representation")]
    for m in methods:
        if m == "equal":
            continue
        method = make_weighting(m, tasks)
        if method.uses_gradients:
            variants += [(m, on) for on in getattr(method, "gradient_spaces",
                                                   ("representation", "parameters"))]
        else:
            variants.append((m, "representation"))
    return variants


def warm_trainers(variants, model_fn, tasks, batch):
    """{variant: a Trainer of a fresh model}, each traced and warmed up."""
    from training.trainer import Trainer

    trainers = {}
    for m, on in variants:
        trainer = Trainer(model_fn(), tasks, config(m, on), verbose=0)
        for _ in range(3):  # trace and warm up
            float(trainer.train_step(batch)[0])
        trainers[(m, on)] = trainer
    return trainers


def time_rounds(trainers, batch, args):
    """{variant: [mean step seconds of each round]}; every round times every variant in turn,
    so all see the same background load."""
    times = {v: [] for v in trainers}
    for _ in range(args.rounds):
        for v, trainer in trainers.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                loss, _ = trainer.train_step(batch)
            float(loss)
            times[v].append((time.perf_counter() - start) / args.steps)
    return times


def print_table(tasks, times, memory):
    """One line per variant: its fastest round, the ratio to equal's and of the medians (and
    the peak memory and its ratio when measured)."""
    from training.weighting import make_weighting

    base = min(times[("equal", "representation")])
    base_med = statistics.median(times[("equal", "representation")])
    print(f"  {'method':<14}{'gradients on':<16}{'ms/step':>9}{'ratio':>8}{'ratio (median)':>16}"
          + (f"{'peak MB':>9}{'memory ratio':>14}" if memory else ""))
    for (m, on), ts in times.items():
        where = on if make_weighting(m, tasks).uses_gradients else "-"
        line = (f"  {m:<14}{where:<16}{1000 * min(ts):>9.1f}{min(ts) / base:>8.2f}"
                f"{statistics.median(ts) / base_med:>16.2f}")
        if memory:
            line += f"{memory[(m, on)]:>9.0f}{memory[(m, on)] / memory[('equal', 'representation')]:>14.2f}"
        print(line)


def peak_memory(variants, num_tasks, args):
    """{variant: peak RSS in MB of a fresh process training it}."""
    import subprocess

    out = {}
    for m, on in variants:
        result = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--one", f"{m},{on},{num_tasks}",
             "--batch_size", str(args.batch_size), "--steps", str(args.steps)],
            capture_output=True, text=True, check=True)
        out[(m, on)] = float(result.stdout.strip().splitlines()[-1])
    return out


def run_one(args):
    """Child process: train one method a few steps, print the peak RSS in MB."""
    import resource

    from training.trainer import Trainer

    m, on, num_tasks = args.one.split(",")
    tasks, model_fn, batch = build_case(int(num_tasks), args.batch_size)
    trainer = Trainer(model_fn(), tasks, config(m, on), verbose=0)
    for _ in range(3 * args.steps):
        float(trainer.train_step(batch)[0])
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
