"""`esmm`: Entire Space Multi-task Model for post-click conversion (Ma et al., SIGIR 2018).

A conversion can only follow a click, so a CVR model trained on clicked rows (the
only rows with a conversion label) is trained on a different population from the
one it scores: every impression (sample selection bias), and with few rows (data
sparsity). ESMM never fits pCVR on clicked rows alone. It has a CTR network and a
CVR network and trains, on ALL impressions,

    pCTR   = p(click | x)                        against the click label, and
    pCTCVR = p(click & conversion | x) = pCTR x pCVR   against click AND conversion,

so pCVR = p(conversion | click, x) is learned through the product over the entire
space; the networks share the feature embeddings (here: the model's preprocessing,
which embeds categorical inputs once for all tasks).

The product is a logit, not a probability, so the loss stays a stable sigmoid
cross-entropy: logit(sigmoid(a) * sigmoid(b)) = -logsumexp(-a, -b, -a - b) exactly
(`ProductLogit`), and the `<ctcvr_task>` output, the sigmoid of it, is pCTR x pCVR.

Tasks (all binary; names from `model.args`, defaults those of `conversion_funnel`):
    `ctr_task`: clicked, labelled on every impression. Output pCTR.
    `ctcvr_task`: clicked and converted, labelled on every impression. Output pCTCVR.
    `cvr_task`: converted given a click (labelled on clicked rows only). Output pCVR,
        the CVR network's sigmoid. Its own loss is the naive CVR loss on clicked rows:
        the paper trains only CTR and CTCVR, so give it weight 0
        (`train.weighting: static`, `train.task_weights: {conversion: 0}`), or keep it
        for an ESMM plus a clicked-rows CVR term. null: no such task (pCVR is then
        the layer `cvr_logits`, not served).
Other tasks, if any, get their own encoder and tower (or the shared encoder's output).

Paper: X. Ma, L. Zhao, G. Huang, Z. Wang, Z. Hu, X. Zhu, K. Gai, "Entire Space
Multi-Task Model: An Effective Approach for Estimating Post-Click Conversion Rate",
SIGIR 2018.

Args (`model.args`):
    ctr_task: str. The click task. Default "click".
    ctcvr_task: str. The click-and-conversion task. Default "click_conversion".
    cvr_task: str or None. The post-click conversion task, or null. Default "conversion".
    shared_encoder: bool. False (the paper): the CTR and CVR networks each have their
        own encoder on the preprocessed (embedded) features. True: one shared encoder
        under both towers. Default False.
    tower_units: list of int. Dense layers of each network after its encoder. Default (64,).

Probes: none.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task(n, "binary").to_config() for n in ("click", "conversion", "click_conversion")],
...     inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...     architecture="esmm", encoder="mlp", encoder_args={"units": [8]},
...     args={"tower_units": [4]})
>>> import numpy as np
>>> out = m({"x": np.ones((2, 4), "float32")})
>>> bool(np.allclose(out["click"] * out["conversion"], out["click_conversion"], atol=1e-6))
True
"""

from typing import Optional

import keras
from keras import ops

from models.architectures.blocks import dense_stack
from tasks import BinaryTask
from utils.arguments import Arg, arguments


@keras.saving.register_keras_serializable(package="mtl_zoo")
class ProductLogit(keras.layers.Layer):
    """The logit of sigmoid(a) * sigmoid(b) from logits `[a, b]`, exactly and stably.

    1 / (s(a) s(b)) = 1 + e^-a + e^-b + e^-(a+b), so the odds of the product are
    1 / (e^-a + e^-b + e^-(a+b)) and its logit is -logsumexp(-a, -b, -(a+b)): no
    probability is formed, so nothing underflows and the cross-entropy on it is the
    ordinary stable sigmoid cross-entropy.

    Example:
    >>> import numpy as np
    >>> a, b = np.array([[2.0], [-30.0]], "float32"), np.array([[-1.0], [40.0]], "float32")
    >>> p = 1 / (1 + np.exp(-ProductLogit()([a, b]).numpy()))
    >>> bool(np.allclose(p, 1 / (1 + np.exp(-a)) / (1 + np.exp(-b)), rtol=1e-5))
    True
    """

    def call(self, inputs):
        a, b = (ops.cast(x, "float32") for x in inputs)
        return -ops.logsumexp(ops.stack([-a, -b, -(a + b)], axis=0), axis=0)

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])


