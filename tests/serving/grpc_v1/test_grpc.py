"""gRPC contract tests with the official tensorflow_serving.apis stubs."""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, inference_pb2, model_service_pb2_grpc,
                                     predict_pb2, prediction_service_pb2_grpc, regression_pb2)

from serving.testing import image_example
from tests.serving.conftest import image_batch


@pytest.fixture(scope="module")
def stub(grpc_channel):
    return prediction_service_pb2_grpc.PredictionServiceStub(grpc_channel)


@pytest.fixture(scope="module")
def model_stub(grpc_channel):
    return model_service_pb2_grpc.ModelServiceStub(grpc_channel)


def predict_request(model="toy", n=2, version=None, label=None, signature="", output_filter=()):
    req = predict_pb2.PredictRequest(output_filter=list(output_filter))
    req.model_spec.name = model
    req.model_spec.signature_name = signature
    if version is not None:
        req.model_spec.version.value = version
    if label:
        req.model_spec.version_label = label
    req.inputs["image"].CopyFrom(tf.make_tensor_proto(image_batch(n)))
    return req


def test_predict_all_outputs_and_response_spec(stub):
    resp = stub.Predict(predict_request(n=3), timeout=30)
    assert resp.model_spec.name == "toy" and resp.model_spec.version.value == 2
    assert resp.model_spec.signature_name == "serving_default"
    assert set(resp.outputs) == {"digit", "digit_class", "is_even", "brightness"}
    assert tf.make_ndarray(resp.outputs["digit"]).shape == (3, 10)
    assert tf.make_ndarray(resp.outputs["digit_class"]).dtype == np.int64
    np.testing.assert_allclose(tf.make_ndarray(resp.outputs["brightness"]), [1.0] * 3)


def test_predict_output_filter_version_and_label(stub):
    resp = stub.Predict(predict_request(label="stable", output_filter=["brightness"]), timeout=30)
    assert list(resp.outputs) == ["brightness"] and resp.model_spec.version.value == 1
    resp = stub.Predict(predict_request(version=1, output_filter=["digit_class", "is_even"]), timeout=30)
    assert set(resp.outputs) == {"digit_class", "is_even"}


def examples_input(request, n=2, context=False):
    if context:
        request.input.example_list_with_context.context.ParseFromString(image_example(np.zeros([28, 28, 1])))
        for _ in range(n):
            request.input.example_list_with_context.examples.add()
    else:
        for _ in range(n):
            request.input.example_list.examples.add().ParseFromString(image_example(np.zeros([28, 28, 1])))
    return request


def test_classify_regress_and_multi_inference(stub):
    req = examples_input(classification_pb2.ClassificationRequest())
    req.model_spec.name, req.model_spec.signature_name = "toy", "classify_is_even"
    resp = stub.Classify(req, timeout=30)
    assert [c.label for c in resp.result.classifications[0].classes] == ["0", "1"]
    assert resp.model_spec.signature_name == "classify_is_even"

    req = examples_input(regression_pb2.RegressionRequest(), n=3, context=True)
    req.model_spec.name, req.model_spec.signature_name = "toy", "regress_brightness"
    req.model_spec.version.value = 1
    resp = stub.Regress(req, timeout=30)
    assert [r.value for r in resp.result.regressions] == pytest.approx([0.0] * 3)

    req = examples_input(inference_pb2.MultiInferenceRequest())
    for sig, method in [("classify_digit", "tensorflow/serving/classify"),
                        ("regress_brightness", "tensorflow/serving/regress")]:
        task = req.tasks.add(method_name=method)
        task.model_spec.name, task.model_spec.signature_name = "toy", sig
    resp = stub.MultiInference(req, timeout=30)
    assert len(resp.results[0].classification_result.classifications) == 2
    assert [r.value for r in resp.results[1].regression_result.regressions] == pytest.approx([1.0, 1.0])


def test_metadata_and_status(stub, model_stub):
    req = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    req.model_spec.name = "tab"
    resp = stub.GetModelMetadata(req, timeout=30)
    sig_map = get_model_metadata_pb2.SignatureDefMap()
    resp.metadata["signature_def"].Unpack(sig_map)
    assert set(sig_map.signature_def["serving_default"].inputs) == {"age", "city"}
    req = get_model_status_pb2.GetModelStatusRequest()
    req.model_spec.name = "toy"
    states = {s.version: s.state for s in model_stub.GetModelStatus(req, timeout=30).model_version_status}
    assert states == {1: 30, 2: 30}


@pytest.mark.parametrize("make, code, fragment", [
    (lambda: predict_request(model="nope"), "NOT_FOUND", "Servable not found for request: Latest(nope)"),
    (lambda: predict_request(version=5), "NOT_FOUND", "Servable not found for request: Specific(toy, 5)"),
    (lambda: predict_request(label="x"), "INVALID_ARGUMENT", "Unrecognized servable version label: x"),
    (lambda: predict_request(signature="nope"), "FAILED_PRECONDITION", 'Serving signature key "nope" not found.'),
    (lambda: predict_request(output_filter=["nope"]), "INVALID_ARGUMENT",
     "output tensor alias not found in signature: nope"),
    (lambda: predict_request(output_filter=["digit", "digit"]), "INVALID_ARGUMENT",
     "duplicate output tensor alias: digit"),
])
def test_predict_errors(stub, make, code, fragment):
    with pytest.raises(grpc.RpcError) as e:
        stub.Predict(make(), timeout=30)
    assert e.value.code().name == code and fragment in e.value.details()


def test_predict_wrong_inputs(stub):
    req = predict_request()
    req.inputs["extra"].CopyFrom(tf.make_tensor_proto([1.0]))
    with pytest.raises(grpc.RpcError) as e:
        stub.Predict(req, timeout=30)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input size does not match signature" in e.value.details()
    req = predict_request()
    req.inputs["image"].CopyFrom(tf.make_tensor_proto(np.zeros([1, 28, 28, 1], np.float32)))
    with pytest.raises(grpc.RpcError) as e:
        stub.Predict(req, timeout=30)
    assert "to be uint8 but float32 is provided" in e.value.details()


def test_metadata_and_multi_inference_errors(stub):
    req = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["nope"])
    req.model_spec.name = "toy"
    with pytest.raises(grpc.RpcError) as e:
        stub.GetModelMetadata(req, timeout=30)
    assert e.value.details() == "Metadata field nope is not supported"
    req = inference_pb2.MultiInferenceRequest()
    req.tasks.add(method_name="tensorflow/serving/classify").model_spec.name = "toy"
    req.tasks.add(method_name="tensorflow/serving/classify").model_spec.name = "tab"
    with pytest.raises(grpc.RpcError) as e:
        stub.MultiInference(req, timeout=30)
    assert "must access the same model name" in e.value.details()
    req = classification_pb2.ClassificationRequest()
    req.model_spec.name, req.model_spec.signature_name = "toy", "classify_digit"
    with pytest.raises(grpc.RpcError) as e:
        stub.Classify(req, timeout=30)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "Input is empty" in e.value.details()
