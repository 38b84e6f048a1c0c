#!/usr/bin/env python
"""Fuzz a `serve.py` subprocess with malformed REST and gRPC requests, then probe for stalls.

    python bench/fuzz.py --requests 10000     # ~1-3 minutes
    python bench/fuzz.py --requests 500 --probe_seconds 3

Serves the toy models of the tests (serving.testing) and sends `--requests` cases drawn from
the hypothesis strategies of tests/serving/fuzz_cases.py (70% REST: bodies, paths, headers,
compression, TF Serving's API and KServe v2's; 30% gRPC PredictRequests and v2
ModelInferRequests), then prints tried / 2xx / 4xx / 5xx / hangs per
protocol (a hang: no answer within --timeout seconds). Every 5xx or INTERNAL/UNKNOWN is
unintended: the first few are printed.

The stall probe then times model-status GETs, first alone, then while other connections send
1 MB bodies of nested brackets back to back and trickle a body one byte at a time (slowloris),
and prints p50/p99/max of the status requests for both.
"""

import argparse
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def start_server(tmp):
    from serving.testing import write_tabular_saved_model, write_toy_saved_model
    from serving.workers import read_serving_line

    toy, tab = os.path.join(tmp, "toy"), os.path.join(tmp, "tab")
    write_toy_saved_model(toy, 1)
    write_toy_saved_model(toy, 2, offset=1.0)
    write_tabular_saved_model(tab, 1)
    config = os.path.join(tmp, "models.config")
    with open(config, "w") as f:
        f.write(f'model_config_list {{ config {{ name: "toy" base_path: "{toy}" '
                'model_version_policy { all {} } version_labels { key: "stable" value: 1 } } '
                f'config {{ name: "tab" base_path: "{tab}" }} }}\n')
    batching = os.path.join(tmp, "batching.config")
    with open(batching, "w") as f:
        f.write("max_batch_size { value: 8 }\nbatch_timeout_micros { value: 2000 }\n")
    args = [sys.executable, os.path.join(ROOT, "serve.py"), "--port=0", "--rest_api_port=-1",
            f"--model_config_file={config}", "--enable_batching",
            f"--batching_parameters_file={batching}", "--file_system_poll_wait_seconds=0"]
    # The server's log (with the traceback of any internal error) goes to tmp/server.log.
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True)
    fields = read_serving_line(proc, 120)
    if fields is not None:
        return proc, int(fields["grpc_port"]), int(fields["rest_port"])
    proc.kill()
    raise RuntimeError("serve.py did not start")


def fuzz(rest_n, grpc_n, rest_port, grpc_port, timeout, seed):
    """({"rest"|"grpc": Counter of outcomes}, [unintended answers]) of `rest_n` REST and
    `grpc_n` gRPC cases (hypothesis, seeded)."""
    from hypothesis import HealthCheck, settings

    counts = {p: collections.Counter() for p in ("rest", "grpc")}
    bad = []
    opts = settings(deadline=None, database=None, print_blob=False,
                    suppress_health_check=list(HealthCheck))
    _fuzz_rest(rest_n, rest_port, timeout, seed, opts, counts["rest"], bad)
    _fuzz_grpc(grpc_n, grpc_port, timeout, seed, opts, counts["grpc"], bad)
    return counts, bad


def _fuzz_rest(n, port, timeout, seed, opts, counts, bad):
    """REST cases: bodies, paths, headers, compression, TF Serving's API and KServe v2's."""
    from hypothesis import given, settings
    from hypothesis import seed as hseed

    from tests.serving import fuzz_cases

    @hseed(seed)
    @settings(opts, max_examples=n)
    @given(case=fuzz_cases.rest_requests())
    def rest_case(case):
        method, path, body, headers = case
        counts["tried"] += 1
        try:
            status, _, payload = fuzz_cases.raw_http(
                port, fuzz_cases.http_request(method, path, body, headers), timeout)
        except socket.timeout:
            counts["hangs"] += 1
            bad.append(("rest hang", method, path[:80]))
            return
        except OSError as e:
            counts["dropped"] += 1
            bad.append(("rest dropped", method, path[:80], repr(e)[:120]))
            return
        counts[f"{status // 100}xx"] += 1
        if status >= 500:
            bad.append(("rest", status, method, path[:80], payload[:200]))

    rest_case()


