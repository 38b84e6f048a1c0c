"""`serve.py --num_workers=N`: N server processes sharing the gRPC and REST ports.

One Python process does the HTTP/gRPC work of all its requests under one GIL; N processes
bound to the same ports with SO_REUSEPORT let the kernel spread connections over N of them,
each with its own model copy, batcher and TensorFlow threads (CPUs / N each unless
--tensorflow_intra_op_parallelism says otherwise). This supervisor imports no TensorFlow: it
picks the ports, starts the workers (`serve.py --reuse_port ...`), restarts one that dies, and
stops them all on SIGTERM/SIGINT. What they must agree on:

- Models and versions: every worker applies the same deterministic rules to the same inputs. The
  supervisor owns the config: it writes the models config to a shared file (from
  --model_config_file, re-copied when that file changes, or from --model_name and
  --model_base_path) that every worker re-reads every 0.5 s; a HandleReloadConfigRequest answered
  by one worker is written there too, so the others follow within that interval. Each worker
  scans the base paths itself every --file_system_poll_wait_seconds. Status answers can
  therefore differ between workers for the time a load takes (about a second for small models).
- Metrics: prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR): whichever worker
  answers the metrics request sums every worker's counts.

Example:
    >>> from serving.workers import worker_count
    >>> worker_count(0, cpus=16), worker_count(0, cpus=2), worker_count(3, cpus=2)
    (8, 1, 3)
"""

import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

log = logging.getLogger(__name__)
SERVE_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "serve.py")
CONFIG_POLL_S = 0.5


def worker_count(requested, cpus=None):
    """--num_workers, with 0 meaning half the CPUs (at least one)."""
    cpus = cpus or os.cpu_count() or 1
    return requested if requested > 0 else max(1, cpus // 2)


def read_serving_line(proc, timeout_s):
    """The fields of the `SERVING grpc_port=... rest_port=...` line that `serve.py` prints
    once it serves ({"grpc_port": "8500", ...}), read from `proc.stdout` (a text pipe); None
    when `proc` ends or `timeout_s` seconds pass first. For whatever starts `serve.py`: this
    supervisor, the tests, the benchmarks."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if select.select([proc.stdout], [], [], 1)[0]:
            line = proc.stdout.readline()
            if line.startswith("SERVING"):
                return dict(kv.split("=") for kv in line.split()[1:])
            if not line and proc.poll() is not None:
                return None
    return None


def _reserve_port(host, port):
    """A socket bound (not listening) with SO_REUSEPORT on `port` (0: a free one), kept open
    so that no other program takes the port while the workers bind it too."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _single_model_config(name, base_path):
    return (f'model_config_list {{ config {{ name: "{name}" base_path: "{base_path}" '
            'model_platform: "tensorflow" } }\n')


def _write_atomically(path, text):
    tmp = f"{path}.supervisor.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


class Supervisor:
    """Runs the workers of one `serve.py` command line.

    Args:
        flags: argparse.Namespace from serving.flags.parse_flags.
        argv: list of str. The command line, passed on to every worker.
    """

    def __init__(self, flags, argv):
        self.flags, self.argv = flags, list(argv)
        self.count = worker_count(flags.num_workers)
        self.shared = tempfile.mkdtemp(prefix="mtl-zoo-serving-")
        self.config_path = os.path.join(self.shared, "models.config")
        self.metrics_dir = os.path.join(self.shared, "metrics")
        os.makedirs(self.metrics_dir)
        self._sockets, self._procs, self._stop = [], [], threading.Event()
        self.grpc_port = self.rest_port = None

    def _user_config(self):
        f = self.flags
        if f.model_config_file:
            with open(f.model_config_file, encoding="utf-8") as fh:
                return fh.read()
        if not f.model_base_path:
            raise ValueError("Either --model_config_file or --model_base_path must be set")
        return _single_model_config(f.model_name, f.model_base_path)

    def _worker_args(self):
        f = self.flags
        drop = ("--port", "--rest_api_port", "--model_config_file", "--num_workers",
                "--model_config_file_poll_wait_seconds", "--model_name", "--model_base_path",
                "--reuse_port", "--worker_shared_config")
        args = [a for a in self.argv if a.split("=", 1)[0] not in drop]
        args += [f"--port={self.grpc_port}", f"--rest_api_port={self.rest_port}",
                 f"--model_config_file={self.config_path}",
                 f"--model_config_file_poll_wait_seconds={CONFIG_POLL_S}",
                 f"--worker_shared_config={self.config_path}", "--reuse_port", "--num_workers=1"]
        if not f.tensorflow_intra_op_parallelism:
            args.append("--tensorflow_intra_op_parallelism="
                        f"{max(1, (os.cpu_count() or 1) // self.count)}")
        return args

    def _start_worker(self):
        env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=self.metrics_dir)
        proc = subprocess.Popen([sys.executable, SERVE_PY, *self._worker_args()], env=env,
                                stdout=subprocess.PIPE, text=True)
        if read_serving_line(proc, 300) is not None:
            return proc
        proc.kill()
        raise RuntimeError(f"a serving worker did not start (exit code {proc.poll()})")

    def start(self):
        f = self.flags
        _write_atomically(self.config_path, self._user_config())
        grpc_sock = _reserve_port(f.grpc_host, max(f.port, 0))
        self._sockets.append(grpc_sock)
        self.grpc_port = grpc_sock.getsockname()[1]
        if f.rest_api_port != 0:
            rest_sock = _reserve_port(f.rest_api_host, max(f.rest_api_port, 0))
            self._sockets.append(rest_sock)
            self.rest_port = rest_sock.getsockname()[1]
        else:
            self.rest_port = 0
        self._procs = [self._start_worker() for _ in range(self.count)]
        log.info("Started %d serving workers on gRPC %d, REST %d", self.count, self.grpc_port,
                 self.rest_port)
        return self

    def _watch_user_config(self):
        """Copies --model_config_file to the shared file when it changes (its poll interval)."""
        f = self.flags
        interval = f.model_config_file_poll_wait_seconds
        last = self._user_config()
        while not self._stop.wait(max(interval, 0.1)):
            try:
                text = self._user_config()
            except OSError:
                log.exception("Could not read %s", f.model_config_file)
                continue
            if text.strip() and text != last:  # empty: a write in progress
                _write_atomically(self.config_path, text)
                last = text

    def serve_forever(self):
        """Restarts dead workers until stop(); returns after the workers ended."""
        if self.flags.model_config_file and self.flags.model_config_file_poll_wait_seconds > 0:
            threading.Thread(target=self._watch_user_config, daemon=True).start()
        while not self._stop.wait(1.0):
            for i, proc in enumerate(self._procs):
                if proc.poll() is not None:
                    log.error("Serving worker %d exited with %s; restarting it", proc.pid,
                              proc.returncode)
                    try:
                        self._procs[i] = self._start_worker()
                    except RuntimeError:
                        log.exception("Restarting a serving worker failed")

    def request_stop(self):
        """Makes serve_forever return (safe in a signal handler)."""
        self._stop.set()

    def stop(self):
        """Stops every worker (SIGTERM, then SIGKILL after 30 s) and frees the ports."""
        self._stop.set()
        for proc in self._procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self._procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for sock in self._sockets:
            sock.close()
        shutil.rmtree(self.shared, ignore_errors=True)
