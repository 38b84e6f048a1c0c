"""`cross_stitch`: cross-stitch networks (Misra et al., CVPR 2016).

Every task has its own network (encoder plus tower, same structure). After
each stage of the networks (each pooling block and dense layer of `cnn`/`mlp`
encoders, each tower layer), a cross-stitch unit replaces every task's
activation by a learned linear combination of all tasks' activations at that
point:

    x'_i = sum_j alpha[i, j] * x_j

`alpha` starts near the identity (`self_weight` on the diagonal, the rest
spread over the other tasks, rows summing to one), so training starts from
nearly separate networks and learns how much to share at each depth. Encoders
that are not stage-wise chains (`keras_application`) get one unit on their output.

Paper: I. Misra, A. Shrivastava, A. Gupta, M. Hebert, "Cross-stitch Networks for
Multi-task Learning", CVPR 2016.

Args (`model.args`):
    tower_units: list of int. Dense layers of each task tower. Default (64,).
    self_weight: float. Initial diagonal of each unit (the paper's alpha_S;
        0.9 worked best there). Default 0.9.
    lr_multiplier: float. The units' effective learning rate relative to the
        network's (the paper raised it by 10^2-10^3 because alpha lives on a
        different scale from the weights); done by scaling the parameter, so it
        works with any optimizer. Default 1.0.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "binary").to_config(), Task("b", "regression").to_config()],
...     inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...     architecture="cross_stitch", encoder="mlp", encoder_args={"units": [8]},
...     args={"tower_units": [4]})
>>> [l.name for l in m.layers if l.name.startswith("cross_stitch")]
['cross_stitch_0', 'cross_stitch_1']
"""

import keras
import numpy as np
from keras import ops

from models.architectures.arguments import TOWER_UNITS
from models.encoders import encoder_stages
from utils.arguments import Arg, arguments


@keras.saving.register_keras_serializable(package="mtl_zoo")
class CrossStitch(keras.layers.Layer):
    """Mixes T same-shaped activations with a learned T x T matrix.

    Args:
        self_weight: float. Initial diagonal; off-diagonal entries start at
            `(1 - self_weight) / (T - 1)`.
        lr_multiplier: float. alpha = lr_multiplier * the stored variable, so a
            gradient step moves alpha `lr_multiplier` times further (Adam) or
            `lr_multiplier**2` times (SGD).
    """

    def __init__(self, self_weight=0.9, lr_multiplier=1.0, **kwargs):
        super().__init__(**kwargs)
        self.self_weight = float(self_weight)
        self.lr_multiplier = float(lr_multiplier)
        # Mixing keeps positions: token states keep their padding mask (text encoders).
        self.supports_masking = True

    def build(self, input_shapes):
        n = len(input_shapes)
        off = (1.0 - self.self_weight) / (n - 1) if n > 1 else 0.0
        init = np.full((n, n), off, "float32")
        np.fill_diagonal(init, self.self_weight if n > 1 else 1.0)
        self.alpha_param = self.add_weight(
            shape=(n, n), name="alpha",
            initializer=keras.initializers.Constant(init / self.lr_multiplier))

    @property
    def alpha(self):
        return self.alpha_param * self.lr_multiplier

    def call(self, inputs):
        stacked = ops.stack(inputs, axis=0)  # [T, batch, ...]
        mixed = ops.tensordot(ops.cast(self.alpha, stacked.dtype), stacked, axes=1)
        return [mixed[i] for i in range(len(inputs))]

    def compute_output_shape(self, input_shapes):
        return [tuple(s) for s in input_shapes]

    def get_config(self):
        return {**super().get_config(), "self_weight": self.self_weight,
                "lr_multiplier": self.lr_multiplier}


@arguments(tower_units=TOWER_UNITS,
           self_weight=Arg(float,
                           "initial diagonal of each cross-stitch unit (the paper's alpha_S)",
                           range="[0, 1]"),
           lr_multiplier=Arg(float, "the units' learning rate relative to the network's",
                             range="(0, inf)"))
def cross_stitch(features, tasks, make_encoder, tower_units=(64,), self_weight=0.9,
                 lr_multiplier=1.0):
    """Cross-stitch: per-task networks linked by learned mixing units (see the module docstring)."""
    encoders = [make_encoder(f"encoder_{t.name}") for t in tasks]
    stages = [encoder_stages(e) for e in encoders]
    xs = [features] * len(tasks)
    unit = 0

    def stitch(xs):
        nonlocal unit
        if len(xs) == 1:  # nothing to mix with
            return xs
        out = CrossStitch(self_weight, lr_multiplier, name=f"cross_stitch_{unit}")(xs)
        unit += 1
        return out

    # The per-task layers are called one by one in this graph, stage by stage.
    for k in range(len(stages[0])):
        for i in range(len(tasks)):
            for layer in stages[i][k]:
                xs[i] = layer(xs[i])
        xs = stitch(xs)
    for j, units in enumerate(tower_units):
        xs = [keras.layers.Dense(int(units), activation="relu", name=f"tower_{t.name}_{j}")(x)
              for x, t in zip(xs, tasks)]
        xs = stitch(xs)
    return {t.name: x for t, x in zip(tasks, xs)}, {}
