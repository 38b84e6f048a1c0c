"""Distribution strategies by name, and which worker is the chief.

`train.py --strategy` picks one:

- `default`: one device (the default strategy);
- `mirrored`: `tf.distribute.MirroredStrategy` over the local devices (GPUs, or
  logical CPUs);
- `multi_worker`: `tf.distribute.MultiWorkerMirroredStrategy`; the cluster comes
  from the `TF_CONFIG` environment variable, one process per worker, e.g. for
  worker 0 of two on one machine:

      TF_CONFIG='{"cluster": {"worker": ["127.0.0.1:12345", "127.0.0.1:12346"]},
                  "task": {"type": "worker", "index": 0}}' python train.py ...

The chief (task type `chief`, or worker 0 when the cluster has no chief) alone
writes the run dir; the strategy must be created before any other TensorFlow op.

Example:
>>> from training.distribute import make_strategy, is_chief
>>> strategy = make_strategy("default")
>>> is_chief(strategy)
True
"""

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(name="default"):
    if name not in STRATEGIES:
        raise ValueError(f"--strategy: unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError("--strategy multi_worker needs the TF_CONFIG environment variable "
                             "(cluster and task); see docs/guide/training.md")
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy=None):
    """Whether this process writes outputs: always, except non-chief multi-worker workers."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is not None and resolver.task_type is not None:
        task_type, task_id = resolver.task_type, resolver.task_id
        cluster = resolver.cluster_spec().as_dict()
    else:
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
        if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or not config:
            return True
        task_type = config.get("task", {}).get("type")
        task_id = config.get("task", {}).get("index", 0)
        cluster = config.get("cluster", {})
    if task_type == "chief":
        return True
    return task_type == "worker" and task_id == 0 and "chief" not in cluster
