"""A group of replicas' data as arrays: each replica's splits (its own when the seed
changes the data, else one copy for all), and each replica's order of the training
examples per epoch, the one its own run's pipeline gives.

A run's pipeline (`Experiment.train_fn`) shuffles epoch k with `tf.data`'s shuffle, op
seed `train.seed + k`, buffer `data.shuffle_buffer`, after `build_model` set the global
seed to `train.seed`; `epoch_order` replays that shuffle on the example indices, and
`epoch_orders` does it for every replica in one call (the same shuffle op with the seed
pair the first would give it).

Example:
>>> from training.replicas.data import epoch_order, epoch_orders
>>> order = epoch_order(10, seed=3, epoch=0, buffer=10000)
>>> sorted(order.tolist()) == list(range(10))
True
>>> epoch_orders(10, [0, 3], epoch=0, buffer=10000)[1].tolist() == order.tolist()
True
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


MAXINT32 = 2 ** 31 - 1


def epoch_orders(n, seeds, epoch, buffer):
    """[S, n]: `epoch_order` of each of `seeds`, in one compiled call."""
    pairs = np.array([_seed_pair(s, s + epoch) for s in seeds], np.int64)
    return _shuffles(tf.constant(pairs), tf.constant(n, tf.int64),
                     tf.constant(buffer, tf.int64)).numpy()


def _seed_pair(global_seed, op_seed):
    """The (seed, seed2) `tf.data` gives a shuffle with op seed `op_seed` under the global
    seed `global_seed` (`tensorflow/python/framework/random_seed.py`)."""
    pair = (global_seed % MAXINT32, op_seed % MAXINT32)
    return (0, MAXINT32) if pair == (0, 0) else pair


@tf.function  # one trace per number of replicas
def _shuffles(pairs, n, buffer):
    orders = []
    for r in range(pairs.shape[0]):
        variant = tf.raw_ops.ShuffleDatasetV3(
            input_dataset=tf.data.Dataset.range(n)._variant_tensor, buffer_size=buffer,
            seed=pairs[r, 0], seed2=pairs[r, 1],
            seed_generator=tf.raw_ops.DummySeedGenerator(), output_types=[tf.int64],
            output_shapes=[[]], reshuffle_each_iteration=True)
        ds = tf.data.experimental.from_variant(variant, tf.TensorSpec([], tf.int64))
        orders.append(ds.batch(n).get_single_element())
    return tf.stack(orders)


def example_mapper(experiment):
    """A compiled map of a whole split's raw examples to (inputs, labels, masks), for every
    experiment whose dataset has this one's tasks and inputs."""
    fn = pipeline.make_example_fn(experiment.spec, experiment.tasks)
    return tf.function(lambda raw: tf.vectorized_map(fn, raw), reduce_retracing=True)


def split_arrays(experiment, split, mapper=None):
    """(inputs, labels, masks) of a whole split as dicts of numpy arrays, in file order:
    what `experiment.examples(split)` gives, read as one batch and mapped vectorised
    (a per-example pipeline takes about a second per 10,000 examples here). A dataset
    generated in memory (`spec.arrays`) is read without its TFDS build."""
    spec, dc = experiment.spec, experiment.config.data
    take = dc.max_train_examples if split == "train" else dc.max_eval_examples
    if spec.arrays is not None and split in ("train", "validation", "test"):
        raw = {k: tf.constant(v) for k, v in spec.arrays(split).items()}
    else:
        builder = pipeline.prepare(spec, experiment.data_dir)
        # batch_size=-1: the whole split as one dict of tensors.
        raw = builder.as_dataset(split=pipeline.split_name(spec, split), shuffle_files=False,
                                 batch_size=-1)
    if take:
        raw = tf.nest.map_structure(lambda v: v[:int(take)], raw)
    mapped = (mapper or example_mapper(experiment))(raw)
    return tuple({k: v.numpy() for k, v in part.items()} for part in mapped)


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

    def ordered(self, orders):
        """(labels, masks) of every replica in its order `orders` [S, N]: [S, N, ...]."""
        def take(values):
            if self.shared:
                return values[orders]
            index = orders.reshape(orders.shape + (1,) * (values.ndim - 2))
            return np.take_along_axis(values, index, axis=1)
        return tuple({k: take(v) for k, v in d.items()} for d in (self.labels, self.masks))

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
