#!/usr/bin/env python
"""A two-source mixture's input pipeline against one dataset's, per training step, and its
memory against the size of the larger source. Aims: step time ratio <= 1.05; memory flat.

    .venv/bin/python bench/mixture_pipeline.py                  # default.yaml's model
    .venv/bin/python bench/mixture_pipeline.py --steps 60 --rounds 7
    .venv/bin/python bench/mixture_pipeline.py --skip_memory    # the step ratio only

Step time: the trainer's own step (`Trainer.train_step`) fed by (a) the single-dataset
pipeline of `multi_mnist` (`Experiment.train_fn`: cached, shuffled, batched, prefetched)
and (b) the same examples as a mixture of two sources — `left` labelled on the first
5,000 training images, `right` and `same_digit` on the other 15,000 (`data.sources`,
temperature sampling, mixed batches) — with the same model and batch size. Both are
measured in their steady state, alternating for `--rounds` rounds; the medians are
compared (other processes share the CPU).

Memory: in a fresh process per size, a mixture whose large source is uncached
(`cache: false`, streamed from the TFDS files) is iterated for `--memory_steps` steps,
with the large source at 20,000 and then 80,000 training images; the peak resident memory
of each is printed. Streaming means the second is no larger than the first.
"""

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

SOURCES = ("data.sources=[{{name: lefts, dataset: multi_mnist, tasks: [left], "
           "split: 'train[:{cut}]', cache: {cache}}}, {{name: rest, dataset: multi_mnist, "
           "options: {options}, tasks: [right, same_digit], split: 'train[{cut}:]', "
           "cache: {cache}}}]")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="configs/default.yaml")
    p.add_argument("--data_dir", default=None, help="TFDS data_dir (default: a temp dir)")
    p.add_argument("--steps", type=int, default=40, help="steps per round and feed")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--memory_steps", type=int, default=600)
    p.add_argument("--skip_memory", action="store_true")
    p.add_argument("--memory_probe", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def mixture_sets(data_dir, cut=5000, cache="null", options="{}"):
    return [f"data.data_dir={data_dir}", "data.tasks=[]",
            SOURCES.format(cut=cut, cache=cache, options=options),
            "data.sampling={strategy: temperature, temperature: 2.0, steps_per_epoch: 100000}"]


def steady_batches(experiment):
    """Endless training batches of the experiment's own pipeline, past its first epoch."""
    from data import pipeline

    fn = experiment.train_fn()
    if not experiment.mixed:
        for _ in pipeline.batch(experiment.examples("train"), 1024):  # decode into the cache
            pass
        return itertools.chain.from_iterable(fn(epoch) for epoch in itertools.count())
    for examples in fn.examples:  # decode each source into its cache
        for _ in examples.batch(1024):
            pass
    batches = iter(fn(0))
    for _ in range(20):  # fills the shuffle buffers
        next(batches)
    return batches


def time_steps(step, batches, steps):
    import time

    start = time.perf_counter()
    for _, batch in zip(range(steps), batches):
        out = step(batch)
    [t.numpy() for t in out]
    return (time.perf_counter() - start) / steps


def step_ratio(args, data_dir):
    from training.config import load_config
    from training.experiment import Experiment

    feeds = {}
    trainer = None
    for name, sets in (("one dataset", [f"data.data_dir={data_dir}"]),
                       ("two sources", mixture_sets(data_dir))):
        experiment = Experiment(load_config(args.config, sets))
        experiment.prepare()
        if trainer is None:  # one model and step for both feeds: same tasks, same inputs
            trainer = experiment.make_trainer(experiment.build_model(), run_dir=None, verbose=0)
        feeds[name] = steady_batches(experiment)
    for batches in feeds.values():
        time_steps(trainer.train_step, batches, 5)  # trace, warm up
    times = {name: [] for name in feeds}
    for r in range(args.rounds):
        for name, batches in feeds.items():
            times[name].append(time_steps(trainer.train_step, batches, args.steps))
        print(f"round {r + 1}: " + ", ".join(f"{n} {t[-1] * 1e3:.2f} ms/step"
                                             for n, t in times.items()))
    single, mixed = (statistics.median(t) * 1e3 for t in times.values())
    print(f"median step: one dataset {single:.2f} ms, two sources {mixed:.2f} ms, "
          f"ratio {mixed / single:.3f} (target <= 1.05)")


def memory_probe(config, data_dir, train_size, steps):
    """Peak RSS (MB) of iterating a mixture whose large source holds `train_size` images."""
    from training.config import load_config
    from training.experiment import Experiment

    options = f"{{train_size: {train_size}}}"
    experiment = Experiment(load_config(config, mixture_sets(data_dir, cache="false",
                                                             options=options)))
    experiment.prepare()
    batches = iter(experiment.train_fn()(0))
    for _ in range(steps):
        next(batches)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def memory(args, data_dir):
    peaks = {}
    for size in (20000, 80000):
        out = subprocess.run([sys.executable, __file__, "--config", args.config, "--data_dir",
                              data_dir, "--memory_steps", str(args.memory_steps),
                              "--memory_probe", str(size)], capture_output=True, text=True,
                             cwd=REPO, check=True)
        peaks[size] = json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"]
        print(f"large source of {size} images (streamed): peak memory {peaks[size]:.0f} MB "
              f"after {args.memory_steps} steps")
    print(f"memory ratio 80,000 / 20,000 images: {peaks[80000] / peaks[20000]:.3f} "
          "(streaming: ~1.0)")


def main(argv=None):
    args = parse_args(argv)
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="bench_tfds_")
    if args.memory_probe:
        peak = memory_probe(args.config, data_dir, int(args.memory_probe), args.memory_steps)
        print(json.dumps({"peak_mb": peak}))
        return 0
    step_ratio(args, data_dir)
    if not args.skip_memory:
        memory(args, data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
