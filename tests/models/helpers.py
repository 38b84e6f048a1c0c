"""Shared test helpers: take an architecture through build -> train -> save -> export -> serve.

`run_architecture_test` is the one path every architecture goes through; test
files only pick the architecture, its `model.args` and the parameter count to
expect for the reference config below.
"""

import json
import os
import urllib.request

import keras
import numpy as np
import tensorflow as tf

import models
from inputs import InputSpec
from models.export import export_saved_model, sample_inputs
from models.inspection import gate_experts, mean_gate_weights
from tasks import Task

# The reference config: one task of each kind on tiny 8x8 images, a tiny CNN.
TASKS = (Task("digit", "multiclass", ("0", "1", "2", "3")),
         Task("big", "binary"),
         Task("tags", "multilabel", ("a", "b", "c")),
         Task("value", "regression"))
IMAGE_INPUTS = (InputSpec("image", "image", shape=(8, 8, 1), dtype="uint8"),)
CNN_ARGS = {"filters": [4], "units": 8}
TABULAR_INPUTS = (InputSpec("age", "numeric", mean=40.0, variance=100.0, fill_value=40.0),
                  InputSpec("city", "categorical", dtype="string", vocabulary=("a", "b"),
                            fill_value="a"))


def token_counts(inputs, specs):
    """Tokens per example of the input that serves them (a text input's `sequence_length`);
    None without one."""
    for s in specs:
        served = s.served_outputs(inputs[s.name])
        if "sequence_length" in served:
            return np.asarray(served["sequence_length"])
    return None


def make_batch(tasks, specs, n=8, seed=0):
    """(inputs, labels, masks) arrays for `tasks`, with some labels missing (per token for
    token tasks, whose labels follow the text input's token counts)."""
    rng = np.random.default_rng(seed)
    inputs = sample_inputs(specs, n=n, seed=seed)
    labels, masks = {}, {}
    for t in tasks:
        if None in t.label_shape:  # one label per token, -1 past each sentence's end
            raw = t.sample_labels(n, rng, token_counts(inputs, specs))
            labels[t.name] = np.maximum(raw, 0)
            masks[t.name] = ((raw >= 0) & (rng.random(raw.shape) > 0.25)).astype(np.float32)
            continue
        labels[t.name] = t.sample_labels(n, rng)
        masks[t.name] = (rng.random(n) > 0.25).astype(np.float32)
    return inputs, labels, masks


def build(architecture, args=None, encoder="cnn", encoder_args=None, tasks=TASKS,
          inputs=IMAGE_INPUTS):
    return models.MultiTaskModel(
        tasks=[t.to_config() for t in tasks], inputs=[i.to_config() for i in inputs],
        architecture=architecture, encoder=encoder,
        encoder_args=dict(CNN_ARGS if encoder_args is None else encoder_args), args=args or {})


def served_like_keras(model, outputs, inputs=None):
    """Keras outputs as the serving signature returns them (each task's kind says how; a
    text input adds its `tokens` and `sequence_length`, from the raw `inputs`)."""
    out = {}
    for spec in model.input_specs:
        if inputs is not None:
            out.update({k: np.asarray(v) for k, v in spec.served_outputs(inputs[spec.name]).items()})
    for t in model.tasks:
        if not t.auxiliary:  # auxiliary tasks are trained, not served
            out.update({k: np.asarray(v) for k, v in t.serving_outputs(outputs[t.name]).items()})
    return out


def assert_served_equal(served, want, rtol=1e-5, atol=1e-6):
    """Served outputs equal `want` (from `served_like_keras`): numbers within tolerance, class
    names (`<task>_label`, bytes in-process, str over REST) exactly."""
    assert sorted(served) == sorted(want)
    for key, value in want.items():
        got = np.asarray(served[key])
        if value.dtype.kind in "OSU":
            decode = np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else str(v),
                                  otypes=[object])
            np.testing.assert_array_equal(decode(got), decode(value), err_msg=key)
        else:
            np.testing.assert_allclose(got, value, rtol=rtol, atol=atol, err_msg=key)


def rest_predict(port, model_name, inputs):
    """POST /v1/models/<name>:predict with columnar `inputs`; returns the `outputs` dict."""
    body = json.dumps({"inputs": {k: np.asarray(v).tolist() for k, v in inputs.items()}}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models/{model_name}:predict",
                                 data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())["outputs"]


