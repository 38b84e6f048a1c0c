"""A training run's share of the cores (`study.py --threads_per_run K`).

TensorFlow sizes its thread pools to every core of the machine. Runs trained at once on one
machine (`--jobs N`, or N `study.py --worker` processes on one host) then each start as many
compute threads as there are cores and share them (on 2 cores two workers took 0.71-0.83x
the wall time of one: docs/benchmarks.md, "Studies over workers").
`environment(K)` gives a run K threads: TensorFlow's intra-op pool (the `tf_Compute`
threads that split one op) and inter-op pool (ops run side by side), which TensorFlow reads
from `TF_NUM_INTRAOP_THREADS` / `TF_NUM_INTEROP_THREADS` when it starts, and OpenMP's
(oneDNN's kernels) from `OMP_NUM_THREADS`. study.py puts them into its own environment
before TensorFlow starts, so runs in its process (`--jobs 0`, one graph, protocol chunks)
and its `train.py` subprocesses (which inherit the environment) all use K.

Without the flag every run keeps TensorFlow's own sizing (every core), with any `--jobs`.
An automatic `cores // jobs` was tried and not kept: two workers x 1 thread took 57.5 s and
two workers x TensorFlow's sizing 50.8 s for the same 16 runs, in two runs of the benchmark
a few minutes apart on 2 cores (docs/benchmarks.md): no gain shown, so no change of what
`--jobs N` does. A `--worker` process cannot see the other workers on its host, nor a
pod's CPU limit (the cores a container sees are usually the node's): give `--threads_per_run
K` there when the pods are packed (K = the pod's CPUs). `--threads_per_run 0` is TensorFlow's
sizing too; a `TF_NUM_INTRAOP_THREADS` already set is kept when the flag is not given.

Example:
>>> from training.study.threads import environment, per_run
>>> environment(2)
{'TF_NUM_INTRAOP_THREADS': '2', 'TF_NUM_INTEROP_THREADS': '2', 'OMP_NUM_THREADS': '2'}
>>> per_run(None), per_run(3), per_run(0)
(None, 3, None)
"""

import contextlib
import os

VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def per_run(given):
    """Threads per run: `given` (`--threads_per_run`); 0 or None (TensorFlow's own sizing)
    give None."""
    return given or None


def environment(threads):
    """The variables that give a TensorFlow process `threads` threads ({} for None)."""
    return {} if threads is None else {name: str(threads) for name in VARIABLES}


@contextlib.contextmanager
def applied(given, environ=None):
    """Sets the variables in `environ` (default `os.environ`) for the block, which starts
    TensorFlow after it (here or in subprocesses); yields the threads per run (None:
    TensorFlow's own sizing). A `TF_NUM_INTRAOP_THREADS` the user set is kept when `given`
    is None."""
    environ = os.environ if environ is None else environ
    if given is None and "TF_NUM_INTRAOP_THREADS" in environ:
        value = environ["TF_NUM_INTRAOP_THREADS"]
        yield int(value) if value.isdigit() else None
        return
    threads = per_run(given)
    saved = {name: environ.get(name) for name in VARIABLES}
    environ.update(environment(threads))
    try:
        yield threads
    finally:
        for name, value in saved.items():
            if value is None:
                environ.pop(name, None)
            else:
                environ[name] = value
