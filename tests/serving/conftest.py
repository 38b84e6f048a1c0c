"""Shared fixtures: small SavedModels (serving.testing) and in-process servers on free ports."""

import json
import os
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import model_management_pb2, model_service_pb2_grpc, predict_pb2

from serving.core import warmup
from serving.flags import parse_flags
from serving.server import ModelServer
from serving.testing import write_tabular_saved_model, write_toy_saved_model


def write_config(path, models):
    """Writes a models.config; models = [(name, base_path, extra text)]."""
    body = "".join(
        f'  config {{\n    name: "{n}"\n    base_path: "{b}"\n    model_platform: "tensorflow"\n'
        f"    {extra}\n  }}\n" for n, b, extra in models)
    # Written beside and renamed, as a deployment should: a poller never reads half a file.
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(f"model_config_list {{\n{body}}}\n")
    os.replace(tmp, path)
    return str(path)


def start_server(*args):
    return ModelServer(parse_flags(["--port=0", "--rest_api_port=-1", *args])).start()


def reload_config(grpc_port, config=None):
    """Sends a gRPC HandleReloadConfigRequest of `config` (a ModelServerConfig; None: an
    empty request) to the server on `grpc_port`; returns the answer's status error code."""
    import grpc

    request = model_management_pb2.ReloadConfigRequest()
    if config is not None:
        request.config.CopyFrom(config)
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = model_service_pb2_grpc.ModelServiceStub(channel)
        return stub.HandleReloadConfigRequest(request, timeout=60).status.error_code


def wait_for(predicate, timeout=60):
    """True once `predicate()` is true (asked every 0.1 s), False after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


class Rest:
    """Tiny REST caller returning (status, parsed JSON)."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                payload = resp.read()
                status = resp.status
        except urllib.error.HTTPError as e:
            payload, status = e.read(), e.code
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body=None, raw=None):
        return self.call("POST", path, body, raw)


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    toy = root / "toy"
    write_toy_saved_model(str(toy), 1, offset=0.0)
    v2 = write_toy_saved_model(str(toy), 2, offset=1.0)
    req = predict_pb2.PredictRequest()
    req.inputs["image"].CopyFrom(tf.make_tensor_proto(np.zeros([1, 28, 28, 1], np.uint8)))
    warmup.write_warmup_requests(v2, [req])
    tab = root / "tab"
    write_tabular_saved_model(str(tab), 1)
    return {"root": root, "toy": str(toy), "tab": str(tab)}


@pytest.fixture(scope="session")
def server(model_dirs, tmp_path_factory):
    """Two models (toy: versions 1 and 2 with labels; tab), batching and monitoring on."""
    d = tmp_path_factory.mktemp("server_cfg")
    config = write_config(d / "models.config", [
        ("toy", model_dirs["toy"],
         'model_version_policy { all {} }\n    version_labels { key: "stable" value: 1 }\n'
         '    version_labels { key: "canary" value: 2 }'),
        ("tab", model_dirs["tab"], ""),
    ])
    (d / "batching.config").write_text(
        "max_batch_size { value: 8 }\nbatch_timeout_micros { value: 2000 }\n"
        "num_batch_threads { value: 1 }\n")
    (d / "monitoring.config").write_text(
        'prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }\n')
    srv = start_server(f"--model_config_file={config}", "--enable_batching",
                       f"--batching_parameters_file={d / 'batching.config'}",
                       f"--monitoring_config_file={d / 'monitoring.config'}",
                       "--file_system_poll_wait_seconds=0")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def rest(server):
    return Rest(server.rest_port)


@pytest.fixture(scope="session")
def grpc_channel(server):
    import grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    yield channel
    channel.close()


def image_batch(n, value=0):
    return np.full([n, 28, 28, 1], value, np.uint8)


def pytest_configure(config):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
