"""The exporter: named outputs equal to Keras predict, both predict signatures,
classify/regress method names, warmup records, versions, atomic writes."""

import os

import numpy as np
import pytest
import tensorflow as tf

import models
from inputs import InputSpec
from models import export as exporter
from tasks import Task
from utils.saved_model import read_proto


def tiny_model():
    return models.MultiTaskModel(
        tasks=[Task("left", "multiclass", [str(d) for d in range(10)]).to_config(),
               Task("same_digit", "binary").to_config(),
               Task("ink", "regression").to_config()],
        inputs=[InputSpec("image", "image", shape=(28, 28, 1), dtype="uint8").to_config()],
        encoder_args={"filters": [4], "units": 8}, args={"tower_units": [8]})


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = tiny_model()
    base = str(tmp_path_factory.mktemp("exported") / "mm")
    path = exporter.export_saved_model(model, base)
    return model, base, path


def images(n=5, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28, 1)).astype(np.uint8)


def serialized_examples(x):
    return [tf.train.Example(features=tf.train.Features(feature={
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[tf.io.encode_png(i).numpy()]))
    })).SerializeToString() for i in x]


def test_serving_default_equals_keras_predict(exported):
    model, _, path = exported
    loaded = tf.saved_model.load(path)
    x = images()
    keras_out = model.predict({"image": x}, verbose=0)
    served = loaded.signatures["serving_default"](image=tf.constant(x))
    assert sorted(served) == ["ink", "left", "left_class", "left_label", "same_digit",
                              "same_digit_label"]
    np.testing.assert_allclose(served["left"].numpy(), keras_out["left"], atol=1e-6)
    np.testing.assert_allclose(served["same_digit"].numpy(), keras_out["same_digit"][:, 0], atol=1e-6)
    np.testing.assert_allclose(served["ink"].numpy(), keras_out["ink"][:, 0], atol=1e-5)
    np.testing.assert_array_equal(served["left_class"].numpy(), keras_out["left"].argmax(-1))
    # Class names beside the ids: the task's classes, as strings.
    assert served["left_label"].numpy().tolist() == [
        str(c).encode() for c in keras_out["left"].argmax(-1)]
    assert served["same_digit_label"].numpy().tolist() == [
        b"yes" if p >= 0.5 else b"no" for p in keras_out["same_digit"][:, 0]]


def test_tf_example_and_classify_regress_signatures(exported):
    model, _, path = exported
    loaded = tf.saved_model.load(path)
    x = images()
    keras_out = model.predict({"image": x}, verbose=0)
    examples = tf.constant(serialized_examples(x))
    via_examples = loaded.signatures["tf_example"](examples=examples)
    np.testing.assert_allclose(via_examples["left"].numpy(), keras_out["left"], atol=1e-6)
    assert "left_label" in via_examples and "same_digit_label" in via_examples
    classify = loaded.signatures["classify_same_digit"](inputs=examples)
    assert classify["classes"].numpy()[0].tolist() == [b"no", b"yes"]
    np.testing.assert_allclose(classify["scores"].numpy()[:, 1], keras_out["same_digit"][:, 0], atol=1e-6)
    regress = loaded.signatures["regress_ink"](inputs=examples)
    np.testing.assert_allclose(regress["outputs"].numpy(), keras_out["ink"][:, 0], atol=1e-5)


def test_tasks_signature_names_each_output_by_its_task_and_kind(exported):
    # What a client reads from the metadata alone (serving/client.py): the answer of
    # tf_example, each output named <task>.<kind>.<output>.
    _, _, path = exported
    loaded = tf.saved_model.load(path)
    examples = tf.constant(serialized_examples(images()))
    described = loaded.signatures["tasks"](examples=examples)
    assert sorted(described) == [
        "ink.regression.ink", "left.multiclass.left", "left.multiclass.left_class",
        "left.multiclass.left_label", "same_digit.binary.same_digit",
        "same_digit.binary.same_digit_label"]
    via_examples = loaded.signatures["tf_example"](examples=examples)
    for alias, value in described.items():
        np.testing.assert_array_equal(value.numpy(), via_examples[alias.split(".", 2)[2]].numpy())


def test_method_names_and_warmup(exported):
    from tensorflow_serving.apis import prediction_log_pb2

    _, _, path = exported
    sigs = read_proto(path).meta_graphs[0].signature_def
    assert sigs["serving_default"].method_name == "tensorflow/serving/predict"
    assert sigs["classify_left"].method_name == "tensorflow/serving/classify"
    assert sigs["regress_ink"].method_name == "tensorflow/serving/regress"
    records = list(tf.data.TFRecordDataset(
        os.path.join(path, "assets.extra", "tf_serving_warmup_requests")).as_numpy_iterator())
    assert records
    log = prediction_log_pb2.PredictionLog.FromString(records[0])
    assert log.predict_log.request.model_spec.signature_name == "serving_default"
    assert list(log.predict_log.request.inputs) == ["image"]


def test_versions_increase_and_failed_export_leaves_nothing(exported, monkeypatch):
    model, base, _ = exported
    assert exporter.next_version(base) == 2

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exporter, "write_warmup", broken)
    with pytest.raises(RuntimeError):
        exporter.export_saved_model(model, base)
    assert sorted(os.listdir(base)) == ["1"]  # no version 2, no temporary folder left
    with pytest.raises(FileExistsError):
        exporter.export_saved_model(model, base, version=1)


def test_auxiliary_tasks_are_trained_but_not_served(tmp_path):
    import dataclasses

    from tests.models.helpers import TASKS, run_architecture_test
    from training.baselines import delta_m

    tasks = (TASKS[0], dataclasses.replace(TASKS[1], auxiliary=True))
    model = run_architecture_test(tmp_path, "shared_bottom", {"tower_units": [4]}, tasks=tasks)
    assert model.tasks[1].auxiliary and "big" in model.output_names  # a head that trains
    signatures = tf.saved_model.load(str(next((tmp_path / "export" / "shared_bottom").iterdir())))
    assert "classify_big" not in signatures.signatures and "classify_digit" in signatures.signatures
    report = delta_m({"digit": {"accuracy": 0.5}, "big": {"auc": 0.9}},
                     {"digit": {"accuracy": 0.4}, "big": {"auc": 0.5}}, model.tasks)
    assert list(report["tasks"]) == ["digit"]
