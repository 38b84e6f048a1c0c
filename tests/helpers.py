"""Helpers shared by tests that run the real scripts: free ports, JSON over HTTP, and a
`serve.py` subprocess that is ready (model AVAILABLE) before the test talks to it (the scans
of the project's code are in tests/code_scan.py)."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(method, url, body=None, timeout=30):
    """(status, parsed JSON body) of one request; HTTP errors are returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


@contextlib.contextmanager
def serve_subprocess(model_name, base_path, log_path, ready_timeout=120):
    """Runs `serve.py` on free ports; yields (rest model url, grpc port) once AVAILABLE."""
    grpc_port, rest_port = free_port(), free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, os.path.join(REPO, "serve.py"), f"--port={grpc_port}",
             f"--rest_api_port={rest_port}", f"--model_name={model_name}",
             f"--model_base_path={base_path}"],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        try:
            url = f"http://127.0.0.1:{rest_port}/v1/models/{model_name}"
            deadline = time.time() + ready_timeout
            while True:
                try:
                    status, body = http_json("GET", url, timeout=5)
                    if status == 200 and body["model_version_status"][0]["state"] == "AVAILABLE":
                        break
                except OSError:
                    pass
                assert proc.poll() is None, open(log_path).read()
                assert time.time() < deadline, f"server not ready in {ready_timeout} s"
                time.sleep(0.3)
            yield url, grpc_port
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@contextlib.contextmanager
def serve_in_process(model_name, base_path):
    """Our server on an exported model in this process (gRPC and REST on free ports)."""
    from serving.flags import parse_flags
    from serving.server import ModelServer

    server = ModelServer(parse_flags(["--port=0", "--rest_api_port=-1",
                                      f"--model_name={model_name}",
                                      f"--model_base_path={base_path}"])).start()
    try:
        yield server
    finally:
        server.stop()


def train_export(config, root, name):
    """Trains `config` (an experiment config) into `root/run`, exports the best model under
    `root/exported/<name>`; returns (experiment, model, export base)."""
    import models
    from models.export import export_saved_model
    from training.experiment import Experiment

    experiment = Experiment(config)
    experiment.train(os.path.join(root, "run"), verbose=0)
    model = models.load_model(os.path.join(root, "run", "best.keras"))
    base = os.path.join(root, "exported", name)
    export_saved_model(model, base)
    return experiment, model, base
