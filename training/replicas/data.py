"""A group of replicas' data as arrays: each replica's splits (its own when the seed
changes the data, else one copy for all), and each replica's order of the training
examples per epoch, the one its own run's pipeline gives.

A run's pipeline (`Experiment.train_fn`) shuffles epoch k with `tf.data`'s shuffle, op
seed `train.seed + k`, buffer `data.shuffle_buffer`, after `build_model` set the global
seed to `train.seed`; `epoch_order` replays that shuffle on the example indices.

Example:
>>> from training.replicas.data import epoch_order
>>> order = epoch_order(10, seed=3, epoch=0, buffer=10000)
>>> sorted(order.tolist()) == list(range(10)), order.tolist() == epoch_order(10, 3, 0, 10000).tolist()
(True, True)
"""

import dataclasses

import numpy as np
import tensorflow as tf

from data import pipeline


def epoch_order(n, seed, epoch, buffer):
    """Indices 0..n-1 in the order a run with `train.seed` = `seed` sees them in `epoch`."""
    tf.random.set_seed(seed)
    ds = tf.data.Dataset.range(n).shuffle(buffer, seed=seed + epoch)
    return next(iter(ds.batch(max(n, 1)))).numpy()


def split_arrays(experiment, split):
    """(inputs, labels, masks) of a whole split as dicts of numpy arrays, in file order."""
    parts = list(pipeline.batch(experiment.examples(split), 8192))
    return tuple({k: np.concatenate([p[i][k].numpy() for p in parts]) for k in parts[0][i]}
                 for i in range(3))


@dataclasses.dataclass
class Split:
    """One split of every replica: dicts of arrays [S, N, ...], or [N, ...] when `shared`."""

    inputs: dict
    labels: dict
    masks: dict
    shared: bool

    @property
    def size(self):
        first = next(iter(self.masks.values()))
        return first.shape[0] if self.shared else first.shape[1]

    @classmethod
    def stack(cls, per_replica):
        """From each replica's (inputs, labels, masks); one copy when all are the same."""
        first = per_replica[0]
        if all(_same(first, other) for other in per_replica[1:]):
            return cls(*first, shared=True)
        sizes = {next(iter(p[2].values())).shape[0] for p in per_replica}
        if len(sizes) > 1:
            raise ValueError(f"the replicas' splits differ in size ({sorted(sizes)})")
        return cls(*({k: np.stack([p[i][k] for p in per_replica]) for k in first[i]}
                     for i in range(3)), shared=False)

    def tensors(self):
        return tuple({k: tf.constant(v) for k, v in d.items()}
                     for d in (self.inputs, self.labels, self.masks))

    def replica(self, r):
        """Replica r's (inputs, labels, masks) as numpy dicts."""
        return tuple(d if self.shared else {k: v[r] for k, v in d.items()}
                     for d in (self.inputs, self.labels, self.masks))


def gather(tensors, index, shared):
    """Rows `index` [S, B] of each replica: [S, B, ...] dicts (in the graph)."""
    if shared:
        return tuple({k: tf.gather(v, index) for k, v in d.items()} for d in tensors)
    return tuple({k: tf.gather(v, index, batch_dims=1) for k, v in d.items()} for d in tensors)


def _same(a, b):
    return all(a[i].keys() == b[i].keys() and all(
        a[i][k].shape == b[i][k].shape and np.array_equal(a[i][k], b[i][k]) for k in a[i])
        for i in range(3))
