"""`soft_sharing`: soft parameter sharing (Duong et al., ACL 2015; Yang & Hospedales, ICLR 2017).

Every task gets its own network (an encoder plus its tower); nothing is shared,
but a penalty ties corresponding parameters of the task networks:

- `penalty_kind: l2` (Duong et al.): the squared distances pull them together,

      penalty * sum over task pairs (i < j) of sum over parameters ||theta_i - theta_j||^2

- `penalty_kind: trace_norm` (Yang & Hospedales, "Trace Norm Regularised Deep
  Multi-Task Learning"): for each parameter, the T task copies are stacked as the
  rows of a T x P matrix whose trace (nuclear) norm, the sum of its singular values,
  is penalised: it favours task copies that span few directions (low rank), i.e.
  share a subspace, without forcing them equal,

      penalty * sum over parameters ||[theta_1; ...; theta_T]||_*

The `SoftSharing` layer owns the task networks and adds that penalty with
`add_loss`; the trainer adds `model.losses` to the task losses.

Papers: L. Duong, T. Cohn, S. Bird, P. Cook, "Low Resource Dependency Parsing:
Cross-lingual Parameter Sharing in a Neural Network Parser", ACL 2015;
Y. Yang, T. Hospedales, "Trace Norm Regularised Deep Multi-Task Learning", ICLR 2017
workshop (the matrix trace norm of the layer-wise stack, their "Last Axis
Flattening" variant).

Args (`model.args`):
    penalty: float. Weight of the penalty (0 = independent networks). Default 1e-3.
    penalty_kind: str. `l2` (squared distances) or `trace_norm`. Default `l2`.
    tower_units: list of int. Dense layers on top of each task's encoder, also
        softly shared. Default (64,).
    identical_init: bool. Start every task network from the same random
        weights (the penalty then starts at zero). Default False.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "binary").to_config(), Task("b", "regression").to_config()],
...     inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...     architecture="soft_sharing", encoder="mlp", encoder_args={"units": [8]},
...     args={"penalty": 0.01, "tower_units": [4]})
>>> _ = m({"x": __import__("numpy").ones((2, 4), "float32")})
>>> len(m.losses)
1
"""

import keras
from keras import ops

from models.architectures.blocks import dense_stack
from utils.arguments import Arg, arguments


@keras.saving.register_keras_serializable(package="mtl_zoo")
class SoftSharing(keras.layers.Layer):
    """Runs one network per task on the same input and adds an L2 penalty on the
    distance between their corresponding trainable weights.

    Args:
        networks: list of `keras.Model` (or their serialized configs), all of
            the same structure. Called in order; the layer returns their outputs.
        penalty: float. Weight of the penalty.
        penalty_kind: str. `l2` (summed pairwise squared distances) or `trace_norm`
            (summed nuclear norms of the per-weight task stacks).
    """

    KINDS = ("l2", "trace_norm")

    def __init__(self, networks, penalty=1e-3, penalty_kind="l2", **kwargs):
        super().__init__(**kwargs)
        if penalty_kind not in self.KINDS:
            raise ValueError(f"model.args.penalty_kind: unknown value {penalty_kind!r}; valid: "
                             f"{', '.join(self.KINDS)}")
        self.penalty_kind = penalty_kind
        self.networks = [keras.saving.deserialize_keras_object(n) if isinstance(n, dict) else n
                         for n in networks]
        self.penalty = float(penalty)
        shapes = [[tuple(w.shape) for w in n.trainable_weights] for n in self.networks]
        if any(s != shapes[0] for s in shapes):
            raise ValueError("SoftSharing: the task networks must have the same weights' shapes")

    def build(self, input_shape):
        for n in self.networks:
            if not n.built:
                n.build(input_shape)

    def distance(self):
        """Sum over network pairs and weights of the squared differences."""
        total = 0.0
        for i, a in enumerate(self.networks):
            for b in self.networks[i + 1:]:
                for wa, wb in zip(a.trainable_weights, b.trainable_weights):
                    total = total + ops.sum(ops.square(wa - wb))
        return total

    def trace_norm(self):
        """Sum over weights of the nuclear norm of the [T, size] stack of the task copies."""
        import tensorflow as tf

        total = 0.0
        for weights in zip(*(n.trainable_weights for n in self.networks)):
            stack = tf.stack([tf.reshape(w, [-1]) for w in weights])  # [T, P]
            # Singular values from the T x T Gram matrix: cheap for wide stacks, and
            # eps keeps the square root's gradient finite at a zero singular value.
            eig = tf.linalg.eigvalsh(tf.matmul(stack, stack, transpose_b=True))
            total = total + tf.reduce_sum(tf.sqrt(tf.maximum(eig, 0.0) + 1e-12))
        return total

    def call(self, x):
        if self.penalty and len(self.networks) > 1:
            value = self.trace_norm() if self.penalty_kind == "trace_norm" else self.distance()
            self.add_loss(self.penalty * value)
        return [n(x) for n in self.networks]

    def compute_output_spec(self, x):
        return [n.compute_output_spec(x) for n in self.networks]

    def get_config(self):
        return {**super().get_config(), "penalty": self.penalty,
                "penalty_kind": self.penalty_kind,
                "networks": [keras.saving.serialize_keras_object(n) for n in self.networks]}


@arguments(penalty=Arg(float, "weight of the distance penalty (0: independent networks)",
                       range="[0, inf)"),
           tower_units=Arg(list, "dense layers on each task's encoder, also softly shared",
                           item=int, range="[1, inf)"),
           identical_init=Arg(bool, "start every task network from the same random weights"),
           penalty_kind=Arg(str, "l2 (squared distances) or trace_norm",
                            choices=("l2", "trace_norm")))
def soft_sharing(features, tasks, make_encoder, penalty=1e-3, tower_units=(64,),
                 identical_init=False, penalty_kind="l2"):
    """Soft sharing: one network per task, L2-tied (see the module docstring)."""
    networks = []
    for task in tasks:
        inp = keras.Input(shape=features.shape[1:])
        x = make_encoder(f"encoder_{task.name}")(inp)
        x = dense_stack(x, tower_units, f"tower_{task.name}")
        networks.append(keras.Model(inp, x, name=f"network_{task.name}"))
    if identical_init:
        for n in networks[1:]:
            n.set_weights(networks[0].get_weights())
    outputs = SoftSharing(networks, penalty=penalty, penalty_kind=penalty_kind,
                          name="soft_sharing")(features)
    return {t.name: out for t, out in zip(tasks, outputs)}, {}
