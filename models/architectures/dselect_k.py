"""`dselect_k`: MMoE with DSelect-k gates (Hazimeh et al., NeurIPS 2021).

Shared experts as in `mmoe`, but each task's gate selects at most `num_nonzeros` (k)
of the E experts, and is still differentiable. The gate holds k "single-expert
selectors". Selector i has m = ceil(log2 E) logits z_i; the smooth-step function

    S(z) = 0 (z <= -gamma/2), 1 (z >= gamma/2), -2 z^3 / gamma^3 + 3 z / (2 gamma) + 1/2 else

turns each into a soft bit, and the selector's weight on expert e (binary code
b(e)) is prod_j (S(z_ij) if b_j(e) else 1 - S(z_ij)): a distribution over the 2^m
codes, one-hot once every S(z_ij) reaches 0 or 1 (which it does in finite time,
unlike a sigmoid). The gate is the softmax(w)-weighted sum of the k selectors, so at
most k experts keep weight. `per_example` gating computes z and w from the example
(a dense layer on the gate input); static gating learns them per task.

When E is not a power of two some codes name no expert; as in the reference code a
penalty `mean_examples(sum_i 1 / sum_e weight_i(e))` keeps each selector on real
experts, and the gate's weights over the experts sum to 1 once it is met (below 1
before). `entropy_reg` adds `entropy_reg * mean_examples(entropy of the selectors)`,
the reference's optional push towards binary selectors. Both penalties are averaged
over the examples (the reference sums them over the batch), so their weight does not
depend on the batch size.

Paper: H. Hazimeh, Z. Zhao, A. Chowdhery, M. Sathiamoorthy, Y. Chen, R. Mazumder,
L. Hong, E. H. Chi, "DSelect-k: Differentiable Selection in the Mixture of Experts
with Applications to Multi-Task Learning", NeurIPS 2021. Reference code:
google-research/google-research, `dselect_k_moe/dselect_k_moe.py` (initialisation
z ~ U(-gamma/100, gamma/100), w ~ U(-0.05, 0.05), as here).

Args (`model.args`):
    num_experts: int. Number of shared experts E. Default 4.
    num_nonzeros: int. k, the most experts a gate selects (1 <= k <= E). Default 2.
    gamma: float. Width of the smooth-step's cubic region. Default 1.0.
    per_example: bool. Gates conditioned on the example (True) or one per task.
        Default True.
    entropy_reg: float. Weight of the selectors' entropy penalty. Default 0.
    expert_units: list of int. Dense layers of each expert. Default (64,).
    shared_encoder: bool. As in `mmoe`: one encoder under dense experts (True) or one
        encoder per expert on the raw features (False). Default False.
    tower_units: list of int. Dense layers of each task tower. Default (32,).

Probes: `gate_<task>`, [batch, num_experts] weights of experts `expert_<i>`
(at most k non-zero once the selectors have converged).

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "binary").to_config(), Task("b", "regression").to_config()],
...     inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...     architecture="dselect_k", encoder="mlp", encoder_args={"units": [8]},
...     args={"num_experts": 4, "num_nonzeros": 2, "expert_units": [8], "tower_units": [4]})
>>> m.get_layer("gate_a").experts, sorted(m.probe_model().output_names)
(['expert_0', 'expert_1', 'expert_2', 'expert_3'], ['gate_a', 'gate_b'])
"""

import math

import keras
import numpy as np
from keras import ops

from models.architectures.arguments import EXPERT_RULES, EXPERT_UNITS, SHARED_ENCODER, TOWER_UNITS
from models.architectures.blocks import dense_stack
from models.architectures.experts import ExpertMixture, shared_experts
from utils.arguments import Arg, arguments


EPSILON = 1e-6  # inside the entropy's log, as in the reference


def smooth_step(z, gamma):
    """The cubic smooth-step: 0 below -gamma/2, 1 above gamma/2, C^1 in between.

    Example:
    >>> import numpy as np
    >>> np.round(smooth_step(np.array([-1.0, -0.25, 0.0, 0.25, 1.0], "float32"), 1.0), 4)
    array([0.    , 0.1562, 0.5   , 0.8438, 1.    ], dtype=float32)
    """
    z = ops.convert_to_tensor(z)
    cubic = -2.0 / gamma ** 3 * z ** 3 + 1.5 / gamma * z + 0.5
    return ops.where(z <= -gamma / 2, ops.zeros_like(z), ops.where(z >= gamma / 2,
                                                                   ops.ones_like(z), cubic))


