"""Command-line flags of `serve.py`, spelled as tensorflow_model_server spells them.

Booleans accept `--enable_batching`, `--enable_batching=true` and `--enable_batching=false`,
like the C++ flags library. Our additions: `--grpc_host` / `--rest_api_host` (default
127.0.0.1; pass 0.0.0.0 to listen on every interface, as the Docker image does).

Example:
    >>> from serving.flags import parse_flags
    >>> f = parse_flags(["--port=0", "--rest_api_port=8501", "--model_name=mnist",
    ...                  "--model_base_path=/models/mnist", "--enable_batching"])
    >>> f.rest_api_port, f.enable_batching, f.enable_model_warmup, f.grpc_host
    (8501, True, True, '127.0.0.1')
"""

import argparse


def _bool(text):
    value = str(text).strip().lower()
    if value in ("1", "true", "t", "yes", "y"):
        return True
    if value in ("0", "false", "f", "no", "n"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r}")


def _flag_bool(p, name, default, help_):
    p.add_argument(f"--{name}", type=_bool, nargs="?", const=True, default=default, help=help_)


def build_parser():
    p = argparse.ArgumentParser(
        prog="serve.py",
        description="TensorFlow-Serving-compatible model server (REST + gRPC) for SavedModels.")
    _add_server_flags(p)
    _add_model_flags(p)
    return p


def _add_server_flags(p):
    """Ports, hosts, request limits and processes."""
    p.add_argument("--port", type=int, default=8500, help="gRPC port (0 picks a free port).")
    p.add_argument("--grpc_host", default="127.0.0.1",
                   help="Address the gRPC server binds to; 0.0.0.0 for all interfaces.")
    p.add_argument("--rest_api_port", type=int, default=0,
                   help="REST port; 0 disables REST, like tensorflow_model_server. "
                        "Use --rest_api_port=-1 to pick a free port.")
    p.add_argument("--rest_api_host", default="127.0.0.1",
                   help="Address the REST server binds to; 0.0.0.0 for all interfaces.")
    p.add_argument("--rest_api_num_threads", type=int, default=0,
                   help="Accepted for compatibility; REST runs on one asyncio thread (blocking "
                        "calls other than Predict on a thread pool).")
    p.add_argument("--rest_api_timeout_in_ms", type=int, default=30000,
                   help="Timeout of a REST request waiting for the model, in ms.")
    p.add_argument("--rest_api_max_body_bytes", type=int, default=32 << 20,
                   help="Largest REST request body, after decompression (413 above it).")
    p.add_argument("--max_examples_per_request", type=int, default=4096,
                   help="Most examples one request may hold (0: no limit).")
    p.add_argument("--num_workers", type=int, default=0,
                   help="Server processes sharing the ports, each with its own model copy and "
                        "batcher; 0: half the CPUs (at least 1).")
    p.add_argument("--worker_shared_config", default="",
                   help=argparse.SUPPRESS)  # set by --num_workers: where a reload RPC writes
    _flag_bool(p, "reuse_port", False,
               "Bind both ports with SO_REUSEPORT, so several server processes share them "
               "(the kernel spreads connections); set by --num_workers.")
    p.add_argument("--grpc_max_threads", type=int, default=64,
                   help="Worker threads of the gRPC server.")


def _add_model_flags(p):
    """Which models, and how they are loaded, batched, warmed up and monitored."""
    p.add_argument("--model_name", default="default", help="Model name (without a config file).")
    p.add_argument("--model_base_path", default="",
                   help="Folder holding integer version sub-folders (without a config file).")
    p.add_argument("--model_config_file", default="",
                   help="Text ModelServerConfig; overrides --model_name/--model_base_path.")
    p.add_argument("--model_config_file_poll_wait_seconds", type=float, default=0,
                   help="Seconds between re-reads of --model_config_file; 0 reads it once.")
    p.add_argument("--file_system_poll_wait_seconds", type=float, default=1,
                   help="Seconds between scans of base paths for new versions; 0 scans once.")
    _flag_bool(p, "enable_batching", False, "Merge concurrent requests into one model call.")
    p.add_argument("--batching_parameters_file", default="",
                   help="Text BatchingParameters (implies nothing unless --enable_batching).")
    p.add_argument("--monitoring_config_file", default="",
                   help="Text MonitoringConfig enabling Prometheus metrics on the REST port.")
    _flag_bool(p, "enable_model_warmup", True,
               "Replay assets.extra/tf_serving_warmup_requests before a version is AVAILABLE.")
    p.add_argument("--max_num_load_retries", type=int, default=5,
                   help="Extra load attempts of a version before it is reported as failed.")
    p.add_argument("--load_retry_interval_micros", type=int, default=60_000_000,
                   help="Pause between load attempts, in microseconds.")
    p.add_argument("--tensorflow_intra_op_parallelism", type=int, default=0,
                   help="TensorFlow intra-op threads (0: TensorFlow's default).")
    p.add_argument("--tensorflow_inter_op_parallelism", type=int, default=0,
                   help="TensorFlow inter-op threads (0: TensorFlow's default).")


def parse_flags(argv=None):
    """Parses argv (a list of strings; None means sys.argv[1:])."""
    return build_parser().parse_args(argv)
