"""Small synthetic multi-task problems, in memory, for tests and benchmarks.

No TFDS, no files: `synthetic_problem` gives tasks of every kind computed from
random features (with some labels missing), a matching `MultiTaskModel`
factory, and `tf.data` pipelines of (inputs, labels, masks) batches shaped like
`data/pipeline.py`'s.

Example:
>>> from training.testing import synthetic_problem
>>> p = synthetic_problem(num_tasks=2, num_examples=64)
>>> [t.name for t in p.tasks], p.model().output_names == ["t0_binary", "t1_regression"]
(['t0_binary', 't1_regression'], True)
>>> inputs, labels, masks = next(iter(p.train(epoch=0, batch_size=16)))
>>> inputs["x"].shape, masks["t1_regression"].shape
(TensorShape([16, 8]), TensorShape([16]))
>>> train_config(weighting="pcgrad").diagnostics_per_epoch
0
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from inputs import InputSpec
from tasks import Task
from training.config import TrainConfig

KIND_CYCLE = ("binary", "regression", "multiclass", "multilabel")
CLASSES = {"multiclass": ("a", "b", "c"), "multilabel": ("p", "q", "r")}


def train_config(**fields):
    """A `TrainConfig` for tests and benchmarks: the defaults with the diagnostics off
    (they are sampled steps of their own), and `fields` set."""
    quiet = {"diagnostics_per_epoch": 0, "affinity_per_epoch": 0, "gate_diagnostics": False}
    return TrainConfig(**{**quiet, **fields})


@dataclasses.dataclass
class SyntheticProblem:
    tasks: tuple
    inputs: tuple
    features: np.ndarray
    raw_labels: dict
    seed: int
    architecture: str = "shared_bottom"
    encoder: str = "mlp"
    encoder_args: dict = None
    args: dict = None

    def model(self, tasks=None, architecture=None, args=None, seed=None):
        """A fresh `MultiTaskModel`; same seed -> same initial weights."""
        keras.utils.set_random_seed(self.seed if seed is None else seed)
        import models
        return models.MultiTaskModel(
            tasks=[t.to_config() for t in (tasks or self.tasks)],
            inputs=[i.to_config() for i in self.inputs],
            architecture=architecture or self.architecture, encoder=self.encoder,
            encoder_args=self.encoder_args or {"units": [32]},
            args=self.args if args is None else args)

    def examples(self, start=0, stop=None, tasks=None):
        tasks = tasks or self.tasks
        sl = slice(start, stop)
        ds = tf.data.Dataset.from_tensor_slices(
            ({"x": self.features[sl]}, {t.name: self.raw_labels[t.name][sl] for t in tasks}))

        def encode(inputs, raw):
            labels, masks = {}, {}
            for t in tasks:
                labels[t.name], masks[t.name] = t.encode_label(raw[t.name])
            return inputs, labels, masks
        return ds.map(encode)

    def train(self, epoch, batch_size=32, tasks=None):
        """Epoch `epoch`'s shuffled batches (seeded by the epoch, like `Experiment.train_fn`)."""
        n = len(self.features) * 3 // 4
        return (self.examples(0, n, tasks).shuffle(n, seed=self.seed + epoch)
                .batch(batch_size))

    def validation(self, batch_size=64, tasks=None):
        return self.examples(len(self.features) * 3 // 4, None, tasks).batch(batch_size)


def synthetic_problem(num_tasks=3, num_examples=256, num_features=8, seed=0, missing=0.1,
                      kinds=None, **model):
    """Tasks `t<i>_<kind>` (kinds cycle binary, regression, multiclass, multilabel) that
    depend on shared random projections of the features; `missing` labels are dropped."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(num_examples, num_features)).astype("float32")
    shared = np.tanh(x @ rng.normal(size=(num_features, 4)))
    kinds = kinds or [KIND_CYCLE[i % len(KIND_CYCLE)] for i in range(num_tasks)]
    tasks, labels = [], {}
    for i, kind in enumerate(kinds):
        name = f"t{i}_{kind}"
        score = shared @ rng.normal(size=(4, 3)) + 0.3 * rng.normal(size=(num_examples, 3))
        drop = rng.random(num_examples) < missing
        task = Task(name, kind, CLASSES.get(kind, ()))
        y = task.labels_from_scores(score)
        y[drop] = task.missing_label()
        tasks.append(task)
        labels[name] = y
    return SyntheticProblem(tuple(tasks), (InputSpec("x", "numeric", shape=(num_features,)),),
                            x, labels, seed, **model)
