"""Serving throughput and latency: in-process vs our server (REST, gRPC; batching on/off).

    python bench/serving.py            # ~2-3 minutes
    python bench/serving.py --quick    # ~30-40 s

Measures examples/s and p50/p99 latency of batch-1 requests at concurrency 1, 8 and 32
against a small CNN SavedModel (serving.testing.write_cnn_saved_model, or --model_base_path),
and the same SavedModel called in-process at the server's max batch size. The server runs as
a `serve.py` subprocess (so it does not share the GIL with the load generator, which does
share the machine's cores). "Naive" is the server with batching off: one model call per
request. Load goes to 127.0.0.1 only. The last lines are the target ratios at concurrency 32.
"""

import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from serving.client import GrpcClient, RestClient  # noqa: E402

MAX_BATCH = 32


def in_process(path, seconds):
    import tensorflow as tf

    fn = tf.saved_model.load(path).signatures["serving_default"]
    x = tf.constant(np.random.randint(0, 255, [MAX_BATCH, 28, 28, 1], np.uint8))
    for _ in range(5):
        {k: v.numpy() for k, v in fn(image=x).items()}
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        {k: v.numpy() for k, v in fn(image=x).items()}
        n += 1
    return n * MAX_BATCH / (time.perf_counter() - t0)


def start_server(base, batching, tmp):
    args = [sys.executable, os.path.join(ROOT, "serve.py"), "--port=0", "--rest_api_port=-1",
            "--model_name=cnn", f"--model_base_path={base}", "--file_system_poll_wait_seconds=0"]
    if batching:
        cfg = os.path.join(tmp, "batching.config")
        with open(cfg, "w") as f:
            f.write(f"max_batch_size {{ value: {MAX_BATCH} }}\nbatch_timeout_micros {{ value: 1000 }}\n"
                    "num_batch_threads { value: 2 }\nmax_enqueued_batches { value: 1000 }\n")
        args += ["--enable_batching", f"--batching_parameters_file={cfg}"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if select.select([proc.stdout], [], [], 1)[0]:
            line = proc.stdout.readline()
            if line.startswith("SERVING"):
                fields = dict(kv.split("=") for kv in line.split()[1:])
                return proc, int(fields["grpc_port"]), int(fields["rest_port"])
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("serve.py did not start")


def load(protocol, port, concurrency, seconds):
    image = {"image": np.random.randint(0, 255, [1, 28, 28, 1], np.uint8)}
    latencies, errors, stop = [], [], threading.Event()
    grpc_client = GrpcClient(port=port) if protocol == "grpc" else None

    def worker():
        client = grpc_client or RestClient(port=port)
        mine = []
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                client.predict("cnn", image)
            except Exception as e:  # noqa: BLE001 - counted, reported
                errors.append(repr(e))
                continue
            mine.append(time.perf_counter() - t0)
        latencies.extend(mine)

    # Warm up connections and the server's code paths.
    (grpc_client or RestClient(port=port)).predict("cnn", image)
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if grpc_client:
        grpc_client.close()
    lat = np.array(latencies) * 1000
    return {"eps": len(lat) / elapsed, "p50": float(np.percentile(lat, 50)) if len(lat) else 0,
            "p99": float(np.percentile(lat, 99)) if len(lat) else 0, "errors": len(errors)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="~30-40 s instead of ~2-3 minutes.")
    p.add_argument("--seconds", type=float, default=None, help="Duration of each load run.")
    p.add_argument("--model_base_path", default=None, help="Default: a fresh small CNN.")
    p.add_argument("--json", default=None, help="Also write the results here.")
    args = p.parse_args(argv)
    seconds = args.seconds or (1.5 if args.quick else 5.0)
    concurrencies = (1, 8, 32)

    tmp = tempfile.mkdtemp(prefix="bench-serving-")
    base = args.model_base_path
    if base is None:
        from serving.testing import write_cnn_saved_model

        base = os.path.join(tmp, "cnn")
        write_cnn_saved_model(base, 1)
    version = max(int(v) for v in os.listdir(base) if v.isdigit())
    inproc = in_process(os.path.join(base, str(version)), min(seconds, 3))
    print(f"in-process, batch {MAX_BATCH}: {inproc:9.0f} examples/s", flush=True)

    results = {}
    print(f"{'server':>14} {'proto':>5} {'conc':>4} {'ex/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'err':>4}")
    for batching in (True, False):
        proc, grpc_port, rest_port = start_server(base, batching, tmp)
        try:
            for protocol, port in (("rest", rest_port), ("grpc", grpc_port)):
                for c in concurrencies:
                    r = load(protocol, port, c, seconds)
                    results[(batching, protocol, c)] = r
                    name = "batching" if batching else "naive"
                    print(f"{name:>14} {protocol:>5} {c:>4} {r['eps']:8.0f} {r['p50']:7.2f} "
                          f"{r['p99']:7.2f} {r['errors']:>4}", flush=True)
        finally:
            proc.terminate()
            proc.wait(30)

    c = max(concurrencies)
    ratios = {
        "rest_vs_inprocess": results[(True, "rest", c)]["eps"] / inproc,
        "grpc_vs_inprocess": results[(True, "grpc", c)]["eps"] / inproc,
        "rest_vs_naive": results[(True, "rest", c)]["eps"] / max(results[(False, "rest", c)]["eps"], 1e-9),
        "grpc_vs_naive": results[(True, "grpc", c)]["eps"] / max(results[(False, "grpc", c)]["eps"], 1e-9),
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"in_process_eps": inproc, "ratios": ratios,
                       "runs": [{"batching": b, "protocol": pr, "concurrency": cc, **r}
                                for (b, pr, cc), r in results.items()]}, f, indent=2)
    print(f"ratios at concurrency {c} (targets: REST >= 0.5, gRPC >= 0.6 of in-process; >= 3x naive):")
    print(f"  REST  / in-process: {ratios['rest_vs_inprocess']:.2f}")
    print(f"  gRPC  / in-process: {ratios['grpc_vs_inprocess']:.2f}")
    print(f"  REST batching / naive: {ratios['rest_vs_naive']:.2f}x")
    print(f"  gRPC batching / naive: {ratios['grpc_vs_naive']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