def _fuzz_grpc(n, port, timeout, seed, opts, counts, bad):
    """gRPC cases: TF Serving's PredictRequests and KServe v2's ModelInferRequests."""
    import grpc
    from hypothesis import given, settings
    from hypothesis import seed as hseed
    from tensorflow_serving.apis import prediction_service_pb2_grpc
    from tritonclient.grpc import service_pb2_grpc

    from tests.serving import fuzz_cases

    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    v2_stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)

    @hseed(seed)
    @settings(opts, max_examples=n)
    @given(request=fuzz_cases.predict_requests() | fuzz_cases.infer_requests())
    def grpc_case(request):
        counts["tried"] += 1
        call = stub.Predict if request.DESCRIPTOR.name == "PredictRequest" else v2_stub.ModelInfer
        try:
            call(request, timeout=timeout)
            counts["OK"] += 1
        except grpc.RpcError as e:
            code = e.code().name
            if code == "DEADLINE_EXCEEDED":
                counts["hangs"] += 1
            counts["4xx" if code in fuzz_cases.CLIENT_CODES else "5xx"] += 1
            if code not in fuzz_cases.CLIENT_CODES:
                bad.append(("grpc", code, e.details()[:200]))

    grpc_case()
    channel.close()


def _status_latencies(port, seconds):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out, end = [], time.time() + seconds
    while time.time() < end:
        t0 = time.perf_counter()
        conn.request("GET", "/v1/models/toy")
        resp = conn.getresponse()
        resp.read()
        out.append((time.perf_counter() - t0) * 1000)
        assert resp.status == 200, resp.status
        time.sleep(0.005)
    conn.close()
    return np.array(out)


def stall_probe(port, seconds):
    """(status latencies alone, status latencies under hostile load, hostile statuses)."""
    from tests.serving import fuzz_cases

    alone = _status_latencies(port, seconds)
    depth = 500_000  # 1 MB of brackets
    hostile = (b'{"instances": ' + b"[" * depth + b"1" + b"]" * depth + b"}")
    request = fuzz_cases.http_request("POST", "/v1/models/toy:predict", hostile)
    stop, statuses = threading.Event(), collections.Counter()

    def flood():
        while not stop.is_set():
            try:
                statuses[fuzz_cases.raw_http(port, request, timeout=30)[0]] += 1
            except OSError as e:
                statuses[type(e).__name__] += 1

    def slowloris():
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"POST /v1/models/toy:predict HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 100000\r\n\r\n")
            while not stop.is_set():
                sock.sendall(b"[")
                time.sleep(0.05)

    threads = [threading.Thread(target=flood), threading.Thread(target=slowloris)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    try:
        loaded = _status_latencies(port, seconds)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    return alone, loaded, statuses


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=10000)
    p.add_argument("--timeout", type=float, default=30.0, help="Seconds before a hang.")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--probe_seconds", type=float, default=5.0)
    args = p.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="bench-fuzz-")
    proc, grpc_port, rest_port = start_server(tmp)
    try:
        rest_n = int(args.requests * 0.7)
        t0 = time.time()
        counts, bad = fuzz(rest_n, args.requests - rest_n, rest_port, grpc_port, args.timeout,
                           args.seed)
        print(f"fuzzed {args.requests} requests in {time.time() - t0:.0f} s (seed {args.seed})")
        print(f"{'proto':>5} {'tried':>6} {'2xx':>6} {'4xx':>6} {'5xx':>5} {'hangs':>5} "
              f"{'dropped':>7}")
        for proto, c in counts.items():
            ok = c["2xx"] if proto == "rest" else c["OK"]
            print(f"{proto:>5} {c['tried']:>6} {ok:>6} {c['4xx']:>6} {c['5xx']:>5} "
                  f"{c['hangs']:>5} {c['dropped']:>7}")
        for item in bad[:10]:
            print("  unintended:", item)
        if bad:
            print(f"  server log: {os.path.join(tmp, 'server.log')}")
        from serving.client import RestClient

        out = RestClient(port=rest_port).predict(
            "toy", {"image": np.zeros([1, 28, 28, 1], np.uint8)}, version=1)
        print("afterwards: correct answer" if abs(float(out["brightness"][0])) < 1e-6
              else f"afterwards: WRONG answer {out}")
        alone, loaded, statuses = stall_probe(rest_port, args.probe_seconds)
        pct = lambda a: (f"p50 {np.percentile(a, 50):6.1f} ms  p99 {np.percentile(a, 99):6.1f} ms"
                         f"  max {a.max():6.1f} ms  (n={len(a)})")
        print("stall probe, model-status GET:")
        print(f"  alone:                                   {pct(alone)}")
        print(f"  with 1 MB nested bodies + a slowloris:   {pct(loaded)}")
        print(f"  hostile requests answered: {dict(statuses)}")
        unintended = sum(c["5xx"] + c["hangs"] + c["dropped"] for c in counts.values())
        print(f"unintended 5xx + hangs + dropped: {unintended}")
        return 0 if unintended == 0 else 1
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    sys.exit(main())
