"""Fuzzing (hypothesis) the REST and gRPC servers with malformed requests: never a 5xx or an
INTERNAL, always TF Serving's error shape, and a correct answer afterwards.

Bounded (derandomized, a few hundred cases per protocol: ~10-20 s here); `bench/fuzz.py` runs
the long version against a `serve.py` subprocess.
"""

import json
import os

import grpc
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from tensorflow_serving.apis import prediction_service_pb2_grpc

from tests.serving import fuzz_cases
from tests.serving.conftest import image_batch

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "250"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


def check_still_serving(rest):
    status, out = rest.post("/v1/models/toy/versions/1:predict",
                            {"instances": image_batch(1).tolist()})
    assert status == 200 and out["predictions"][0]["brightness"] == pytest.approx(0.0), out


@FUZZ
@given(case=fuzz_cases.rest_requests())
def test_rest_fuzz_never_5xx(server, case):
    method, path, body, headers = case
    status, head, payload = fuzz_cases.raw_http(
        server.rest_port, fuzz_cases.http_request(method, path, body, headers))
    assert status < 500, (status, payload[:300], case[:2])
    if status != 200:
        assert head["content-type"] == "application/json", head
        if method == "HEAD":  # HTTP: the same headers, no body
            return
        doc = json.loads(payload)
        assert set(doc) == {"error"} and doc["error"], doc
        assert "Error:" not in doc["error"] and "Traceback" not in doc["error"], doc


@FUZZ
@given(request=fuzz_cases.predict_requests())
def test_grpc_fuzz_never_internal(grpc_channel, request):
    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc_channel)
    try:
        stub.Predict(request, timeout=30)
    except grpc.RpcError as e:
        assert e.code().name in fuzz_cases.CLIENT_CODES, (e.code(), e.details(), request)
        assert e.details(), e


@FUZZ
@given(request=fuzz_cases.infer_requests())
def test_grpc_v2_fuzz_never_internal(grpc_channel, request):
    from tritonclient.grpc import service_pb2_grpc

    try:
        service_pb2_grpc.GRPCInferenceServiceStub(grpc_channel).ModelInfer(request, timeout=30)
    except grpc.RpcError as e:
        assert e.code().name in fuzz_cases.CLIENT_CODES, (e.code(), e.details(), request)


def test_the_server_answers_correctly_after_fuzzing(server, rest):
    check_still_serving(rest)
    stub = prediction_service_pb2_grpc.PredictionServiceStub(
        grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}"))
    from tests.serving.grpc_v1.test_grpc import predict_request

    resp = stub.Predict(predict_request(version=1), timeout=30)
    assert resp.model_spec.version.value == 1 and np.shape(resp.outputs["digit"].tensor_shape.dim)
