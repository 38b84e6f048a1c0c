"""Versions and config changes while clients send requests: zero failed requests."""

import os
import threading
import time

import pytest
import tensorflow as tf
from tensorflow_serving.apis import (get_model_status_pb2, model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from serving import protos
from serving.testing import write_tabular_saved_model, write_toy_saved_model
from tests.serving.conftest import (Rest, image_batch, reload_config, start_server, wait_for,
                                   write_config)


class Load:
    """Background REST + gRPC clients recording failures and the versions that answered."""

    def __init__(self, server, model="toy", threads=3):
        import grpc

        self.failures, self.versions, self._stop = [], set(), threading.Event()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        rest = Rest(server.rest_port)

        def rest_loop():
            while not self._stop.is_set():
                status, out = rest.post(f"/v1/models/{model}:predict",
                                        {"instances": image_batch(1).tolist()})
                if status != 200:
                    self.failures.append(out)
                else:
                    self.versions.add(round(out["predictions"][0]["brightness"]))

        def grpc_loop():
            req = predict_pb2.PredictRequest()
            req.model_spec.name = model
            req.inputs["image"].CopyFrom(tf.make_tensor_proto(image_batch(1)))
            while not self._stop.is_set():
                try:
                    resp = stub.Predict(req, timeout=30)
                    self.versions.add(resp.model_spec.version.value)
                except Exception as e:  # noqa: BLE001
                    self.failures.append(repr(e))

        self._threads = [threading.Thread(target=rest_loop if i % 2 == 0 else grpc_loop)
                         for i in range(threads)]
        for t in self._threads:
            t.start()

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(30)
        self._channel.close()


def serve_config_file(tmp_path, models, poll_s):
    """(the config path, the server, its REST caller): a server on a models.config of
    `models` ([(name, base_path, extra text)]) that it polls every `poll_s` seconds."""
    config = tmp_path / "models.config"
    write_config(config, models)
    server = start_server(f"--model_config_file={config}",
                          f"--model_config_file_poll_wait_seconds={poll_s}",
                          "--file_system_poll_wait_seconds=0")
    return config, server, Rest(server.rest_port)


@pytest.mark.slow
def test_new_version_and_broken_version_under_load(tmp_path):
    base = str(tmp_path / "toy")
    write_toy_saved_model(base, 1, offset=0.0)
    server = start_server("--model_name=toy", f"--model_base_path={base}",
                          "--file_system_poll_wait_seconds=0.2", "--enable_batching")
    rest = Rest(server.rest_port)
    try:
        load = Load(server)
        time.sleep(0.5)
        write_toy_saved_model(base, 2, offset=1.0)  # written aside, renamed into place
        assert wait_for(lambda: rest.get("/v1/models/toy")[1]["model_version_status"][0]["version"] == "2"
                        and rest.get("/v1/models/toy")[1]["model_version_status"][0]["state"] == "AVAILABLE")
        # A broken version 3 is reported and never replaces version 2.
        os.makedirs(os.path.join(base, "3"))
        with open(os.path.join(base, "3", "saved_model.pb"), "wb") as f:
            f.write(b"not a saved model")
        assert wait_for(lambda: any(s["version"] == "3" and s["state"] == "END"
                                    for s in rest.get("/v1/models/toy")[1]["model_version_status"]))
        time.sleep(0.5)
        load.stop()
        status = {s["version"]: s for s in rest.get("/v1/models/toy")[1]["model_version_status"]}
        assert status["3"]["status"]["error_code"] != "OK" and status["3"]["status"]["error_message"]
        assert status["2"]["state"] == "AVAILABLE" and status["1"]["state"] == "END"
        out = rest.post("/v1/models/toy:predict", {"instances": image_batch(1).tolist()})[1]
        assert out["predictions"][0]["brightness"] == pytest.approx(1.0)
        assert load.failures == [], load.failures[:3]
        assert {0, 1, 2} & load.versions  # answers came from both versions during the swap
    finally:
        server.stop()


@pytest.mark.slow
def test_config_file_change_and_reload_rpc_under_load(tmp_path):
    toy, tab = str(tmp_path / "toy"), str(tmp_path / "tab")
    write_toy_saved_model(toy, 1)
    write_toy_saved_model(toy, 2, offset=1.0)
    write_tabular_saved_model(tab, 1)
    config, server, rest = serve_config_file(
        tmp_path, [("toy", toy, "model_version_policy { latest { num_versions: 1 } }")], 0.2)
    try:
        load = Load(server)
        time.sleep(0.5)
        write_config(config, [("toy", toy, 'model_version_policy { all {} }\n'
                               '    version_labels { key: "stable" value: 1 }'),
                              ("tab", tab, "")])
        assert wait_for(lambda: rest.get("/v1/models/tab")[0] == 200)
        assert wait_for(lambda: rest.get("/v1/models/toy/labels/stable")[0] == 200)
        # The same through gRPC HandleReloadConfigRequest: drop tab again.
        import grpc

        without_tab = protos.parse_model_server_config(config.read_text())
        del without_tab.model_config_list.config[1]
        assert reload_config(server.grpc_port, without_tab) == 0
        with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as ch:
            stub = model_service_pb2_grpc.ModelServiceStub(ch)
            status_req = get_model_status_pb2.GetModelStatusRequest()
            status_req.model_spec.name = "tab"
            with pytest.raises(grpc.RpcError) as e:
                stub.GetModelStatus(status_req, timeout=30)
            assert e.value.code() == grpc.StatusCode.NOT_FOUND
        time.sleep(0.3)
        load.stop()
        assert load.failures == [], load.failures[:3]
    finally:
        server.stop()


def test_an_empty_config_file_read_mid_write_keeps_every_model(tmp_path):
    # `>`-style writes truncate first: a poll that reads the empty file must not unload anything.
    toy = str(tmp_path / "toy")
    write_toy_saved_model(toy, 1)
    config, server, rest = serve_config_file(tmp_path, [("toy", toy, "")], 0.1)
    try:
        config.write_text("")
        time.sleep(0.5)  # several polls see the empty file
        assert rest.get("/v1/models/toy")[0] == 200
        write_config(config, [("toy", toy, 'version_labels { key: "stable" value: 1 }')])
        assert wait_for(lambda: rest.get("/v1/models/toy/labels/stable")[0] == 200)
    finally:
        server.stop()
