"""esmm and aitm: the funnel's probabilities, stable losses, the calibrator (their config
errors: tests/models/test_build_errors.py)."""

import keras
import numpy as np
import tensorflow as tf

from inputs import InputSpec
from models.architectures.aitm import Calibrator, ConditionalLogit
from models.architectures.esmm import ProductLogit
from tasks import Task
from tests.models.helpers import build, make_batch
from tests.models.test_architectures import FUNNEL_TASKS

INPUTS = (InputSpec("x", "numeric", shape=(6,)),)
MLP = {"units": [8]}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def funnel_model(architecture, args=None, tasks=FUNNEL_TASKS):
    return build(architecture, {"tower_units": [8], **(args or {})}, encoder="mlp",
                 encoder_args=MLP, tasks=tasks, inputs=INPUTS)


def test_product_logit_is_exact_and_stable():
    a = np.array([[-60.0], [-3.0], [0.0], [2.5], [40.0], [90.0]], "float32")
    b = np.array([[50.0], [1.0], [0.0], [-4.0], [40.0], [-90.0]], "float32")
    a_t, b_t = tf.constant(a), tf.constant(b)
    with tf.GradientTape() as tape:
        tape.watch([a_t, b_t])
        logit = ProductLogit()([a_t, b_t])
        # The cross-entropy of pCTCVR against both labels, from the product's logit.
        loss = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(logit), logit)
                             + tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(logit), logit))
    grads = tape.gradient(loss, [a_t, b_t])
    assert all(np.isfinite(g.numpy()).all() for g in grads) and np.isfinite(loss.numpy())
    # Its sigmoid is the product, where float64 can form the product directly.
    np.testing.assert_allclose(_sigmoid(logit.numpy()), _sigmoid(a) * _sigmoid(b), rtol=1e-5,
                               atol=1e-30)
    # -log(pCTCVR) = softplus(-a) + softplus(-b): no underflow at a = -60.
    np.testing.assert_allclose(
        tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(logit), logit).numpy(),
        np.logaddexp(0, -a) + np.logaddexp(0, -b), rtol=1e-5)


def test_esmm_outputs_are_the_funnel():
    model = funnel_model("esmm")
    x = make_batch(FUNNEL_TASKS, INPUTS, n=16)[0]
    out = {k: np.asarray(v) for k, v in model(x).items()}
    np.testing.assert_allclose(out["click"] * out["conversion"], out["click_conversion"],
                               rtol=1e-5)
    # Only the click and conversion networks feed pCTCVR: it has no tower of its own.
    assert not [l.name for l in model.layers if l.name.startswith("tower_click_conversion")]


def test_esmm_without_a_cvr_task_still_factorises():
    tasks = (Task("click", "binary"), Task("click_conversion", "binary"))
    model = funnel_model("esmm", {"cvr_task": None, "shared_encoder": True}, tasks=tasks)
    x = make_batch(tasks, INPUTS, n=4)[0]
    cvr = keras.Model(model.input, model.get_layer("cvr_logits").output)(x)
    out = model(x)
    np.testing.assert_allclose(np.asarray(out["click"]) * _sigmoid(cvr),
                               np.asarray(out["click_conversion"]), rtol=1e-5)


def test_esmm_extra_task_gets_its_own_network():
    tasks = FUNNEL_TASKS + (Task("dwell", "regression"),)
    model = funnel_model("esmm", tasks=tasks)
    assert model.get_layer("encoder_dwell") and model.get_layer("tower_dwell_0")


def test_calibrator_penalises_a_later_step_above_an_earlier_one():
    before = np.array([[0.0], [2.0], [-1.0], [1.0]], "float32")
    after = np.array([[1.0], [1.0], [-1.0], [3.0]], "float32")
    layer = Calibrator(0.6)
    np.testing.assert_array_equal(layer([before, after]).numpy(), after)
    excess = np.maximum(_sigmoid(after) - _sigmoid(before), 0.0)
    np.testing.assert_allclose(float(layer.losses[0]), 0.6 * excess.mean(), rtol=1e-5)
    off = Calibrator(0.0)
    off([before, after])
    assert not off.losses


def test_aitm_calibrator_and_derived_cvr():
    model = funnel_model("aitm", {"cvr_task": "conversion", "calibrator_weight": 0.5})
    x = make_batch(FUNNEL_TASKS, INPUTS, n=32)[0]
    out = {k: np.asarray(v, np.float64) for k, v in model(x, training=True).items()}
    p1, p2 = out["click"], out["click_conversion"]
    np.testing.assert_allclose(float(sum(model.losses)),
                               0.5 * np.maximum(p2 - p1, 0).mean(), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(out["conversion"], np.minimum(p2 / p1, 1 - 1e-6), rtol=1e-4)


def test_conditional_logit_caps_below_one():
    before, after = np.array([[-2.0]], "float32"), np.array([[3.0]], "float32")
    p = _sigmoid(ConditionalLogit()([before, after]).numpy())
    assert 0.999 < float(p[0, 0]) < 1.0


def test_aitm_three_steps_chain_through_ait_modules():
    tasks = tuple(Task(n, "binary") for n in ("click", "cart", "buy"))
    model = funnel_model("aitm", {"funnel": ["click", "cart", "buy"]}, tasks=tasks)
    names = {l.name for l in model.layers}
    assert {"ait_cart", "ait_buy", "transfer_cart", "transfer_buy", "calibrator_cart",
            "calibrator_buy"} <= names and "ait_click" not in names
    # The buy step reads the cart step's AIT output through its transfer layer.
    assert model.get_layer("transfer_buy").input is model.get_layer("ait_cart").output
