"""End to end on the tiny config: train -> export -> `serve.py` -> REST and gRPC
predictions equal to Keras predict (gRPC through the official TF Serving stubs)."""

import json
import os
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (get_model_status_pb2, model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

import models
from models.export import export_saved_model
from tests.conftest import tiny_config
from tests.helpers import http_json, serve_subprocess
from training.experiment import Experiment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(multi_mnist_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    run_dir, base = str(root / "run"), str(root / "exported" / "multi_mnist")
    experiment = Experiment(tiny_config(multi_mnist_dir))
    metrics = experiment.train(run_dir, verbose=0)
    model = models.load_model(os.path.join(run_dir, "best.keras"))
    export_saved_model(model, base)
    test_x = next(iter(experiment.eval_data("test", batch_size=6)))[0]["image"].numpy()
    with serve_subprocess("multi_mnist", base, str(root / "server.log")) as (url, grpc_port):
        yield dict(model=model, metrics=metrics, run_dir=run_dir, url=url, grpc_port=grpc_port,
                   x=test_x, expected=model.predict({"image": test_x}, verbose=0))


def test_training_wrote_metrics(served):
    with open(os.path.join(served["run_dir"], "metrics.json")) as f:
        metrics = json.load(f)
    assert set(metrics) == {"left", "right", "same_digit"}
    assert {"accuracy", "top_3_accuracy", "loss"} <= set(metrics["left"])
    assert {"accuracy", "auc", "loss"} <= set(metrics["same_digit"])


def check_rows(rows, expected):
    assert len(rows) == len(expected["left"])
    for i, row in enumerate(rows):
        assert set(row) == {"left", "left_class", "left_label", "right", "right_class",
                            "right_label", "same_digit", "same_digit_label"}
        np.testing.assert_allclose(row["left"], expected["left"][i], atol=1e-5)
        np.testing.assert_allclose(row["right"], expected["right"][i], atol=1e-5)
        np.testing.assert_allclose(row["same_digit"], expected["same_digit"][i, 0], atol=1e-5)
        assert row["left_class"] == int(np.argmax(expected["left"][i]))
        assert row["left_label"] == str(row["left_class"])  # the class name: digits here


def test_rest_row_and_columnar(served):
    x, expected = served["x"], served["expected"]
    status, body = http_json("POST", served["url"] + ":predict", {"instances": x.tolist()})
    assert status == 200, body
    check_rows(body["predictions"], expected)
    status, body = http_json("POST", served["url"] + ":predict",
                        {"signature_name": "serving_default", "inputs": {"image": x.tolist()}})
    assert status == 200, body
    np.testing.assert_allclose(body["outputs"]["right"], expected["right"], atol=1e-5)
    np.testing.assert_allclose(body["outputs"]["same_digit"], expected["same_digit"][:, 0], atol=1e-5)


def test_grpc_predict_and_status(served):
    x, expected = served["x"], served["expected"]
    with grpc.insecure_channel(f"127.0.0.1:{served['grpc_port']}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "multi_mnist"
        request.inputs["image"].CopyFrom(tf.make_tensor_proto(x))
        response = stub.Predict(request, timeout=30)
        for name in ("left", "right"):
            np.testing.assert_allclose(tf.make_ndarray(response.outputs[name]), expected[name], atol=1e-5)
        np.testing.assert_allclose(tf.make_ndarray(response.outputs["same_digit"]),
                                   expected["same_digit"][:, 0], atol=1e-5)
        status = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(
            get_model_status_pb2.GetModelStatusRequest(model_spec=request.model_spec), timeout=30)
        assert status.model_version_status[0].state == 30  # AVAILABLE


def test_errors_keep_the_server_serving(served):
    status, body = http_json("POST", served["url"].replace("multi_mnist", "nope") + ":predict",
                        {"instances": served["x"].tolist()})
    assert status == 404 and "Servable not found" in body["error"]
    req = urllib.request.Request(served["url"] + ":predict", data=b"{not json", method="POST")
    try:
        urllib.request.urlopen(req, timeout=30)
        raise AssertionError("malformed body accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 400 and "error" in json.load(e)
    status, body = http_json("POST", served["url"] + ":predict", {"instances": served["x"][:1].tolist()})
    assert status == 200
