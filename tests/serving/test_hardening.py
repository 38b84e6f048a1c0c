"""Each hostile input found by the external fuzzing (issue D1-D10) gets a 4xx in TF Serving's
error shape, quickly, and the server keeps serving."""

import gzip
import json
import resource
import time

import grpc
import numpy as np
import pytest
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

from tests.serving import fuzz_cases
from tests.serving.conftest import Rest, image_batch, reload_config, start_server
from tests.serving.grpc_v1.test_grpc import predict_request

BIG_VERSION = "9223372036854775808"  # int64 max + 1


@pytest.fixture(scope="module")
def limited(model_dirs):
    """A server with small limits: 100 kB bodies, 8 examples per request."""
    srv = start_server("--model_name=toy", f"--model_base_path={model_dirs['toy']}",
                       "--rest_api_max_body_bytes=100000", "--max_examples_per_request=8",
                       "--file_system_poll_wait_seconds=0")
    yield srv
    srv.stop()


def error(status_and_body, code, fragment):
    status, body = status_and_body
    assert status == code and set(body) == {"error"} and fragment in body["error"], body


@pytest.mark.parametrize("method, path", [
    ("GET", f"/v1/models/toy/versions/{BIG_VERSION}"),
    ("GET", f"/v1/models/toy/versions/{BIG_VERSION}/metadata"),
    ("POST", f"/v1/models/toy/versions/{BIG_VERSION}:classify"),
    ("POST", f"/v1/models/toy/versions/{BIG_VERSION}:regress"),
    ("POST", f"/v1/models/toy/versions/{BIG_VERSION}:predict"),
    ("GET", "/v1/models/toy/versions/" + "9" * 5000),
])
def test_d1_versions_beyond_int64(rest, method, path):
    error(rest.call(method, path, {"examples": [{}]} if method == "POST" else None), 400,
          "Failed to convert version:")
    error(rest.get("/v1/models/toy/versions/9223372036854775807"), 404, "Could not find version")


@pytest.mark.parametrize("depth", [65, 100, 2000, 100_000])
def test_d2_d3_deep_nesting_is_refused_quickly(rest, depth):
    t0 = time.perf_counter()
    body = b'{"instances": ' + b"[" * depth + b"1" + b"]" * depth + b"}"
    error(rest.post("/v1/models/toy:predict", raw=body), 400, "nesting deeper than 64 levels")
    assert time.perf_counter() - t0 < 1.0
    error(rest.post("/v1/models/toy:classify", raw=body.replace(b"instances", b"examples")),
          400, "nesting deeper than 64 levels")


def test_d2_nesting_within_the_limit_is_an_ordinary_shape_error(rest):
    body = b'{"instances": ' + b"[" * 62 + b"1" + b"]" * 62 + b"}"
    error(rest.post("/v1/models/toy:predict", raw=body), 400, "signature expects")


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_d4_gzip_bodies_broken_gzip_and_a_gzip_bomb(server):
    body = fuzz_cases.valid_rest_body()
    send = lambda data, enc="gzip": fuzz_cases.raw_http(server.rest_port, fuzz_cases.http_request(
        "POST", "/v1/models/toy/versions/1:predict", data, [f"Content-Encoding: {enc}"]))
    status, _, payload = send(gzip.compress(body))
    assert status == 200, payload
    assert json.loads(payload)["predictions"][0]["brightness"] == pytest.approx(0.0)
    status, _, payload = send(gzip.compress(body)[:-6] + b"\x00" * 6)
    assert status == 400 and "Could not decompress" in json.loads(payload)["error"]
    status, _, payload = send(b"not gzip at all")
    assert status == 400 and "Could not decompress" in json.loads(payload)["error"]
    status, _, payload = send(body, "br")
    assert status == 400 and "Unsupported Content-Encoding" in json.loads(payload)["error"]
    # 300 kB that inflate to 300 MB: refused at the 32 MB limit, memory never near 300 MB.
    bomb = gzip.compress(bytes(300 << 20), 9)
    before = _peak_rss_mb()
    t0 = time.perf_counter()
    status, _, payload = send(bomb)
    assert status == 413 and "--rest_api_max_body_bytes" in json.loads(payload)["error"]
    assert time.perf_counter() - t0 < 5 and _peak_rss_mb() - before < 150


def test_d5_an_empty_reload_config_changes_nothing(limited):
    assert reload_config(limited.grpc_port) == 0
    assert Rest(limited.rest_port).get("/v1/models/toy")[0] == 200


def _grpc_error(channel, request):
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    with pytest.raises(grpc.RpcError) as e:
        stub.Predict(request, timeout=30)
    return e.value.code().name, e.value.details()


