"""Serving throughput and latency: in-process vs our server (REST, gRPC; batching on/off).

    python bench/serving.py            # ~6 minutes
    python bench/serving.py --quick    # ~2.5 minutes
    python bench/serving.py --quick --protocols rest,grpc

Measures examples/s and p50/p99 latency of batch-1 requests at concurrency 1, 8 and 32, over
TF Serving's REST and gRPC APIs (v1) and the Open Inference Protocol's (KServe v2: JSON tensors
over REST, raw_input_contents over gRPC),
against a small CNN SavedModel (serving.testing.write_cnn_saved_model, or --model_base_path),
and the same SavedModel called in-process at the server's max batch size. The server runs as
a `serve.py` subprocess; the load comes from other processes (wrk for REST when installed,
else asyncio worker processes; gRPC from asyncio worker processes), which share the machine's
cores with it: the "srv cpu" and "gen cpu" columns say how many cores each used, "ms/req" the
server's CPU time per request (srv cpu / requests per second). "Naive" is the same server with
batching off: one model call per request. Load goes to 127.0.0.1 only, bounded in time. The
last lines are the target ratios and CPU per request at concurrency 32, and the 1-minute load
average of the machine (other jobs on the cores move every figure: compare within one run).
bench/serving_peers.py puts the Python model servers (KServe, LitServe) beside ours."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.append(os.path.join(ROOT, "bench"))  # after ROOT: `serving` stays the package

import open_loop  # noqa: E402
from serving.client import GrpcClient, RestClient  # noqa: E402
from serving.workers import read_serving_line  # noqa: E402

MAX_BATCH = 32


def in_process(path, seconds, image):
    """examples/s of the signature called in-process at MAX_BATCH, and its answer for `image`."""
    import tensorflow as tf

    fn = tf.saved_model.load(path).signatures["serving_default"]
    expected = {k: v.numpy() for k, v in fn(image=tf.constant(image)).items()}
    x = tf.constant(np.random.randint(0, 255, [MAX_BATCH, 28, 28, 1], np.uint8))
    for _ in range(5):
        {k: v.numpy() for k, v in fn(image=x).items()}
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        {k: v.numpy() for k, v in fn(image=x).items()}
        n += 1
    return n * MAX_BATCH / (time.perf_counter() - t0), expected


# Each protocol the bench drives: (path or gRPC method, payload, body file, wrk script file).
PROTOCOLS = ("rest", "grpc", "rest_v2", "grpc_v2")


def protocol_loads(image, tmp):
    """{protocol: (path or gRPC method, payload bytes, body file, wrk script)} for one image:
    TF Serving's API (v1) and the Open Inference Protocol (v2), JSON for REST."""
    from tensorflow_serving.apis import predict_pb2
    from tritonclient.grpc import service_pb2

    from serving.core.tensor_proto import ndarray_to_tensor_proto

    script_file = os.path.join(tmp, "post.lua")
    with open(script_file, "w") as f:
        f.write(_WRK_SCRIPT)
    out = {}
    bodies = {
        "rest": ("/v1/models/cnn:predict", {"signature_name": "serving_default",
                                             "inputs": {"image": image.tolist()}}),
        "rest_v2": ("/v2/models/cnn/infer", {"inputs": [{
            "name": "image", "shape": list(image.shape), "datatype": "UINT8",
            "data": image.reshape(-1).tolist()}]}),
    }
    for proto, (path, doc) in bodies.items():
        body = json.dumps(doc).encode()
        body_file = os.path.join(tmp, f"{proto}.json")
        with open(body_file, "wb") as f:
            f.write(body)
        out[proto] = (path, body, body_file, script_file)
    req = predict_pb2.PredictRequest()
    req.model_spec.name = "cnn"
    req.model_spec.signature_name = "serving_default"
    req.inputs["image"].CopyFrom(ndarray_to_tensor_proto(image))
    out["grpc"] = ("/tensorflow.serving.PredictionService/Predict", req.SerializeToString(),
                   None, None)
    infer = service_pb2.ModelInferRequest(model_name="cnn")
    infer.inputs.add(name="image", datatype="UINT8", shape=list(image.shape))
    infer.raw_input_contents.append(image.tobytes())
    out["grpc_v2"] = ("/inference.GRPCInferenceService/ModelInfer", infer.SerializeToString(),
                      None, None)
    return out


# The batching server's parameters (issue 24, measured side by side on 2 cores with
# /proc CPU per request at c=32: 1000 us and 2 threads 0.51-0.52 ms per REST request; 2000 us, one
# thread and one TensorFlow thread per op 0.39-0.40 ms; an op's own threads cost more CPU than they
# save at these batch sizes). `--batch_timeout_micros`, `--num_batch_threads`, `--intra_op` change them.
BATCH_TIMEOUT_MICROS = 2000
NUM_BATCH_THREADS = 1
INTRA_OP = 1


