"""serve.py as a subprocess, predict.py's core against a server, serve flags."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import predict
from serving.client import GrpcClient, RestClient
from serving.flags import parse_flags
from serving.testing import write_toy_saved_model
from serving.workers import read_serving_line

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_flags_spelling_and_booleans():
    f = parse_flags(["--port=9000", "--rest_api_port=9001", "--model_config_file=/m.config",
                     "--enable_batching=false", "--enable_model_warmup=false",
                     "--rest_api_host=0.0.0.0"])
    assert (f.port, f.rest_api_port, f.enable_batching, f.enable_model_warmup, f.rest_api_host) == (
        9000, 9001, False, False, "0.0.0.0")


@pytest.mark.slow
def test_serve_py_subprocess_answers_rest_and_grpc(tmp_path):
    base = str(tmp_path / "toy")
    write_toy_saved_model(base, 4)
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "serve.py"), "--port=0", "--rest_api_port=-1",
         "--model_name=toy", f"--model_base_path={base}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        fields = read_serving_line(proc, 120)
        assert fields is not None, f"serve.py did not start (exit code {proc.poll()})"
        rest = RestClient(port=int(fields["rest_port"]))
        assert rest.request("GET", "/v1/models/toy")["model_version_status"][0]["version"] == "4"
        grpc_client = GrpcClient(port=int(fields["grpc_port"]))
        out = grpc_client.predict("toy", {"image": np.zeros([2, 28, 28, 1], np.uint8)})
        assert out["digit"].shape == (2, 10)
        grpc_client.close()
        rest.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_predict_py_sends_an_image_file(server, tmp_path, capsys, protocol):
    from PIL import Image

    path = tmp_path / "digit.png"
    Image.fromarray(np.full([56, 56], 255, np.uint8)).save(path)  # resized to 28x28x1
    port = server.rest_port if protocol == "rest" else server.grpc_port
    assert predict.main(["--protocol", protocol, "--port", str(port), "--model_name", "toy",
                         "--model_version", "1", "--image", str(path)]) == 0
    out = capsys.readouterr().out
    assert "example 0:" in out and "brightness=1.000" in out and "digit=" in out


def test_run_predict_pairs_outputs_with_true_labels(server):
    client = RestClient(port=server.rest_port)
    rows = predict.run_predict(client, "toy", {"image": np.zeros([3, 28, 28, 1], np.uint8)},
                               labels={"digit_class": np.array([0, 1, 2]), "other": np.zeros(3)})
    assert len(rows) == 3 and rows[2]["labels"] == {"digit_class": 2}
    assert set(rows[0]["outputs"]) == {"digit", "digit_class", "is_even", "brightness"}
    assert "true=2" in predict.format_rows(rows).splitlines()[2]
