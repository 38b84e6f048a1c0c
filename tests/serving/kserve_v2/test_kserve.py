"""The Open Inference Protocol (KServe v2) through the official client, tritonclient: the
same per-task answers as TF Serving's own stubs, over REST (JSON and binary tensors) and gRPC."""

import numpy as np
import pytest
import tensorflow as tf
import tritonclient.grpc as triton_grpc
import tritonclient.http as triton_http
from tensorflow_serving.apis import prediction_service_pb2_grpc
from tritonclient.utils import InferenceServerException

from tests.serving.conftest import image_batch
from tests.serving.grpc_v1.test_grpc import predict_request

OUTPUTS = ["brightness", "digit", "digit_class", "is_even"]


@pytest.fixture(scope="module")
def clients(server):
    http = triton_http.InferenceServerClient(url=f"127.0.0.1:{server.rest_port}")
    grpc = triton_grpc.InferenceServerClient(url=f"127.0.0.1:{server.grpc_port}")
    yield {"http": (http, triton_http), "grpc": (grpc, triton_grpc)}
    http.close()
    grpc.close()


def tf_serving_answer(grpc_channel, images, version):
    """The same request through TF Serving's PredictionService stub."""
    req = predict_request(version=version)
    req.inputs["image"].CopyFrom(tf.make_tensor_proto(images))
    resp = prediction_service_pb2_grpc.PredictionServiceStub(grpc_channel).Predict(req, timeout=30)
    return {k: tf.make_ndarray(v) for k, v in resp.outputs.items()}


@pytest.mark.parametrize("protocol, binary", [("http", True), ("http", False), ("grpc", None)])
def test_infer_gives_tf_servings_per_task_answers(clients, grpc_channel, protocol, binary):
    client, module = clients[protocol]
    images = np.random.RandomState(1).randint(0, 256, [3, 28, 28, 1]).astype(np.uint8)
    inp = module.InferInput("image", list(images.shape), "UINT8")
    if protocol == "http":
        inp.set_data_from_numpy(images, binary_data=binary)
        outputs = [module.InferRequestedOutput(n, binary_data=binary) for n in OUTPUTS]
    else:
        inp.set_data_from_numpy(images)
        outputs = [module.InferRequestedOutput(n) for n in OUTPUTS]
    result = client.infer("toy", [inp], model_version="1", outputs=outputs)
    expected = tf_serving_answer(grpc_channel, images, 1)
    for name in OUTPUTS:
        got = result.as_numpy(name)
        assert got.shape == expected[name].shape and got.dtype == expected[name].dtype, name
        np.testing.assert_allclose(got, expected[name], rtol=1e-6)
    response = result.get_response()
    version = response["model_version"] if protocol == "http" else response.model_version
    assert version == "1"


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_all_outputs_by_default_and_latest_version(clients, protocol):
    client, module = clients[protocol]
    inp = module.InferInput("image", [1, 28, 28, 1], "UINT8")
    inp.set_data_from_numpy(image_batch(1))
    result = client.infer("toy", [inp])
    assert result.as_numpy("brightness").tolist() == pytest.approx([1.0])  # version 2
    assert result.as_numpy("digit").shape == (1, 10)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_health_and_metadata(clients, protocol):
    client, _ = clients[protocol]
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("toy") and client.is_model_ready("toy", "1")
    assert not client.is_model_ready("nope") and not client.is_model_ready("toy", "9")
    meta = client.get_model_metadata("toy")
    if protocol == "grpc":
        from google.protobuf import json_format

        meta = json_format.MessageToDict(meta)
    assert sorted(meta["versions"]) == ["1", "2"]
    assert meta["inputs"] == [{"name": "image", "datatype": "UINT8",
                               "shape": [-1, 28, 28, 1] if protocol == "http" else
                               ["-1", "28", "28", "1"]}]
    assert [o["name"] for o in meta["outputs"]] == OUTPUTS
    server = client.get_server_metadata()
    assert (server["name"] if protocol == "http" else server.name) == "mtl-zoo"


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_strings_in_and_out(clients, protocol):
    client, module = clients[protocol]
    age = module.InferInput("age", [2], "FP32")
    age.set_data_from_numpy(np.array([30.0, 50.0], np.float32))
    city = module.InferInput("city", [2], "BYTES")
    city.set_data_from_numpy(np.array([b"paris", b"rome"], object))
    result = client.infer("tab", [age, city])
    assert result.as_numpy("income").tolist() == pytest.approx([15.0, 25.0])
    assert result.as_numpy("city_bytes").tolist() == [b"paris", b"rome"]


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_errors(clients, protocol):
    client, module = clients[protocol]
    inp = module.InferInput("image", [1, 28, 28, 1], "FP32")
    inp.set_data_from_numpy(np.zeros([1, 28, 28, 1], np.float32))
    with pytest.raises(InferenceServerException) as e:
        client.infer("toy", [inp])
    assert "to be uint8 but float32 is provided" in e.value.message()
    inp = module.InferInput("image", [1, 28, 28, 1], "UINT8")
    inp.set_data_from_numpy(image_batch(1))
    with pytest.raises(InferenceServerException) as e:
        client.infer("nope", [inp])
    assert "Servable not found for request: Latest(nope)" in e.value.message()
    with pytest.raises(InferenceServerException) as e:
        client.infer("toy", [inp], outputs=[module.InferRequestedOutput("nope")])
    assert "output tensor alias not found" in e.value.message()


def test_rest_json_request_by_hand(rest):
    body = {"inputs": [{"name": "image", "shape": [1, 28, 28, 1], "datatype": "UINT8",
                        "data": image_batch(1).reshape(-1).tolist()}],
            "outputs": [{"name": "brightness"}], "id": "r1"}
    status, out = rest.post("/v2/models/toy/versions/1/infer", body)
    assert status == 200, out
    assert out == {"model_name": "toy", "model_version": "1", "id": "r1", "outputs": [
        {"name": "brightness", "datatype": "FP32", "shape": [1], "data": [0.0]}]}
    for bad, fragment in [({"inputs": []}, "non-empty 'inputs'"),
                          ({"inputs": [{"name": "image", "shape": [-1], "datatype": "UINT8",
                                        "data": [1]}]}, "integers >= 0"),
                          ({"inputs": [{"name": "image", "shape": [2], "datatype": "UINT8",
                                        "data": [1]}]}, "1 values for shape [2]"),
                          ({"inputs": [{"name": "image", "shape": [1], "datatype": "UINT8",
                                        "data": [True]}]}, "must be integers"),
                          ({"inputs": [{"name": "image", "shape": [1], "datatype": "X",
                                        "data": [1]}]}, "unknown datatype"),
                          ({"inputs": [{"name": "image", "shape": [0, 2**40, 2**40],
                                        "datatype": "UINT8", "data": []}]}, "too many elements")]:
        status, out = rest.post("/v2/models/toy/infer", bad)
        assert status == 400 and fragment in out["error"], out
    assert rest.get("/v2/models/toy/versions/x")[0] == 400
    assert rest.get("/v2")[1]["extensions"] == ["binary_tensor_data"]


def test_v2_paths_are_in_the_openapi_document(rest):
    from openapi_spec_validator import validate

    doc = rest.get("/v1/openapi.json")[1]
    validate(doc)
    assert {"/v2", "/v2/health/ready", "/v2/models/{name}/infer",
            "/v2/models/{name}/versions/{v2version}/infer"} <= set(doc["paths"])
