"""A training run's share of the cores (`study.py --threads_per_run K`).

TensorFlow sizes its thread pools to every core of the machine. Runs trained at once on one
machine (`--jobs N`, or N `study.py --worker` processes on one host) then each start as many
compute threads as there are cores, and fight over them: on 2 cores two workers took 0.83x
the wall time of one (docs/benchmarks.md, "Studies over workers"), not about 0.5x.
`environment(K)` gives a run K threads: TensorFlow's intra-op pool (the `tf_Compute`
threads that split one op) and inter-op pool (ops run side by side), which TensorFlow reads
from `TF_NUM_INTRAOP_THREADS` / `TF_NUM_INTEROP_THREADS` when it starts, and OpenMP's
(oneDNN's kernels) from `OMP_NUM_THREADS`. study.py puts them into its own environment
before TensorFlow starts, so runs in its process (`--jobs 0`, one graph, protocol chunks)
and its `train.py` subprocesses (which inherit the environment) all use K.

The default (`per_run(None, jobs)`): with `--jobs N` >= 2 each run gets `max(1, cores // N)`
threads, since the study itself starts those N runs side by side and knows they share the
machine; one run at a time (`--jobs 1` or `0`) keeps TensorFlow's own sizing, every core,
as before. A `--worker` process cannot see the other workers on its host, nor a pod's CPU
limit (the cores counted here are those this process may run on, which in a container are
usually the node's): give `--threads_per_run K` there (K = the pod's CPUs, or cores //
workers on a shared host). `--threads_per_run 0` keeps TensorFlow's sizing with any --jobs;
a `TF_NUM_INTRAOP_THREADS` already set is kept when the flag is not given.

Example:
>>> from training.study.threads import environment, per_run
>>> environment(2)
{'TF_NUM_INTRAOP_THREADS': '2', 'TF_NUM_INTEROP_THREADS': '2', 'OMP_NUM_THREADS': '2'}
>>> per_run(None, jobs=4, available=8), per_run(None, jobs=3, available=2)
(2, 1)
>>> per_run(None, jobs=1, available=8), per_run(3, jobs=1), per_run(0, jobs=4)
(None, 3, None)
"""

import contextlib
import os

VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def cores():
    """The cores this process may run on (its CPU affinity: `taskset`, cpusets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def per_run(given, jobs, available=None):
    """Threads per run: `given` (`--threads_per_run`; 0: TensorFlow's own sizing, None: the
    default above) with `jobs` runs at once on `available` cores (default `cores()`); None
    means TensorFlow's own sizing."""
    if given is not None:
        return given or None
    if jobs >= 2:
        return max(1, (available or cores()) // jobs)
    return None


def environment(threads):
    """The variables that give a TensorFlow process `threads` threads ({} for None)."""
    return {} if threads is None else {name: str(threads) for name in VARIABLES}


@contextlib.contextmanager
def applied(given, jobs, environ=None):
    """Sets the variables in `environ` (default `os.environ`) for the block, which starts
    TensorFlow after it (here or in subprocesses); yields the threads per run (None:
    TensorFlow's own sizing). A `TF_NUM_INTRAOP_THREADS` the user set is kept when `given`
    is None."""
    environ = os.environ if environ is None else environ
    if given is None and "TF_NUM_INTRAOP_THREADS" in environ:
        value = environ["TF_NUM_INTRAOP_THREADS"]
        yield int(value) if value.isdigit() else None
        return
    threads = per_run(given, jobs)
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
