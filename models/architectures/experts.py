"""Building blocks of the mixture-of-experts architectures (`mmoe`, `cgc`, `ple`).

- `Gate`: a softmax over experts computed from a selector input; its output is
  the per-example weight of each expert, and it records the experts' names so
  `models.inspect` can label the weights;
- `ExpertMixture`: the gate-weighted sum of the expert outputs;
- `expert_network`: one expert (its own encoder on the raw features, or a dense
  stack on a shared representation).

Example:
>>> import numpy as np
>>> from models.architectures.experts import ExpertMixture, Gate
>>> g = Gate(["a", "b"], name="gate_t")(np.ones((2, 3), "float32"))
>>> g.shape, ExpertMixture()([g, np.ones((2, 4), "float32"), np.zeros((2, 4), "float32")]).shape
(TensorShape([2, 2]), TensorShape([2, 4]))
"""

import keras
from keras import ops

from models.architectures.blocks import dense_stack


@keras.saving.register_keras_serializable(package="mtl_zoo")
class Gate(keras.layers.Dense):
    """A softmax gate: one weight per expert, summing to one for each example.

    Args:
        experts: list of str. The names of the experts it weighs, in order.
        **kwargs: `keras.layers.Dense` arguments (not `units` or `activation`).
    """

    def __init__(self, experts, **kwargs):
        kwargs.pop("units", None)
        kwargs.pop("activation", None)
        super().__init__(len(experts), activation="softmax", **kwargs)
        self.experts = [str(e) for e in experts]

    def get_config(self):
        return {**super().get_config(), "experts": list(self.experts)}


@keras.saving.register_keras_serializable(package="mtl_zoo")
class GateProbe(keras.layers.Layer):
    """A named view of a gate shared by several tasks (OMoE), so each task's probe
    `gate_<task>` has its own name and still knows the experts it weighs."""

    def __init__(self, experts, **kwargs):
        super().__init__(**kwargs)
        self.experts = [str(e) for e in experts]

    def call(self, gate):
        return ops.copy(gate)  # a new tensor (keras' Identity would hand back the gate's)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "experts": list(self.experts)}


@keras.saving.register_keras_serializable(package="mtl_zoo")
class ExpertMixture(keras.layers.Layer):
    """Gate-weighted sum of experts: called on `[gate, expert_1, ..., expert_E]`,
    with `gate` [batch, E] and each expert [batch, D], returns [batch, D]."""

    def call(self, inputs):
        gate, experts = inputs[0], inputs[1:]
        stacked = ops.stack([ops.cast(e, gate.dtype) for e in experts], axis=1)  # [B, E, D]
        return ops.einsum("be,bed->bd", gate, stacked)

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[1])


def selector(features, name="gate_input"):
    """What a gate reads when experts see the raw features: the features, flattened."""
    if len(features.shape) > 2:
        return keras.layers.Flatten(name=name)(features)
    return features


def expert_network(x, name, make_encoder, expert_units, own_encoder):
    """One expert named `name`: `make_encoder(name)` on the raw features when
    `own_encoder`, then dense layers `expert_units`."""
    if own_encoder:
        x = make_encoder(name)(x)
    elif not expert_units:
        raise ValueError("model.args.expert_units: experts on a shared representation need at "
                         "least one layer, or they would all be the same; valid: a list of "
                         "integers >= 1 (at least 1 item), or shared_encoder false")
    return dense_stack(x, expert_units, name)


def shared_experts(features, make_encoder, num_experts, expert_units, shared_encoder):
    """(expert names, expert tensors, what the gates read) of MMoE/OMoE's shared experts:
    each expert its own encoder on the raw features (the paper), or dense stacks on one
    shared encoder (`shared_encoder`), which the gates then read too."""
    if int(num_experts) < 1:
        raise ValueError(f"model.args.num_experts: {num_experts} is out of range; valid: an "
                         "integer >= 1")
    if shared_encoder:
        bottom = gate_input = make_encoder("shared_encoder")(features)
    else:
        bottom, gate_input = features, selector(features)
    names = [f"expert_{i}" for i in range(int(num_experts))]
    experts = [expert_network(bottom, n, make_encoder, expert_units, not shared_encoder)
               for n in names]
    return names, experts, gate_input
