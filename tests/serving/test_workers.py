"""`serve.py --num_workers=2`: two processes on the same ports, agreeing on models, reloads
and metrics, stopped together."""

import os
import signal
import subprocess
import sys
import time

import pytest

from serving import protos
from serving.testing import write_tabular_saved_model, write_toy_saved_model
from serving.workers import read_serving_line
from tests.serving.conftest import Rest, image_batch, reload_config, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    root = tmp_path_factory.mktemp("workers")
    toy, tab = str(root / "toy"), str(root / "tab")
    write_toy_saved_model(toy, 1)
    write_tabular_saved_model(tab, 1)
    monitoring = root / "monitoring.config"
    monitoring.write_text('prometheus_config { enable: true path: "/metrics" }\n')
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "serve.py"), "--port=0", "--rest_api_port=-1",
         "--model_name=toy", f"--model_base_path={toy}", "--num_workers=2",
         f"--monitoring_config_file={monitoring}", "--file_system_poll_wait_seconds=0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    fields = read_serving_line(proc, 240)
    assert fields is not None, f"serve.py did not start (exit code {proc.poll()})"
    yield {"proc": proc, "grpc": int(fields["grpc_port"]), "rest": int(fields["rest_port"]),
           "workers": int(fields["workers"]), "toy": toy, "tab": tab}
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def _worker_pids(proc):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True,
                         text=True).stdout
    return [int(p) for p in out.split()]


def test_both_workers_serve_and_metrics_add_up(workers):
    assert workers["workers"] == 2 and len(_worker_pids(workers["proc"])) == 2
    rest = Rest(workers["rest"])
    sent = 40
    for _ in range(sent):  # a new connection each: the kernel spreads them over the workers
        status, out = rest.post("/v1/models/toy:predict", {"instances": image_batch(1).tolist()})
        assert status == 200, out
    status, text = rest.get("/metrics")
    text = text.decode()
    count = [line for line in text.splitlines() if line.startswith(
        ":tensorflow:serving:request_count_total{") and 'api="predict"' in line]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in count) == sent, count


def test_a_reload_rpc_reaches_every_worker(workers):
    rest = Rest(workers["rest"])
    assert rest.get("/v1/models/tab")[0] == 404
    config = protos.parse_model_server_config(
        'model_config_list { config { name: "toy" base_path: "%s" } '
        'config { name: "tab" base_path: "%s" } }' % (workers["toy"], workers["tab"]))
    assert reload_config(workers["grpc"], config) == 0
    # 20 answers in a row come from both workers (SO_REUSEPORT spreads the connections).
    assert wait_for(lambda: all(rest.get("/v1/models/tab")[0] == 200 for _ in range(20)), 30)


def test_sigterm_stops_every_worker(workers):
    pids = _worker_pids(workers["proc"])
    workers["proc"].send_signal(signal.SIGTERM)
    assert workers["proc"].wait(60) == 0
    time.sleep(0.5)
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
