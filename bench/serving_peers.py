"""Our server against the Python model servers a user would otherwise pick, side by side.

    python bench/serving_peers.py --setup      # once: creates .bench-venv/ (about 2 GB, 1-2 min)
    python bench/serving_peers.py              # closed loop at c=32, then the open-loop curves
    python bench/serving_peers.py --quick --no_curve

Serves one SavedModel (the benchmark CNN of bench/serving.py, or --model_base_path) with
- ours: `serve.py` with batching as bench/serving.py runs it (max batch 32, 2 ms timeout, one
  batch thread, one TensorFlow thread per op), REST v1, metrics off;
- KServe's Python ModelServer 0.21 (FastAPI/uvicorn; bench/peers/kserve_server.py), one model
  call per request (it has no batcher);
- LitServe (bench/peers/litserve_server.py) with its dynamic batching (max batch 32, 1 ms);
all three at once, each on its own port, and sends every one the same request (one 28x28 image,
`{"instances": [...]}`, the body TF Serving's and KServe's v1 APIs share) from the same load
generator: wrk at concurrency 32, in alternating rounds (ours, KServe, LitServe, ours, ...), so
the ratios come from one run on one machine state. Printed for each: requests/s, p50/p99, the
server's CPU per request (its processes and their children, from /proc) and ours / each peer.
Then, unless --no_curve, an open-loop latency-vs-throughput curve (bench/open_loop.py: fixed
request rates, latency counted from when each request was due) for each server, printed and
plotted into --out (a PNG).

The peers are benchmark-only: they live in .bench-venv/ (bench/requirements-peers.txt, pinned;
git-ignored), never in .venv. Without it this script says how to create it and exits 2.
"""

import argparse
import importlib.util
import json
import os
import signal
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
sys.path.insert(0, ROOT)
sys.path.append(BENCH)  # after ROOT: `serving` stays the package, not bench/serving.py
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import open_loop  # noqa: E402

PEER_VENV = os.path.join(ROOT, ".bench-venv")
PEER_REQUIREMENTS = os.path.join(BENCH, "requirements-peers.txt")
SERVERS = ("ours", "kserve", "litserve")
MAX_BATCH = 32


def _bench_serving():
    """bench/serving.py as a module (its in-process rate, wrk driver and CPU readers)."""
    spec = importlib.util.spec_from_file_location("bench_serving", os.path.join(BENCH, "serving.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_serving"] = module
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- the peers' venv

def pinned_requirements():
    """{name: version} of bench/requirements-peers.txt."""
    pins = {}
    with open(PEER_REQUIREMENTS) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                name, version = line.split("==")
                pins[name.strip().lower()] = version.strip()
    return pins


def check_peer_venv():
    """None when .bench-venv holds every pinned version, else what is wrong."""
    python = os.path.join(PEER_VENV, "bin", "python")
    if not os.path.exists(python):
        return f"{PEER_VENV} does not exist"
    pins = pinned_requirements()
    code = ("import importlib.metadata as m, json, sys; names = json.loads(sys.argv[1]); "
            "print(json.dumps({n: m.version(n) for n in names}))")
    out = subprocess.run([python, "-c", code, json.dumps(sorted(pins))], capture_output=True,
                         text=True)
    if out.returncode:
        return f"{PEER_VENV} lacks a package: {out.stderr.strip().splitlines()[-1]}"
    found = json.loads(out.stdout)
    wrong = {n: found[n] for n in pins if found[n] != pins[n]}
    return f"{PEER_VENV} has {wrong}, bench/requirements-peers.txt pins {pins}" if wrong else None


def setup_peer_venv():
    if not os.path.exists(os.path.join(PEER_VENV, "bin", "python")):
        subprocess.run([sys.executable, "-m", "venv", PEER_VENV], check=True)
    subprocess.run([os.path.join(PEER_VENV, "bin", "pip"), "install", "--disable-pip-version-check",
                    "-r", PEER_REQUIREMENTS], check=True)
    return check_peer_venv()


# --------------------------------------------------------------------------- the servers

def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(port, path, proc, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"a server exited with {proc.returncode} before answering "
                               f"(its output: servers.log in the bench's temporary folder)")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"no answer on port {port}{path} within {timeout} s")


