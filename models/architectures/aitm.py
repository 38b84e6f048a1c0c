"""`aitm`: Adaptive Information Transfer Multi-task framework (Xi et al., KDD 2021).

For audiences that go through a sequence of conversion steps (impression -> click ->
conversion -> ...), each step t is a binary task labelled on EVERY impression with
"reached step t" (so its label implies step t-1's). Each task has its own tower q_t
on the shared feature embeddings; from the second step on, the task also receives
what the previous task learned: the Adaptive Information Transfer (AIT) module mixes
the task's own tower q_t with the information p_{t-1} transferred from step t-1
(a dense layer on the previous AIT output z_{t-1}; z_1 = q_1) by attention,

    z_t = sum_{u in (q_t, p_{t-1})} w_u h2(u),   w = softmax_u(<h1(u), h3(u)> / sqrt(k)),

and predicts y_t = sigmoid(dense(z_t)). The Behavioural Expectation Calibrator adds
`calibrator_weight * mean(max(y_t - y_{t-1}, 0))` for every step t >= 2, so a later
step is not predicted likelier than the one it needs.

Served outputs: each funnel task's end-to-end probability (`click` = pCTR,
`click_conversion` = pCTCVR, ...). With `cvr_task`, that task's output is the
conditional probability of the last step given the one before, pCVR = pCTCVR / pCTR
(capped below 1; `ConditionalLogit`): it has no weights of its own, so give it weight
0 in training (`train.weighting: static`, `train.task_weights: {conversion: 0}`); its
metrics then measure the CVR that AITM implies.

Paper: D. Xi, Z. Chen, P. Yan, Y. Zhang, Y. Zhu, F. Zhuang, Y. Chen, "Modeling the
Sequential Dependence among Audience Multi-step Conversions with Multi-task Learning
in Targeted Display Advertising", KDD 2021. Its reference code (xidongbo/AITM) shares
one set of h1, h2, h3 across steps and has calibrator weight 0.3 by default; here each
step has its own AIT module (as the paper's figure draws it; the same for two steps),
and the default weight is the paper's alpha = 0.6.

Args (`model.args`):
    funnel: list of str. The step tasks in funnel order (at least two binary tasks,
        each labelled "reached this step"). Default ["click", "click_conversion"].
    cvr_task: str or None. A binary task whose output is p(last step | the one before).
        Default None.
    shared_encoder: bool. False (the paper): each step's tower has its own encoder on
        the preprocessed (embedded) features. True: one shared encoder. Default False.
    tower_units: list of int. Dense layers of each tower q_t; the last width is k, the
        width of the transfer layers and the AIT module. Default (64, 32).
    calibrator_weight: float. alpha of the calibrator; 0 turns it off. Default 0.6.

Probes: none.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task(n, "binary").to_config() for n in ("click", "click_conversion")],
...     inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...     architecture="aitm", encoder="mlp", encoder_args={"units": [8]},
...     args={"tower_units": [4]})
>>> [l.name for l in m.layers if l.name.startswith(("transfer", "ait_", "calibrator"))]
['transfer_click_conversion', 'ait_click_conversion', 'calibrator_click_conversion']
"""

import math
from typing import Optional

import keras
from keras import ops

from models.architectures.blocks import dense_stack
from models.architectures.esmm import funnel_tasks, network_inputs
from utils.arguments import Arg, arguments


# log of the largest conditional probability `ConditionalLogit` returns (1 - 1e-6):
# p_t / p_{t-1} may exceed 1 while the calibrator has not yet enforced the order.
_MAX_LOG_RATIO = math.log1p(-1e-6)


@keras.saving.register_keras_serializable(package="mtl_zoo")
class AdaptiveInformationTransfer(keras.layers.Layer):
    """The AIT module: attention over `[q_t, p_{t-1}]` (two [batch, k] tensors).

    h1, h2, h3 are k x k projections without bias (query, value, key), initialised
    N(0, 0.01) as in the reference code. Returns z_t [batch, k].
    """

    def build(self, input_shapes):
        k = int(input_shapes[0][-1])
        init = keras.initializers.RandomNormal(stddev=0.01)
        self.h1 = self.add_weight(shape=(k, k), initializer=init, name="h1")
        self.h2 = self.add_weight(shape=(k, k), initializer=init, name="h2")
        self.h3 = self.add_weight(shape=(k, k), initializer=init, name="h3")

    def call(self, inputs):
        x = ops.stack(inputs, axis=1)  # [batch, 2, k]
        query, value, key = (ops.matmul(x, h) for h in (self.h1, self.h2, self.h3))
        scores = ops.sum(query * key, axis=-1) / math.sqrt(int(x.shape[-1]))  # [batch, 2]
        weights = ops.softmax(scores, axis=1)
        return ops.sum(weights[:, :, None] * value, axis=1)

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])