@pytest.mark.parametrize("dtype", [types_pb2.DT_RESOURCE, types_pb2.DT_VARIANT, 999])
def test_d6_dtypes_without_values_are_invalid_argument(grpc_channel, dtype):
    req = predict_request()
    req.inputs["image"].CopyFrom(tensor_pb2.TensorProto(dtype=dtype, tensor_content=b"\x00" * 8))
    req.inputs["image"].tensor_shape.dim.add(size=8)
    code, details = _grpc_error(grpc_channel, req)
    assert code == "INVALID_ARGUMENT" and "dtype" in details, details


def test_d7_negative_dimensions_and_lying_shapes(grpc_channel):
    req = predict_request(n=1)
    req.inputs["image"].tensor_shape.dim[0].size = -1
    assert _grpc_error(grpc_channel, req) == (
        "INVALID_ARGUMENT", "tensor parsing error: shape [-1, 28, 28, 1] has negative dimensions")
    req = predict_request(n=1)
    req.inputs["image"].tensor_shape.dim[0].size = 2  # 784 bytes for 2 images
    code, details = _grpc_error(grpc_channel, req)
    assert code == "INVALID_ARGUMENT" and "needs 1568" in details, details


def test_d8_a_json_boolean_among_pixels_is_a_type_error(rest):
    image = image_batch(1).tolist()
    image[0][3][4][0] = True
    error(rest.post("/v1/models/toy:predict", {"instances": image}), 400,
          "JSON Value: true Type: True is not of expected type: uint8")
    image[0][3][4][0] = 1
    assert rest.post("/v1/models/toy:predict", {"instances": image})[0] == 200


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE /\x01\x02 HTTP/1.1\r\n\r\n",
    b"GET /v1/models/toy HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20000 + b"\r\n\r\n",
    b"POST /v1/models/toy:predict HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
    b"GET /v1/models/toy HTTP/9.9\r\n\r\n",
])
def test_d9_protocol_errors_are_json_without_echo(server, request_bytes):
    status, headers, payload = fuzz_cases.raw_http(server.rest_port, request_bytes)
    assert 400 <= status < 500, payload
    assert headers["content-type"] == "application/json" and headers["server"] == "MTLZooModelServer"
    doc = json.loads(payload)
    assert set(doc) == {"error"} and "aiohttp" not in doc["error"] and b"GARBAGE" not in payload
    assert "aiohttp" not in headers["server"]


def test_d10_bodies_over_the_limit_are_413_declared_or_chunked(limited):
    big = b'{"instances": [' + b"0, " * 50000 + b"0]}"
    status, _, payload = fuzz_cases.raw_http(limited.rest_port, fuzz_cases.http_request(
        "POST", "/v1/models/toy:predict", big))
    assert status == 413 and "larger than 100000 bytes" in json.loads(payload)["error"]
    chunked = (b"POST /v1/models/toy:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
               b"\r\n" + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in [big[i:i + 30000] for i in
                                                                       range(0, len(big), 30000)])
               + b"0\r\n\r\n")
    status, _, payload = fuzz_cases.raw_http(limited.rest_port, chunked)
    assert status == 413, payload
    assert Rest(limited.rest_port).get("/v1/models/toy")[0] == 200


def test_amplification_zero_filled_tensors_and_max_examples(grpc_channel, limited):
    req = predict_request(n=0)  # shape [0, 28, 28, 1]: then claim 20,000 images, send none
    req.inputs["image"].ClearField("tensor_content")
    req.inputs["image"].tensor_shape.dim[0].size = 20000
    t0 = time.perf_counter()
    code, details = _grpc_error(grpc_channel, req)
    assert code == "INVALID_ARGUMENT" and "limited to" in details and time.perf_counter() - t0 < 2
    with grpc.insecure_channel(f"127.0.0.1:{limited.grpc_port}") as channel:
        code, details = _grpc_error(channel, predict_request(n=9))
        assert code == "INVALID_ARGUMENT" and "at most 8 per request" in details
    error(Rest(limited.rest_port).post("/v1/models/toy:predict",
                                       {"instances": image_batch(9).tolist()}),
          400, "The request holds 9 examples")
    assert Rest(limited.rest_port).post(
        "/v1/models/toy:predict", {"instances": image_batch(8).tolist()})[0] == 200


def test_zero_filled_small_tensors_keep_tensorflow_semantics(grpc_channel):
    # TensorFlow fills a tensor given fewer values than its shape: kept for small tensors.
    req = predict_request(n=0)
    req.inputs["image"].ClearField("tensor_content")
    req.inputs["image"].tensor_shape.dim[0].size = 2
    resp = prediction_service_pb2_grpc.PredictionServiceStub(grpc_channel).Predict(req, timeout=30)
    assert [d.size for d in resp.outputs["digit"].tensor_shape.dim] == [2, 10]
    assert np.frombuffer(resp.outputs["brightness"].tensor_content, np.float32).tolist() == [1, 1]