def start_server(base, batching, tmp, extra_flags=(), metrics=True,
                 timeout_micros=BATCH_TIMEOUT_MICROS, batch_threads=NUM_BATCH_THREADS):
    args = [sys.executable, os.path.join(ROOT, "serve.py"), "--port=0", "--rest_api_port=-1",
            "--model_name=cnn", f"--model_base_path={base}", "--file_system_poll_wait_seconds=0"]
    if batching:
        cfg = os.path.join(tmp, "batching.config")
        with open(cfg, "w") as f:
            f.write(f"max_batch_size {{ value: {MAX_BATCH} }}\n"
                    f"batch_timeout_micros {{ value: {timeout_micros} }}\n"
                    f"num_batch_threads {{ value: {batch_threads} }}\n"
                    "max_enqueued_batches { value: 1000 }\n")
        args += ["--enable_batching", f"--batching_parameters_file={cfg}"]
    if metrics:  # on for both servers (same cost), so the batch-size histogram can be read
        mon = os.path.join(tmp, "monitoring.config")
        with open(mon, "w") as f:
            f.write('prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }\n')
        args += [f"--monitoring_config_file={mon}"]
    args += list(extra_flags)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    fields = read_serving_line(proc, 120)
    if fields is not None:
        return proc, int(fields["grpc_port"]), int(fields["rest_port"])
    proc.kill()
    raise RuntimeError("serve.py did not start")


# --------------------------------------------------------------------------- load generation
# The load comes from separate processes (never threads beside the server, never the bench's own
# GIL): `wrk` (C) for REST when it is installed, else asyncio worker processes sending the same
# pre-built HTTP request; gRPC from asyncio worker processes on grpc.aio sending a pre-serialized
# PredictRequest (bytes in, bytes out: no protobuf work in the load generator). The answers are
# checked in full once per run (`check_answer`); under load every status is checked.

def _split(total, parts):
    return [total // parts + (i < total % parts) for i in range(parts)]


async def _rest_worker(port, path, body, concurrency, start_at, seconds):
    import asyncio

    request = open_loop.request_bytes(port, path, body)

    async def one(reader, writer):
        return await open_loop.exchange(reader, writer, request)

    return await _drive(lambda: asyncio.open_connection("127.0.0.1", port), one, concurrency,
                        start_at, seconds)


async def _grpc_worker(port, request, concurrency, start_at, seconds, method):
    import grpc

    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    predict = channel.unary_unary(method)

    async def connect():
        return None, None

    async def one(reader, writer):
        try:
            await predict(request, timeout=60)
            return True
        except grpc.aio.AioRpcError:
            return False

    try:
        return await _drive(connect, one, concurrency, start_at, seconds)
    finally:
        await channel.close()


async def _drive(connect, one, concurrency, start_at, seconds):
    """`concurrency` loops of back-to-back requests; counts those finished inside the window."""
    import asyncio

    latencies, errors = [], [0]

    async def loop():
        reader, writer = await connect()
        await one(reader, writer)  # warm-up: connection, server code paths
        while start_at.value == 0:
            await asyncio.sleep(0.005)
        begin, end = start_at.value, start_at.value + seconds
        while True:
            t0 = time.time()
            if t0 >= end:
                break
            ok = await one(reader, writer)
            t1 = time.time()
            if t0 >= begin and t1 <= end:
                if ok:
                    latencies.append(t1 - t0)
                else:
                    errors[0] += 1
        if writer is not None:
            writer.close()

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return latencies, errors[0]


def _worker_main(protocol, port, payload, path, concurrency, start_at, seconds, queue):
    import asyncio

    try:
        if protocol.startswith("rest"):
            coro = _rest_worker(port, path, payload, concurrency, start_at, seconds)
        else:  # `path` is the gRPC method
            coro = _grpc_worker(port, payload, concurrency, start_at, seconds, path)
        queue.put(("ready", None))
        latencies, errors = asyncio.run(coro)
        queue.put(("done", (np.array(latencies, np.float64).tobytes(), errors)))
    except Exception as e:  # noqa: BLE001 - reported by the parent
        queue.put(("error", repr(e)))


def python_load(protocol, port, payload, path, concurrency, seconds, procs):
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # a clean interpreter: no TensorFlow threads, no shared GIL
    start_at, queue = ctx.Value("d", 0.0), ctx.Queue()
    parts = [n for n in _split(concurrency, min(procs, concurrency)) if n]
    workers = [ctx.Process(target=_worker_main, daemon=True,
                           args=(protocol, port, payload, path, n, start_at, seconds, queue))
               for n in parts]
    for w in workers:
        w.start()
    try:
        for _ in workers:
            kind, value = queue.get(timeout=120)
            if kind == "error":
                raise RuntimeError(f"load worker failed: {value}")
        time.sleep(1.0)  # connections up, warm-up requests answered
        start_at.value = time.time() + 0.1
        latencies, errors = [], 0
        for _ in workers:
            kind, value = queue.get(timeout=seconds + 120)
            if kind == "error":
                raise RuntimeError(f"load worker failed: {value}")
            latencies.append(np.frombuffer(value[0], np.float64))
            errors += value[1]
    finally:
        for w in workers:
            w.join(10)
            if w.is_alive():
                w.kill()
    lat = np.concatenate(latencies) * 1000
    return {"eps": len(lat) / seconds, "p50": float(np.percentile(lat, 50)) if len(lat) else 0,
            "p99": float(np.percentile(lat, 99)) if len(lat) else 0, "errors": errors}


_WRK_SCRIPT = """
local f = io.open(os.getenv("BENCH_BODY"), "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
"""


def _wrk_ms(text):
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3), ("m", 6e4)):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * scale
    return float(text)