@keras.saving.register_keras_serializable(package="mtl_zoo")
class Calibrator(keras.layers.Layer):
    """The behavioural expectation calibrator between two consecutive steps: called on
    the logits `[l_{t-1}, l_t]`, adds `weight * mean(max(sigmoid(l_t) - sigmoid(l_{t-1}),
    0))` to the model's losses and returns `l_t` unchanged."""

    def __init__(self, weight=0.6, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)

    def call(self, inputs):
        before, after = (ops.cast(x, "float32") for x in inputs)
        if self.weight:
            excess = ops.relu(ops.sigmoid(after) - ops.sigmoid(before))
            self.add_loss(self.weight * ops.mean(excess))
        return ops.copy(after)  # a new tensor, so the layer sits on the step's path

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[1])

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@keras.saving.register_keras_serializable(package="mtl_zoo")
class ConditionalLogit(keras.layers.Layer):
    """The logit of sigmoid(l_after) / sigmoid(l_before) from `[l_before, l_after]`:
    p(after | before) when `after` implies `before`, capped at 1 - 1e-6, computed in
    log space (log s(x) = -softplus(-x)).

    Example:
    >>> import numpy as np
    >>> before, after = np.array([[1.0]], "float32"), np.array([[-2.0]], "float32")
    >>> s = lambda x: 1 / (1 + np.exp(-x))
    >>> p = s(ConditionalLogit()([before, after]).numpy())
    >>> bool(np.allclose(p, s(after) / s(before), rtol=1e-5))
    True
    """

    def call(self, inputs):
        before, after = (ops.cast(x, "float32") for x in inputs)
        log_ratio = ops.minimum(ops.softplus(-before) - ops.softplus(-after), _MAX_LOG_RATIO)
        # logit(r) = log r - log(1 - r), with log(1 - r) = log(-expm1(log r)).
        return log_ratio - ops.log(-ops.expm1(log_ratio))

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])


@arguments(rules={"cvr_task": "cvr_task not in funnel"},  # its output derives from the last two
           funnel=Arg(list, "the step tasks in funnel order (binary, 'reached this step')",
                      item=str, length="[2, inf)"),
           cvr_task=Arg(str,
                        "a binary task whose output is p(last step | the one before), or null",
                        null=True),
           shared_encoder=Arg(bool,
                              "one encoder under every tower (true), or one each (false, the "
                              "paper)"),
           tower_units=Arg(list, "dense layers of each tower; the last width is the AIT module's",
                           item=int, range="[1, inf)", length="[1, inf)"),
           calibrator_weight=Arg(float, "alpha of the calibrator (0: off)", range="[0, inf)"))
def aitm(features, tasks, make_encoder, funnel=("click", "click_conversion"),
         cvr_task: Optional[str] = None, shared_encoder=False, tower_units=(64, 32),
         calibrator_weight=0.6):
    """AITM: towers linked step to step by attention, plus the calibrator (see the module
    docstring)."""
    funnel = [str(n) for n in funnel]
    if len(funnel) < 2:  # the declaration says so at load; this guards direct callers
        raise ValueError(f"model.args.funnel: {funnel} has {len(funnel)} step(s); valid: a "
                         "list of at least 2 binary tasks")
    if not tower_units:
        raise ValueError("model.args.tower_units: AITM needs at least one tower layer (its "
                         "last width is the AIT module's); valid: a list of integers >= 1 "
                         "(at least 1 item)")
    steps = funnel_tasks(tasks, "aitm", **{f"funnel[{i}]": n for i, n in enumerate(funnel)})
    steps = list(steps.values())
    if cvr_task is not None:  # not a funnel step: the declaration's rule says so
        funnel_tasks(tasks, "aitm", cvr_task=cvr_task)
    others = [t for t in tasks if t.name not in set(funnel) | {cvr_task}]
    inputs = network_inputs(features, make_encoder, shared_encoder,
                            [t.name for t in steps + others])
    width = int(tower_units[-1])
    logits, z = {}, None
    for i, task in enumerate(steps):
        q = dense_stack(inputs[task.name], tower_units, f"tower_{task.name}")
        if i == 0:
            z = q
        else:
            p = keras.layers.Dense(width, activation="relu", name=f"transfer_{task.name}")(z)
            z = AdaptiveInformationTransfer(name=f"ait_{task.name}")([q, p])
        logits[task.name] = task.make_head()[0](z)
        if i > 0:
            logits[task.name] = Calibrator(calibrator_weight, name=f"calibrator_{task.name}")(
                [logits[steps[i - 1].name], logits[task.name]])
    if cvr_task is not None:
        logits[cvr_task] = ConditionalLogit(name=f"{cvr_task}_logits")(
            [logits[steps[-2].name], logits[steps[-1].name]])
    towers = {t.name: dense_stack(inputs[t.name], tower_units, f"tower_{t.name}") for t in others}
    return towers, {}, logits
