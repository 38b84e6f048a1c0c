"""Which project files one REST predict passes through, traced inside a live `serve.py`.

    python bench/trace_request.py                      # batching off, then on (~1 min)
    python bench/trace_request.py --batching off --max_files 6
    python bench/trace_request.py --model_base_path exported/multi_mnist --model_name multi_mnist

It starts `serve.py` (a subprocess running this file with `--child`, which installs a
`sys.setprofile` / `threading.setprofile` hook in every thread of the server process and then
runs serve.py as `__main__`) on an exported SavedModel (default: the toy image model of
`serving.testing`, whose signatures are the ones our exporter writes), sends warm-up requests,
arms the hook (SIGUSR1), sends ONE `POST /v1/models/<name>:predict` with a 28x28 image in the
row format, disarms it (SIGUSR2) and prints:

- every project file (under the repository, outside .venv and this script) a Python function
  of which was entered while the request was served, in the order first entered;
- the calls from a core module into a transport or protocol module (core: `serving/core/`;
  transport: `serving/transport/`; protocol: the other packages of `serving/`; in the flat
  layout before issue 18, the files listed in `_FLAT_CORE` and `_FLAT_TRANSPORT`, the rest
  protocol, except the shared modules in `_SHARED`). Only direct calls count (the caller's frame
  is in the core file): a Future's done-callback runs from the standard library, not the core.

The model input is read from the metadata endpoint, so any single-image-input model works.
Exit code 1 when `--max_files` is given and a configuration passes through more files.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import http.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THIS = os.path.abspath(__file__)
SERVE_PY = os.path.join(ROOT, "serve.py")
# The core of the flat serving/ layout (before issue 18), for comparing layouts.
_FLAT_CORE = {"inference.py", "model_manager.py", "servable.py", "batching.py", "warmup.py",
              "metrics.py", "examples.py", "tensor_proto.py"}
_FLAT_TRANSPORT = {"http_server.py", "aio.py", "json_limits.py"}
# Shared modules: neither core nor protocol.
_SHARED = {"errors.py", "flags.py", "server.py", "workers.py", "client.py", "testing.py",
           "protos.py", "__init__.py"}


# --------------------------------------------------------------------------- in the server

def _is_project(path):
    return path.startswith(ROOT + os.sep) and path != THIS and \
        f"{os.sep}.venv{os.sep}" not in path and "site-packages" not in path


def _child(out_path, serve_argv):
    """Runs serve.py with a profile hook that records project files while armed."""
    state = {"armed": False, "files": {}, "edges": {}}
    lock = threading.Lock()

    def hook(frame, event, arg):
        if event != "call" or not state["armed"]:
            return
        path = frame.f_code.co_filename
        if not _is_project(path):
            return
        back = frame.f_back
        caller = back.f_code.co_filename if back is not None else ""
        with lock:
            state["files"].setdefault(path, len(state["files"]))
            if caller != path and _is_project(caller):
                edge = f"{caller} -> {path}"
                state["edges"][edge] = state["edges"].get(edge, 0) + 1

    def arm(*_):
        with lock:
            state["files"], state["edges"] = {}, {}
        state["armed"] = True
        with open(out_path + ".armed", "w") as f:
            f.write("1")

    def disarm(*_):
        state["armed"] = False
        with lock:
            files = sorted(state["files"], key=state["files"].get)
            doc = {"files": [os.path.relpath(p, ROOT) for p in files],
                   "edges": {" -> ".join(os.path.relpath(p, ROOT) for p in e.split(" -> ")): n
                             for e, n in state["edges"].items()}}
        tmp = out_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, out_path)

    signal.signal(signal.SIGUSR1, arm)
    signal.signal(signal.SIGUSR2, disarm)
    threading.setprofile(hook)
    sys.setprofile(hook)
    sys.argv = [SERVE_PY, *serve_argv]
    sys.path.insert(0, ROOT)
    import runpy

    runpy.run_path(SERVE_PY, run_name="__main__")


# --------------------------------------------------------------------------- the driver

_CONNECTIONS = {}


def _call(port, method, path, body=None):
    """One request on a kept-alive connection to `port`, as HTTP clients send them: the
    connection is opened by the warm-up requests, so the traced one is the request alone
    (urllib's `Connection: close` would also take the server's slow lane). GETs go on a
    connection of their own: the server hands a connection that sent one to aiohttp."""
    conn = _CONNECTIONS.get((port, method))
    if conn is None:
        conn = _CONNECTIONS[port, method] = http.client.HTTPConnection("127.0.0.1", port,
                                                                      timeout=120)
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def _image_body(port, model_name):
    """A row-format predict body with one image shaped as the model's single input."""
    import numpy as np

    _, meta = _call(port, "GET", f"/v1/models/{model_name}/metadata")
    inputs = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]
    if len(inputs) != 1:
        raise SystemExit(f"the model needs one input; it has {sorted(inputs)}")
    (info,) = inputs.values()
    shape = [int(d["size"]) for d in info["tensor_shape"]["dim"]][1:]
    image = np.random.RandomState(0).randint(0, 256, shape)
    return json.dumps({"instances": [image.tolist()]}).encode()


