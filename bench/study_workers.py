"""Studies over workers: the time two worker processes on one storage take for a 16-run study
against one worker, and what the storage adds to a run's wall time.

A 16-run study (2 cells x 8 seeds, no baselines) on a tiny mmoe_synthetic, in a temporary
folder; the data is built first (build_data.py), so neither measurement includes it. Each
worker is `study.py --worker --jobs 0` (training in the worker's process) against an SQLite
storage in its study folder: first one worker alone, then two started together on a fresh
study folder. Prints both wall times (from the first start to the last exit, process
start-up and planning included), their ratio, and each worker's own accounting of the
time spent in storage calls (taking, heartbeats, telling) against the wall time of the
runs it trained. Goals (issue 23): two workers <= 0.6x one worker; storage <= 2% of a
run's wall time.

Each worker's TensorFlow threads: `--threads_per_run K` is passed to each of the two workers
(study.py's flag: K intra-op, inter-op and OpenMP threads), `--one_worker_threads K` to the
lone worker; left out, a worker keeps TensorFlow's own sizing (every core), as before the
flag. Each row says which setting it used.

Run:  .venv/bin/python bench/study_workers.py             # 16 runs, TensorFlow's sizing
      .venv/bin/python bench/study_workers.py --seeds 4   # 8 runs, quicker
      # 2 workers x 1 thread against 1 worker x 2 threads (2 cores):
      .venv/bin/python bench/study_workers.py --threads_per_run 1 --one_worker_threads 2
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BASE = """\
data:
  name: mmoe_synthetic
  options: {{train_size: 2000, validation_size: 500, test_size: 500, dim: 16}}
  data_dir: {data_dir}
model:
  architecture: shared_bottom
  encoder: mlp
  encoder_args: {{units: [32]}}
  args: {{tower_units: [8]}}
train:
  epochs: {epochs}
  batch_size: 64
  learning_rate: 0.01
  diagnostics_per_epoch: 0
  affinity_per_epoch: 0
"""

STUDY = """\
name: bench_workers
base: {base}
seeds: {seeds}
grid:
  model.architecture: [shared_bottom, mmoe]
single_task: false
"""


def workers(study, output, count, threads=None):
    """Wall time of `count` worker processes on one storage (each with `threads` TensorFlow
    threads; None: TensorFlow's own sizing), and their output."""
    url = f"sqlite:///{output}/optuna.db"
    flags = [] if threads is None else ["--threads_per_run", str(threads)]
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "study.py", "--config", study, "--output", output,
                               "--storage", url, "--worker", "--jobs", "0", *flags], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(count)]
    outputs = [p.communicate()[0] for p in procs]
    wall = time.perf_counter() - start
    for p, out in zip(procs, outputs):
        if p.returncode:
            sys.exit(f"a worker failed:\n{out[-3000:]}")
    return wall, outputs


def storage_share(outputs):
    """(storage seconds, run seconds, runs) summed over the workers' accounting lines."""
    total = [0.0, 0.0, 0]
    for out in outputs:
        m = re.search(r"storage calls: ([\d.]+) s for (\d+) run\(s\) trained here in ([\d.]+) s",
                      out)
        if m:
            total[0] += float(m.group(1))
            total[1] += float(m.group(3))
            total[2] += int(m.group(2))
    return total


def setting(threads):
    """A row's thread setting, as the rows print it."""
    if not threads:  # None or 0
        return f"TensorFlow's own threads (every core: {os.cpu_count()})"
    return f"{threads} thread{'s' if threads > 1 else ''} (--threads_per_run {threads})"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=8, help="seeds (2 cells each; default 8: 16 runs)")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--threads_per_run", type=int, default=None, metavar="K",
                   help="each of the two workers' threads (default: TensorFlow's own sizing)")
    p.add_argument("--one_worker_threads", type=int, default=None, metavar="K",
                   help="the lone worker's threads (default: TensorFlow's own sizing)")
    args = p.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="study_workers_")
    try:
        base = os.path.join(folder, "base.yaml")
        with open(base, "w") as f:
            f.write(BASE.format(data_dir=os.path.join(folder, "tfds"), epochs=args.epochs))
        study = os.path.join(folder, "study.yaml")
        with open(study, "w") as f:
            f.write(STUDY.format(base=base, seeds=args.seeds))
        subprocess.run([sys.executable, "build_data.py", "--config", base], cwd=REPO, check=True,
                       capture_output=True)
        runs = 2 * args.seeds
        print(f"{runs} runs; load average before: {os.getloadavg()[0]:.2f} "
              f"({os.cpu_count()} cores)")
        one, out1 = workers(study, os.path.join(folder, "one"), 1, args.one_worker_threads)
        print(f"one worker  x {setting(args.one_worker_threads)}: {one:6.1f} s")
        two, out2 = workers(study, os.path.join(folder, "two"), 2, args.threads_per_run)
        print(f"two workers x {setting(args.threads_per_run)}: {two:6.1f} s  "
              f"({two / one:.2f}x one worker; goal <= 0.6x)")
        for name, outs in (("one worker", out1), ("two workers", out2)):
            storage, run_s, n = storage_share(outs)
            print(f"storage calls, {name}: {storage:.2f} s over {n} runs of {run_s:.0f} s in all: "
                  f"{1000 * storage / max(n, 1):.0f} ms a run, {100 * storage / run_s:.2f}% of "
                  f"a run's wall time (goal <= 2%)")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
