#!/usr/bin/env python
"""Soak: a `serve.py` subprocess under batch-1 Predict load for minutes; errors and memory.

    python bench/soak.py --minutes 5              # REST and gRPC, concurrency 32
    python bench/soak.py --minutes 1 --protocol rest

Serves the benchmark CNN (serving.testing.write_cnn_saved_model) with batching on, and drives
it at --concurrency from load-generator processes (the asyncio workers of bench/serving.py),
in slices of --slice_seconds, alternating REST and gRPC. Prints, per slice, requests, errors
and the server's resident memory (RSS), then the totals and the RSS at start and end.
"""

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from bench import serving as bench_serving  # noqa: E402 - its server start and load generator


def rss_mb(pid):
    """Resident memory of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--protocol", choices=["both", "rest", "grpc"], default="both")
    p.add_argument("--slice_seconds", type=float, default=15.0)
    p.add_argument("--load_procs", type=int, default=2)
    args = p.parse_args(argv)

    from serving.testing import write_cnn_saved_model

    tmp = tempfile.mkdtemp(prefix="bench-soak-")
    base = os.path.join(tmp, "cnn")
    write_cnn_saved_model(base, 1)
    image = np.random.RandomState(0).randint(0, 255, [1, 28, 28, 1]).astype(np.uint8)
    loads = bench_serving.protocol_loads(image, tmp)
    proc, grpc_port, rest_port = bench_serving.start_server(base, True, tmp)
    protocols = ["rest", "grpc"] if args.protocol == "both" else [args.protocol]
    try:
        for proto, port in (("rest", rest_port), ("grpc", grpc_port)):
            if proto in protocols:
                bench_serving.check_answer(proto, port, image, _expected(base, image))
        start_rss = rss_mb(proc.pid)
        print(f"server RSS at start (after one answer each): {start_rss:.0f} MB", flush=True)
        print(f"{'slice':>5} {'proto':>5} {'requests':>9} {'errors':>6} {'ex/s':>7} "
              f"{'p99 ms':>7} {'RSS MB':>7}")
        totals = {"requests": 0, "errors": 0}
        end, i = time.time() + args.minutes * 60, 0
        while time.time() < end:
            proto = protocols[i % len(protocols)]
            seconds = max(1.0, min(args.slice_seconds, end - time.time()))
            port = rest_port if proto == "rest" else grpc_port
            path, payload = loads[proto][:2]
            r = bench_serving.python_load(proto, port, payload, path, args.concurrency, seconds,
                                          args.load_procs)
            n = int(round(r["eps"] * seconds))
            totals["requests"] += n
            totals["errors"] += r["errors"]
            i += 1
            print(f"{i:>5} {proto:>5} {n:>9} {r['errors']:>6} {r['eps']:7.0f} {r['p99']:7.1f} "
                  f"{rss_mb(proc.pid):7.0f}", flush=True)
        end_rss = rss_mb(proc.pid)
        print(f"total: {totals['requests']} requests, {totals['errors']} errors in "
              f"{args.minutes:g} min at concurrency {args.concurrency}")
        print(f"server RSS: start {start_rss:.0f} MB, end {end_rss:.0f} MB "
              f"({(end_rss / start_rss - 1) * 100:+.1f}%)")
        return 0 if totals["errors"] == 0 else 1
    finally:
        proc.terminate()
        proc.wait(30)


def _expected(base, image):
    import tensorflow as tf

    fn = tf.saved_model.load(os.path.join(base, "1")).signatures["serving_default"]
    return {k: v.numpy() for k, v in fn(image=tf.constant(image)).items()}


if __name__ == "__main__":
    sys.exit(main())