def _wait_for(path, timeout=60):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise SystemExit(f"the traced server did not answer the signal ({path})")
        time.sleep(0.02)


def _start_server(serve_argv, out_path):
    from serving.workers import read_serving_line  # here: the traced child never imports it
    proc = subprocess.Popen([sys.executable, THIS, "--child", out_path, "--", *serve_argv],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    fields = read_serving_line(proc, 600)
    if fields is not None:
        return proc, int(fields["rest_port"])
    proc.kill()
    raise SystemExit(f"serve.py did not start (exit code {proc.poll()})")


def trace(model_name, base_path, batching, tmp):
    """{"files": [...], "edges": {...}} of one traced REST predict."""
    out = os.path.join(tmp, f"trace-{batching}.json")
    argv = ["--port=0", "--rest_api_port=-1", f"--model_name={model_name}",
            f"--model_base_path={base_path}", "--file_system_poll_wait_seconds=0",
            f"--enable_batching={'true' if batching else 'false'}"]
    proc, port = _start_server(argv, out)
    try:
        body = _image_body(port, model_name)
        path = f"/v1/models/{model_name}:predict"
        for _ in range(3):  # lazy set-up (thread pools, caches) happens before the trace
            _call(port, "POST", path, body)
        proc.send_signal(signal.SIGUSR1)
        _wait_for(out + ".armed")
        status, answer = _call(port, "POST", path, body)
        time.sleep(0.3)  # let the server's threads finish their part (the batch worker's loop)
        proc.send_signal(signal.SIGUSR2)
        _wait_for(out)
        if status != 200 or "predictions" not in answer:
            raise SystemExit(f"the traced predict failed: {status} {answer}")
        with open(out) as f:
            return json.load(f)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def layer(path):
    """'core', 'transport', 'protocol' or 'shared' of a project file ('other' outside serving/)."""
    parts = path.split(os.sep)
    if parts[0] != "serving":
        return "other"
    if len(parts) > 2:
        return parts[1] if parts[1] in ("core", "transport") else "protocol"
    if parts[1] in _SHARED:
        return "shared"
    if parts[1] in _FLAT_CORE:
        return "core"
    return "transport" if parts[1] in _FLAT_TRANSPORT else "protocol"


def report(name, doc):
    files = doc["files"]
    print(f"\n{name}: one REST predict passed through {len(files)} project files")
    for i, f in enumerate(files, 1):
        print(f"  {i:2d}. {f}  [{layer(f)}]")
    back = {e: n for e, n in doc["edges"].items() if layer(e.split(" -> ")[0]) == "core"
            and layer(e.split(" -> ")[1]) in ("transport", "protocol")}
    print(f"  calls from the core into a transport or protocol module: {len(back)}")
    for e, n in sorted(back.items()):
        print(f"    {e} ({n}x)")
    return len(files)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--child"]:
        return _child(argv[1], argv[3:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_base_path", default="",
                   help="An exported model (folder of versions); default: the toy model.")
    p.add_argument("--model_name", default="toy")
    p.add_argument("--batching", choices=["off", "on", "both"], default="both")
    p.add_argument("--max_files", type=int, default=0,
                   help="Fail (exit 1) when a configuration passes through more files.")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory() as tmp:
        base = args.model_base_path
        if not base:
            sys.path.insert(0, ROOT)
            from serving.testing import write_toy_saved_model

            base = os.path.join(tmp, "toy")
            write_toy_saved_model(base, 1)
        counts = {}
        for batching in {"off": [False], "on": [True], "both": [False, True]}[args.batching]:
            doc = trace(args.model_name, os.path.abspath(base), batching, tmp)
            counts[batching] = report(f"batching {'on' if batching else 'off'}", doc)
    summary = ", ".join(f"{n} with batching {'on' if b else 'off'}" for b, n in counts.items())
    print(f"\nfiles: {summary}")
    if args.max_files and max(counts.values()) > args.max_files:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