def start_servers(base, version_dir, tmp, log):
    """{name: (Popen, port, predict path)} of the three servers, started and answering."""
    bs = sys.modules["bench_serving"]
    peer_python = os.path.join(PEER_VENV, "bin", "python")
    servers = {}
    proc, _, rest_port = bs.start_server(
        base, True, tmp, ["--num_workers=1", f"--tensorflow_intra_op_parallelism={bs.INTRA_OP}"],
        metrics=False)
    servers["ours"] = (proc, rest_port, "/v1/models/cnn:predict")
    port = _free_port()
    proc = subprocess.Popen([peer_python, os.path.join(BENCH, "peers", "kserve_server.py"),
                             f"--model_dir={version_dir}", f"--http_port={port}"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    _wait_http(port, "/v1/models/cnn", proc)
    servers["kserve"] = (proc, port, "/v1/models/cnn:predict")
    port = _free_port()
    proc = subprocess.Popen([peer_python, os.path.join(BENCH, "peers", "litserve_server.py"),
                             f"--model_dir={version_dir}", f"--port={port}",
                             f"--max_batch_size={MAX_BATCH}"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    _wait_http(port, "/health", proc)
    servers["litserve"] = (proc, port, "/predict")
    return servers


def check_answers(servers, body, expected):
    """Every server's answer to `body` carries the in-process digit probabilities."""
    for name, (_, port, path) in servers.items():
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            got = json.loads(r.read())["predictions"][0]
        if not np.allclose(got["digit"], expected["digit"][0], atol=1e-5):
            raise RuntimeError(f"{name}: answer differs from the in-process one: {got}")


def stop_servers(servers):
    """Stops each server and, for the peers, the worker processes they spawned (LitServe's
    outlived their parent): each peer leads its own process group."""
    for proc, _, _ in servers.values():
        proc.terminate()
    for proc, _, _ in servers.values():
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    for name, (proc, _, _) in servers.items():
        if name != "ours":
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass  # the group is gone already


# --------------------------------------------------------------------------- measurements

def closed_loop(servers, body_file, script_file, seconds, rounds, concurrency):
    """{name: [wrk result + "cpu_ms" per request, one per round]}, servers alternating."""
    bs = sys.modules["bench_serving"]
    results = {name: [] for name in servers}
    for r in range(rounds):
        for name, (proc, port, path) in servers.items():
            cpu0, t0 = bs.tree_cpu_seconds(proc.pid), time.perf_counter()
            res = bs.wrk_load(port, body_file, script_file, path, concurrency, seconds)
            cpu1, t1 = bs.tree_cpu_seconds(proc.pid), time.perf_counter()
            res["server_cpu"] = (cpu1 - cpu0) / (t1 - t0)
            res["cpu_ms"] = res["server_cpu"] / max(res["eps"], 1e-9) * 1000
            res["load1"] = os.getloadavg()[0]
            results[name].append(res)
            print(f"  round {r + 1} {name:>9}: {res['eps']:7.0f} req/s  p50 {res['p50']:7.2f}  "
                  f"p99 {res['p99']:7.2f} ms  server CPU {res['cpu_ms']:.3f} ms/req  "
                  f"err {res['errors']}  load {res['load1']:.2f}", flush=True)
    return results


def summary(results, inproc):
    """Median over rounds per server, printed as a table with the ratios to ours."""
    med = {n: {k: float(np.median([r[k] for r in rs])) for k in ("eps", "p50", "p99", "cpu_ms")}
           for n, rs in results.items()}
    print(f"\nmedians of {len(next(iter(results.values())))} rounds, c=32, batch-1 REST requests "
          f"(in-process at batch {MAX_BATCH}: {inproc:.0f} examples/s):")
    print(f"{'server':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} "
          f"{'/ in-process':>13} {'ours / it':>10}")
    for name, m in med.items():
        print(f"{name:>9} {m['eps']:8.0f} {m['p50']:8.2f} {m['p99']:8.2f} {m['cpu_ms']:11.3f} "
              f"{m['eps'] / inproc:13.2f} {med['ours']['eps'] / max(m['eps'], 1e-9):9.2f}x")
    best = max((n for n in med if n != "ours"), key=lambda n: med[n]["eps"])
    ratio = med["ours"]["eps"] / max(med[best]["eps"], 1e-9)
    print(f"ours / best Python peer ({best}): {ratio:.2f}x (target >= 6x)")
    return med, ratio


def curves(servers, body_file, rates, seconds, stop_ms):
    """{name: [open_loop.run result per rate]}; a server's series stops once its p99 passes
    `stop_ms` (it is saturated: higher rates only queue more)."""
    with open(body_file, "rb") as f:
        body = f.read()
    out = {}
    for name, (_, port, path) in servers.items():
        out[name] = []
        # Warm-up, not counted: every batch size the model will see gets its first call (its
        # kernels are prepared per shape) and the connections their first request.
        open_loop.run(port, path, body, rates[len(rates) // 2], 1.0)
        for rate in rates:
            res = open_loop.run(port, path, body, rate, seconds)
            out[name].append(res)
            print(f"  {name:>9} {rate:7.0f}/s offered: {res['achieved']:7.0f}/s answered  "
                  f"p50 {res['p50']:8.2f}  p99 {res['p99']:8.2f}  p99.9 {res['p999']:8.2f} ms  "
                  f"timeouts {res['timeouts']}  load {os.getloadavg()[0]:.2f}", flush=True)
            if res["p99"] > stop_ms:
                break
    return out


def plot(curve, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, points in curve.items():
        ok = [p for p in points if p["p99"] != float("inf")]
        ax.plot([p["achieved"] for p in ok], [p["p99"] for p in ok], "o-", label=f"{name} p99")
        ax.plot([p["achieved"] for p in ok], [p["p50"] for p in ok], "x--", alpha=0.6,
                label=f"{name} p50")
    ax.set_xlabel("answered requests/s (open loop, fixed offered rates)")
    ax.set_ylabel("latency from the due time, ms (log)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--setup", action="store_true", help="Create .bench-venv/ and exit.")
    p.add_argument("--quick", action="store_true", help="2 rounds of 3 s, a shorter curve.")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--seconds", type=float, default=None, help="Duration of each wrk run.")
    p.add_argument("--no_curve", action="store_true", help="Skip the open-loop curves.")
    p.add_argument("--rates", default="100,200,400,600,800,1200,1600,2000,2500,3000,3500,4000",
                   help="Open-loop request rates (requests/s).")
    p.add_argument("--curve_seconds", type=float, default=None)
    p.add_argument("--model_base_path", default=None, help="Default: the benchmark CNN.")
    p.add_argument("--out", default=os.path.join(ROOT, "results", "serving_peers"),
                   help="Where the PNG and JSON go.")
    return p


def _preflight():
    """A config error line when the peers' venv or wrk is missing, else None."""
    problem = check_peer_venv()
    if problem:
        return (f"config error: peers: {problem}; create it with `python bench/serving_peers.py "
                f"--setup` (installs {PEER_REQUIREMENTS} into {PEER_VENV})")
    if shutil.which("wrk") is None:
        return "config error: wrk: not installed; valid: `apt-get install -y wrk`"
    return None


def _workload(bs, model_base_path, tmp):
    """(base, version folder, in-process examples/s, expected outputs, body, body file, wrk
    script file) for one 28x28 image."""
    base = model_base_path
    if base is None:
        from serving.testing import write_cnn_saved_model

        base = os.path.join(tmp, "cnn")
        write_cnn_saved_model(base, 1)
    version_dir = os.path.join(base, str(max(int(v) for v in os.listdir(base) if v.isdigit())))
    image = np.random.RandomState(0).randint(0, 255, [1, 28, 28, 1]).astype(np.uint8)
    inproc, expected = bs.in_process(version_dir, 3, image)
    body = json.dumps({"instances": image.tolist()}).encode()
    body_file, script_file = os.path.join(tmp, "body.json"), os.path.join(tmp, "post.lua")
    with open(body_file, "wb") as f:
        f.write(body)
    with open(script_file, "w") as f:
        f.write(bs._WRK_SCRIPT)
    return base, version_dir, inproc, expected, body, body_file, script_file


def _write(out, doc, curve):
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(doc, f, indent=1, default=float)
    if curve:
        png = os.path.join(out, "latency_vs_throughput.png")
        plot(curve, png, f"REST, batch-1 requests, {os.cpu_count()} CPUs (bench/serving_peers.py)")
        print(f"plot: {png}")


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.setup:
        problem = setup_peer_venv()
        print(problem or f"{PEER_VENV} ready: {pinned_requirements()}")
        return 2 if problem else 0
    problem = _preflight()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    rounds = args.rounds or (2 if args.quick else 3)
    seconds = args.seconds or (3.0 if args.quick else 5.0)
    curve_seconds = args.curve_seconds or (2.0 if args.quick else 4.0)
    bs = _bench_serving()
    tmp = tempfile.mkdtemp(prefix="bench-peers-")
    base, version_dir, inproc, expected, body, body_file, script_file = _workload(
        bs, args.model_base_path, tmp)
    os.makedirs(args.out, exist_ok=True)
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; wrk -t1 -c32, "
          f"{rounds} rounds of {seconds:g} s, servers alternating", flush=True)
    # The peers log every request: their output goes to a scratch file, not to --out.
    with open(os.path.join(tmp, "servers.log"), "w") as log:
        servers = start_servers(base, version_dir, tmp, log)
        try:
            check_answers(servers, body, expected)
            results = closed_loop(servers, body_file, script_file, seconds, rounds, 32)
            med, ratio = summary(results, inproc)
            curve = None
            if not args.no_curve:
                print("\nopen loop (bench/open_loop.py), latency from each request's due time:")
                curve = curves(servers, body_file, [float(r) for r in args.rates.split(",")],
                               curve_seconds, stop_ms=2000)
        finally:
            stop_servers(servers)
    _write(args.out, {"in_process_eps": inproc, "closed_loop": results, "medians": med,
                      "ours_over_best_peer": ratio, "curve": curve,
                      "load_average": os.getloadavg()}, curve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