def run_architecture_test(tmp_path, architecture, args=None, expected_params=None,
                          encoder="cnn", encoder_args=None, tasks=TASKS, inputs=IMAGE_INPUTS,
                          expected_gates=None, expect_extra_loss=False, serve_rest=False):
    """Build -> config round trip -> a train step on arrays and on tf.data -> `.keras`
    round trip -> SavedModel export -> served predictions equal to Keras ones.

    Args:
        tmp_path: pathlib.Path. Scratch folder.
        architecture: str. The architecture under test.
        args: dict. Its `model.args`.
        expected_params: int or None. The model's parameter count (catches accidental
            changes to an architecture).
        expected_gates: dict or None. {gate probe: number of experts} it must expose.
        expect_extra_loss: bool. Whether the model adds a loss (`model.losses`).
        serve_rest: bool. Also serve the export with our server and compare REST
            predictions.

    Returns:
        The trained model.
    """
    from training.testing import train_config
    from training.trainer import Trainer

    # Build; the config is the constructor's arguments. Seeded: these nets are tiny, and at
    # some initialisations a ReLU layer is dead for the batch (no gradient, e.g. mtan's
    # attention at 2 of 12 seeds), so the result must not depend on the tests run before.
    keras.utils.set_random_seed(0)
    model = build(architecture, args, encoder, encoder_args, tasks, inputs)
    names = [t.name for t in tasks]
    assert sorted(model.output_names) == sorted(names)
    if expected_params is not None:
        assert model.count_params() == expected_params, (
            f"{architecture}: {model.count_params()} parameters, expected {expected_params}")
    clone = models.MultiTaskModel.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert clone.count_params() == model.count_params()

    # One training step on arrays, then one on a tf.data pipeline.
    batch = make_batch(tasks, inputs, n=8)
    # SGD: Adam's first-step trace costs seconds per architecture on 2 cores, and the
    # optimizer is not what is under test.
    trainer = Trainer(model, tasks, train_config(), optimizer=keras.optimizers.SGD(0.01), verbose=0)
    before = [w.numpy().copy() for w in model.trainable_weights]
    loss, _ = trainer.train_step(batch)
    assert np.isfinite(float(loss))
    changed = [not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights)]
    assert all(changed), f"{architecture}: weights not trained: " + ", ".join(
        w.path for w, c in zip(model.trainable_weights, changed) if not c)
    ds = tf.data.Dataset.from_tensor_slices(make_batch(tasks, inputs, n=8, seed=1)).batch(8)
    for b in ds:
        loss, _ = trainer.train_step(b)
        assert np.isfinite(float(loss))
    model(batch[0], training=True)
    assert bool(model.losses) == expect_extra_loss, f"{architecture}: model.losses={model.losses}"

    # `.keras` round trip: same predictions, same probes.
    x = make_batch(tasks, inputs, n=5, seed=2)[0]
    expected = {k: np.asarray(v) for k, v in model(x, training=False).items()}
    path = os.path.join(tmp_path, f"{architecture}.keras")
    model.save(path)
    loaded = models.load_model(path)
    assert isinstance(loaded, models.MultiTaskModel)
    for name in names:
        np.testing.assert_allclose(np.asarray(loaded(x, training=False)[name]), expected[name],
                                   rtol=1e-5, atol=1e-6)

    # Probes: gates are softmaxes over the named experts, also after loading.
    if expected_gates:
        probes = loaded.probe_model()
        assert probes is not None
        values = probes(x, training=False)
        assert {k: v.shape[-1] for k, v in values.items()} == expected_gates
        for v in values.values():
            np.testing.assert_allclose(np.sum(v, axis=-1), 1.0, rtol=1e-5)
        experts = gate_experts(loaded)
        assert {k: len(v) for k, v in experts.items()} == expected_gates
        weights = mean_gate_weights(loaded, x)
        assert sorted(weights) == sorted(names)
        for task, w in weights.items():
            assert len(w) == len(experts[f"gate_{task}"])
            assert abs(sum(w) - 1.0) < 1e-5
    else:
        assert loaded.probe_model() is None

    # Export; the serving signature has the task outputs only (no probes).
    base = os.path.join(tmp_path, "export", architecture)
    version_dir = export_saved_model(loaded, base)
    served = tf.saved_model.load(version_dir).signatures["serving_default"](
        **{k: tf.constant(v) for k, v in x.items()})
    want = served_like_keras(model, expected, x)
    assert_served_equal({k: v.numpy() for k, v in served.items()}, want)

    if serve_rest:
        from serving.flags import parse_flags
        from serving.server import ModelServer

        server = ModelServer(parse_flags([
            "--port=0", "--rest_api_port=-1", f"--model_name={architecture}",
            f"--model_base_path={base}"])).start()
        try:
            outputs = rest_predict(server.rest_port, architecture, x)
        finally:
            server.stop()
        assert_served_equal(outputs, want)
    return model
