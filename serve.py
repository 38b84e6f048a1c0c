"""Serve exported SavedModels over TF Serving's REST and gRPC APIs.

Same flag spelling as tensorflow_model_server (see serving/flags.py and README, Serving):

    python serve.py --port=8500 --rest_api_port=8501 \
        --model_name=multi_mnist --model_base_path=$PWD/exported/multi_mnist

    python serve.py --port=8500 --rest_api_port=8501 --model_config_file=docker/models.config \
        --model_config_file_poll_wait_seconds=30 --enable_batching \
        --batching_parameters_file=docker/batching.config \
        --monitoring_config_file=docker/monitoring.config

It listens on 127.0.0.1 unless --grpc_host / --rest_api_host say otherwise (0.0.0.0).
"""

import logging
import signal
import sys
import threading

from serving.flags import parse_flags
from serving.server import ModelServer


def main(argv=None):
    flags = parse_flags(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s] %(message)s")
    server = ModelServer(flags).start()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    # Machine-readable line for scripts and tests that start us with port 0.
    print(f"SERVING grpc_port={server.grpc_port} rest_port={server.rest_port or 0}", flush=True)
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