def funnel_tasks(tasks, arch, **names):
    """{arg: Task} for the named tasks of a funnel architecture; a name that is not a
    binary task among `tasks`, or one named twice, fails naming `model.args.<arg>` and the
    binary tasks it could name."""
    by_name = {t.name: t for t in tasks}
    binary = [t.name for t in tasks if isinstance(t, BinaryTask)]
    out = {}
    for arg, name in names.items():
        if name is None:
            continue
        where = f"model.args.{arg}: {name!r}"
        if name not in by_name:
            raise ValueError(f"{where} is not one of the tasks ({', '.join(by_name)}); {arch} "
                             f"needs it (set data.tasks or model.args.{arg}); valid: "
                             f"{_names(binary)}")
        if not isinstance(by_name[name], BinaryTask):
            raise ValueError(f"{where} is a {by_name[name].kind} task; {arch} needs a binary "
                             f"task; valid: {_names(binary)}")
        twice = next((a for a, t in out.items() if t.name == name), None)
        if twice is not None:
            others = [n for n in binary if n not in {t.name for t in out.values()}]
            raise ValueError(f"{where} is also {twice}; {arch} needs a distinct task for each "
                             f"of {', '.join(a for a, n in names.items() if n is not None)}; "
                             f"valid: {_names(others)}")
        out[arg] = by_name[name]
    return out


def _names(names):
    return ", ".join(names) if names else "(no binary task among the data's tasks)"


def network_inputs(features, make_encoder, shared_encoder, names):
    """{name: what that network's tower reads}: one shared encoder, or one encoder each."""
    if shared_encoder:
        shared = make_encoder("shared_encoder")(features)
        return {n: shared for n in names}
    return {n: make_encoder(f"encoder_{n}")(features) for n in names}


@arguments(rules={"ctcvr_task": "ctcvr_task != ctr_task",
                  "cvr_task": "cvr_task != ctr_task and cvr_task != ctcvr_task"},
           ctr_task=Arg(str, "the click task (binary)"),
           ctcvr_task=Arg(str, "the click-and-conversion task (binary)"),
           cvr_task=Arg(str, "the post-click conversion task (binary), or null", null=True),
           shared_encoder=Arg(bool,
                              "one encoder under both networks (true), or one each (false, the "
                              "paper)"),
           tower_units=Arg(list, "dense layers of each network after its encoder", item=int,
                           range="[1, inf)"))
def esmm(features, tasks, make_encoder, ctr_task="click", ctcvr_task="click_conversion",
         cvr_task: Optional[str] = "conversion", shared_encoder=False, tower_units=(64,)):
    """ESMM: pCTCVR = pCTR x pCVR trained on every impression (see the module docstring)."""
    funnel = funnel_tasks(tasks, "esmm", ctr_task=ctr_task, ctcvr_task=ctcvr_task,
                          cvr_task=cvr_task)
    cvr_name = cvr_task or "cvr"
    others = [t for t in tasks if t.name not in {ctr_task, ctcvr_task, cvr_task}]
    inputs = network_inputs(features, make_encoder, shared_encoder,
                            [ctr_task, cvr_name] + [t.name for t in others])
    ctr = funnel["ctr_task"].make_head()[0](dense_stack(inputs[ctr_task], tower_units,
                                                        f"tower_{ctr_task}"))
    cvr_tower = dense_stack(inputs[cvr_name], tower_units, f"tower_{cvr_name}")
    if cvr_task:
        cvr = funnel["cvr_task"].make_head()[0](cvr_tower)
    else:
        cvr = keras.layers.Dense(1, name="cvr_logits", dtype="float32")(cvr_tower)
    logits = {ctr_task: ctr, ctcvr_task: ProductLogit(name=f"{ctcvr_task}_logits")([ctr, cvr])}
    if cvr_task:
        logits[cvr_task] = cvr
    towers = {t.name: dense_stack(inputs[t.name], tower_units, f"tower_{t.name}") for t in others}
    return towers, {}, logits