@keras.saving.register_keras_serializable(package="mtl_zoo")
class DSelectKGate(keras.layers.Layer):
    """A DSelect-k gate over named experts: called on the gate input [batch, d], returns
    the expert weights [batch, E] (see the module docstring).

    Args:
        experts: list of str. The experts' names, in order.
        num_nonzeros: int. k.
        gamma: float. Smooth-step width.
        per_example: bool. Weights from the input (True) or learned constants (False).
        entropy_reg: float. Weight of the entropy penalty on the selectors.
    """

    def __init__(self, experts, num_nonzeros=2, gamma=1.0, per_example=True, entropy_reg=0.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.experts = [str(e) for e in experts]
        self.num_nonzeros = int(num_nonzeros)
        self.gamma = float(gamma)
        self.per_example = bool(per_example)
        self.entropy_reg = float(entropy_reg)
        num = len(self.experts)
        if not 1 <= self.num_nonzeros <= num:
            raise ValueError(f"model.args.num_nonzeros: {self.num_nonzeros} is out of range; "
                             f"valid: an integer in 1..num_experts ({num})")
        if not self.gamma > 0:
            raise ValueError(f"model.args.gamma: {self.gamma} is out of range; valid: a number "
                             "> 0")
        self.num_binary = max(1, math.ceil(math.log2(num)))
        self.power_of_2 = num == 2 ** self.num_binary
        # codes[e, j]: bit j (most significant first) of expert e's index.
        self.codes = np.array([[int(b) for b in np.binary_repr(e, width=self.num_binary)]
                               for e in range(num)], "float32")

    def build(self, input_shape):
        k, m = self.num_nonzeros, self.num_binary
        z_init = keras.initializers.RandomUniform(-self.gamma / 100, self.gamma / 100)
        w_init = keras.initializers.RandomUniform(-0.05, 0.05)
        if self.per_example:
            d = int(input_shape[-1])
            self.z_kernel = self.add_weight(shape=(d, k * m), initializer=z_init, name="z_kernel")
            self.z_bias = self.add_weight(shape=(k * m,), initializer=z_init, name="z_bias")
            self.w_kernel = self.add_weight(shape=(d, k), initializer=w_init, name="w_kernel")
            self.w_bias = self.add_weight(shape=(k,), initializer=w_init, name="w_bias")
        else:
            self.z_logits = self.add_weight(shape=(k * m,), initializer=z_init, name="z_logits")
            self.w_logits = self.add_weight(shape=(k,), initializer=w_init, name="w_logits")

    def selectors(self, x):
        """(selector weights over the 2^m codes' experts [batch, k, E], softmax(w) [batch, k])."""
        k, m = self.num_nonzeros, self.num_binary
        x = ops.cast(x, "float32")
        if self.per_example:
            z = ops.matmul(x, self.z_kernel) + self.z_bias
            w = ops.matmul(x, self.w_kernel) + self.w_bias
        else:
            rows = ops.ones_like(x[:, :1])  # the batch size, for broadcasting
            z = rows * self.z_logits[None, :]
            w = rows * self.w_logits[None, :]
        bits = smooth_step(ops.reshape(z, (-1, k, 1, m)), self.gamma)  # [B, k, 1, m]
        codes = ops.convert_to_tensor(self.codes)[None, None]          # [1, 1, E, m]
        per_bit = codes * bits + (1.0 - codes) * (1.0 - bits)           # [B, k, E, m]
        # One selector needs no weighing (and softmax over one logit warns).
        weights = ops.softmax(w, axis=-1) if k > 1 else ops.ones_like(w)
        return ops.prod(per_bit, axis=-1), weights

    def call(self, x):
        selected, weights = self.selectors(x)
        if not self.power_of_2:
            # Each selector's weight on the experts that exist; the penalty is k once they
            # hold all of it.
            self.add_loss(ops.mean(ops.sum(1.0 / ops.sum(selected, axis=-1), axis=-1)))
        if self.entropy_reg:
            entropy = -ops.sum(selected * ops.log(selected + EPSILON), axis=(1, 2))
            self.add_loss(self.entropy_reg * ops.mean(entropy))
        return ops.sum(weights[:, :, None] * selected, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.experts))

    def get_config(self):
        return {**super().get_config(), "experts": list(self.experts),
                "num_nonzeros": self.num_nonzeros, "gamma": self.gamma,
                "per_example": self.per_example, "entropy_reg": self.entropy_reg}


@arguments(rules={"num_nonzeros": "num_nonzeros <= num_experts", **EXPERT_RULES},
           num_experts=Arg(int, "shared experts E; at most 10^7: each is a "
                                "network of >= 60 KB, so more cannot fit in memory",
                           range="[2, 10000000]"),
           num_nonzeros=Arg(int, "k, the most experts a gate selects", range="[1, inf)"),
           gamma=Arg(float, "width of the smooth-step's cubic region", range="(0, inf)"),
           per_example=Arg(bool, "gates conditioned on the example (true) or one per task"),
           entropy_reg=Arg(float, "weight of the selectors' entropy penalty", range="[0, inf)"),
           expert_units=EXPERT_UNITS, shared_encoder=SHARED_ENCODER, tower_units=TOWER_UNITS)
def dselect_k(features, tasks, make_encoder, num_experts=4, num_nonzeros=2, gamma=1.0,
              per_example=True, entropy_reg=0.0, expert_units=(64,), shared_encoder=False,
              tower_units=(32,)):
    """MMoE with one DSelect-k gate per task (see the module docstring)."""
    if int(num_experts) < 2:
        raise ValueError(f"model.args.num_experts: {num_experts} is out of range (DSelect-k "
                         "selects among at least 2 experts); valid: an integer >= 2")
    names, experts, gate_input = shared_experts(features, make_encoder, num_experts,
                                                expert_units, shared_encoder)
    towers, probes = {}, {}
    for task in tasks:
        gate = DSelectKGate(names, num_nonzeros, gamma, per_example, entropy_reg,
                            name=f"gate_{task.name}")(gate_input)
        mixed = ExpertMixture(name=f"mixture_{task.name}")([gate] + experts)
        towers[task.name] = dense_stack(mixed, tower_units, f"tower_{task.name}")
        probes[f"gate_{task.name}"] = gate
    return towers, probes