def wrk_load(port, body_file, script_file, path, concurrency, seconds):
    import re

    env = dict(os.environ, BENCH_BODY=body_file)
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency",
           "-s", script_file, f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60).stdout
    eps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = dict(re.findall(r"^\s+(\d+)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"eps": eps, "p50": _wrk_ms(pct["50"]), "p99": _wrk_ms(pct["99"]), "errors": errors}


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def tree_cpu_seconds(pid):
    """cpu_seconds of a process and all its descendants (the workers under --num_workers, a
    peer server's worker processes)."""
    total = cpu_seconds(pid)
    if total is None:
        return None
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    todo = list(children.get(pid, ()))
    while todo:
        child = todo.pop()
        total += cpu_seconds(child) or 0.0
        todo += children.get(child, ())
    return total


def _children_cpu():
    """CPU seconds of the finished (waited-for) child processes: the load generators."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def batch_totals(rest_port):
    """(examples, model calls) so far, from the server's batch-size histogram."""
    import urllib.request

    with urllib.request.urlopen(
            f"http://127.0.0.1:{rest_port}/monitoring/prometheus/metrics", timeout=30) as r:
        text = r.read().decode()
    total = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        for key in total:
            if line.startswith(f":tensorflow:serving:batch_size_{key}{{"):
                total[key] += float(line.rsplit(" ", 1)[1])
    return total["sum"], total["count"]


def _triton_predict(protocol, port, image):
    import tritonclient.grpc as triton_grpc
    import tritonclient.http as triton_http

    module = triton_http if protocol == "rest_v2" else triton_grpc
    client = module.InferenceServerClient(f"127.0.0.1:{port}")
    try:
        inp = module.InferInput("image", list(image.shape), "UINT8")
        inp.set_data_from_numpy(image)
        result = client.infer("cnn", [inp])
        names = [o["name"] for o in (result.get_response()["outputs"] if protocol == "rest_v2"
                                     else client.get_model_metadata("cnn", as_json=True)["outputs"])]
        return {n: result.as_numpy(n) for n in names}
    finally:
        client.close()


def check_answer(protocol, port, image, expected):
    """One request through the real client (TF Serving's stubs, or tritonclient for v2); the
    answer must equal the in-process outputs."""
    if protocol.endswith("_v2"):
        got = _triton_predict(protocol, port, image)
    else:
        client = GrpcClient(port=port) if protocol == "grpc" else RestClient(port=port)
        try:
            got = client.predict("cnn", {"image": image})
        finally:
            client.close()
    if sorted(got) != sorted(expected):
        raise RuntimeError(f"{protocol}: outputs {sorted(got)} != {sorted(expected)}")
    for k, v in expected.items():
        if not np.allclose(np.asarray(got[k], np.float64), np.asarray(v, np.float64), atol=1e-5):
            raise RuntimeError(f"{protocol}: output {k} differs from the in-process answer")


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="~40-50 s instead of ~2-3 minutes.")
    p.add_argument("--seconds", type=float, default=None, help="Duration of each load run.")
    p.add_argument("--model_base_path", default=None, help="Default: a fresh small CNN.")
    p.add_argument("--json", default=None, help="Also write the results here.")
    p.add_argument("--load_procs", type=int, default=2,
                   help="Load-generator processes (Python generator; wrk uses one).")
    p.add_argument("--no_wrk", action="store_true",
                   help="REST load from the Python generator even when wrk is installed.")
    p.add_argument("--protocols", default=",".join(PROTOCOLS),
                   help=f"Comma-separated subset of {','.join(PROTOCOLS)}.")
    p.add_argument("--workers", default="1",
                   help="Comma-separated --num_workers values for the batching server, run side "
                        "by side (the first also for the naive server and the main ratios).")
    p.add_argument("--server_flag", action="append", default=[],
                   help="Extra serve.py flag for both servers (repeatable).")
    p.add_argument("--batch_timeout_micros", type=int, default=BATCH_TIMEOUT_MICROS)
    p.add_argument("--num_batch_threads", type=int, default=NUM_BATCH_THREADS)
    p.add_argument("--intra_op", type=int, default=INTRA_OP,
                   help="--tensorflow_intra_op_parallelism of both servers (0: TensorFlow's).")
    return p


class Plan:
    """What one benchmark run measures: the flags, the SavedModel and its in-process answer,
    the request of each protocol, and the servers to start."""

    concurrencies = (1, 8, 32)

    def __init__(self, args, seconds, tmp, base, image, expected, loads, protocols):
        self.args, self.seconds, self.tmp, self.base, self.image = args, seconds, tmp, base, image
        self.expected, self.loads, self.protocols = expected, loads, protocols
        self.use_wrk = shutil.which("wrk") is not None and not args.no_wrk
        self.worker_counts = [int(w) for w in args.workers.split(",")]


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    tmp = tempfile.mkdtemp(prefix="bench-serving-")
    base = args.model_base_path
    if base is None:
        from serving.testing import write_cnn_saved_model

        base = os.path.join(tmp, "cnn")
        write_cnn_saved_model(base, 1)
    version = max(int(v) for v in os.listdir(base) if v.isdigit())
    image = np.random.RandomState(0).randint(0, 255, [1, 28, 28, 1]).astype(np.uint8)
    inproc, expected = in_process(os.path.join(base, str(version)), min(seconds, 3), image)
    loads = protocol_loads(image, tmp)
    protocols = [x for x in args.protocols.split(",") if x]
    unknown = set(protocols) - set(PROTOCOLS)
    if unknown:
        p.error(f"unknown --protocols {sorted(unknown)}; known: {list(PROTOCOLS)}")
    plan = Plan(args, seconds, tmp, base, image, expected, loads, protocols)
    print(f"load generator: REST {'wrk (1 thread)' if plan.use_wrk else 'python'}, gRPC python "
          f"(grpc.aio); python generator: {args.load_procs} processes; {os.cpu_count()} CPUs; "
          f"{seconds:g} s per run; batching {args.batch_timeout_micros} us, {args.num_batch_threads} "
          f"thread(s), intra-op {args.intra_op or 'default'}", flush=True)
    print(f"in-process, batch {MAX_BATCH}: {inproc:9.0f} examples/s", flush=True)

    results = {}
    print(f"{'server':>14} {'proto':>7} {'conc':>4} {'ex/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'err':>4} {'srv cpu':>7} {'ms/req':>6} {'gen cpu':>7} {'batch':>6}")
    # (batching, workers) servers, side by side in this one run; naive with the first count.
    for batching, workers in [(True, w) for w in plan.worker_counts] + [
            (False, plan.worker_counts[0])]:
        measure_server(plan, batching, workers, results)
    ratios = ratios_of(plan, results, inproc)
    if args.json:
        write_json(args.json, plan, results, ratios, inproc)
    print_ratios(plan, results, ratios)
    return 0


def measure_server(plan, batching, workers, results):
    """Starts one server and measures every protocol at every concurrency on it, into
    `results` (keyed (batching, protocol, c), or ("w<workers>", protocol, c) for the workers
    counts after the first)."""
    args = plan.args
    flags = [*args.server_flag, f"--num_workers={workers}"]
    if args.intra_op:
        flags.append(f"--tensorflow_intra_op_parallelism={args.intra_op}")
    proc, grpc_port, rest_port = start_server(plan.base, batching, plan.tmp, flags,
                                              timeout_micros=args.batch_timeout_micros,
                                              batch_threads=args.num_batch_threads)
    try:
        for protocol in plan.protocols:
            port = rest_port if protocol.startswith("rest") else grpc_port
            check_answer(protocol, port, plan.image, plan.expected)
            for c in plan.concurrencies:
                r = measure_load(plan, proc, protocol, port, rest_port, c)
                key = (batching, protocol, c) if workers == plan.worker_counts[0] else (
                    f"w{workers}", protocol, c)
                results[key] = r
                name = ("batching" if batching else "naive") + (
                    f" w={workers}" if len(plan.worker_counts) > 1 else "")
                print_row(name, protocol, c, r)
    finally:
        proc.terminate()
        proc.wait(30)


def measure_load(plan, proc, protocol, port, rest_port, c):
    """One load run at concurrency `c`: its rate and latencies, with the CPU the server and
    the load generator used and the mean examples per model call."""
    path, payload, body_file, script_file = plan.loads[protocol]
    cpu0, t0 = tree_cpu_seconds(proc.pid), time.perf_counter()
    gen0 = _children_cpu()
    ex0, calls0 = batch_totals(rest_port)
    if protocol.startswith("rest") and plan.use_wrk:
        r = wrk_load(port, body_file, script_file, path, c, plan.seconds)
    else:
        r = python_load(protocol, port, payload, path, c, plan.seconds, plan.args.load_procs)
    cpu1, t1 = tree_cpu_seconds(proc.pid), time.perf_counter()
    # CPU cores busy over the whole call (incl. warm-up): server, load generator.
    r["server_cpu"] = (cpu1 - cpu0) / (t1 - t0) if cpu0 is not None else float("nan")
    r["load_cpu"] = (_children_cpu() - gen0) / (t1 - t0)
    r["cpu_ms"] = r["server_cpu"] / max(r["eps"], 1e-9) * 1000
    ex1, calls1 = batch_totals(rest_port)
    # Mean examples per model call (batching server; 1 for the naive one).
    r["mean_batch"] = (ex1 - ex0) / (calls1 - calls0) if calls1 > calls0 else float("nan")
    return r


def print_row(name, protocol, c, r):
    print(f"{name:>14} {protocol:>7} {c:>4} {r['eps']:8.0f} {r['p50']:7.2f} "
          f"{r['p99']:7.2f} {r['errors']:>4} {r['server_cpu']:7.2f} {r['cpu_ms']:6.3f} "
          f"{r['load_cpu']:7.2f} "
          + (f"{r['mean_batch']:6.1f}" if r["mean_batch"] == r["mean_batch"] else f"{'-':>6}"),
          flush=True)


def ratios_of(plan, results, inproc):
    """At the highest concurrency: each protocol's rate over the in-process rate and over the
    naive server's (and over the in-process rate for the other worker counts)."""
    c = max(plan.concurrencies)
    ratios = {}
    for protocol in plan.protocols:
        ratios[f"{protocol}_vs_inprocess"] = results[(True, protocol, c)]["eps"] / inproc
        ratios[f"{protocol}_vs_naive"] = results[(True, protocol, c)]["eps"] / max(
            results[(False, protocol, c)]["eps"], 1e-9)
    for w in plan.worker_counts[1:]:
        for protocol in plan.protocols:
            ratios[f"{protocol}_vs_inprocess_w{w}"] = results[(f"w{w}", protocol, c)]["eps"] / inproc
    return ratios


def write_json(path, plan, results, ratios, inproc):
    with open(path, "w") as f:
        json.dump({"in_process_eps": inproc, "ratios": ratios, "load_average": os.getloadavg(),
                   "load_generator": {"rest": "wrk" if plan.use_wrk else "python",
                                      "grpc": "python"},
                   "runs": [{"batching": b, "protocol": pr, "concurrency": cc, **r}
                            for (b, pr, cc), r in results.items()]}, f, indent=2)


def print_ratios(plan, results, ratios):
    c = max(plan.concurrencies)
    print(f"ratios at concurrency {c} (targets, issue 24: REST >= 0.35, gRPC >= 0.45 of in-process; "
          f">= 3x naive; server CPU per request REST <= 0.2 ms, gRPC <= 0.15 ms); load average "
          f"{os.getloadavg()[0]:.2f}:")
    label = {"rest": "REST v1 (TF Serving)", "grpc": "gRPC v1 (TF Serving)",
             "rest_v2": "REST v2 (KServe)", "grpc_v2": "gRPC v2 (KServe)"}
    for protocol in plan.protocols:
        print(f"  {label[protocol]:<21} / in-process: {ratios[protocol + '_vs_inprocess']:.2f}"
              f"   batching / naive: {ratios[protocol + '_vs_naive']:.2f}x"
              f"   CPU {results[(True, protocol, c)]['cpu_ms']:.3f} ms/req"
              + "".join(f"   {w} workers / in-process: "
                        f"{ratios[f'{protocol}_vs_inprocess_w{w}']:.2f}" for w in plan.worker_counts[1:]))


if __name__ == "__main__":
    sys.exit(main())
