"""Serve exported SavedModels over TF Serving's REST and gRPC APIs.

Same flag spelling as tensorflow_model_server (see serving/flags.py and docs/guide/serving.md):

    python serve.py --port=8500 --rest_api_port=8501 \
        --model_name=multi_mnist --model_base_path=$PWD/exported/multi_mnist

    python serve.py --port=8500 --rest_api_port=8501 --model_config_file=docker/models.config \
        --model_config_file_poll_wait_seconds=30 --enable_batching \
        --batching_parameters_file=docker/batching.config \
        --monitoring_config_file=docker/monitoring.config

It listens on 127.0.0.1 unless --grpc_host / --rest_api_host say otherwise (0.0.0.0).
--num_workers=N runs N server processes on the same ports (serving/workers.py).
"""

import logging
import signal
import sys
import threading

from serving.flags import parse_flags
from serving.workers import Supervisor, worker_count


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    flags = parse_flags(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s] %(message)s")
    if worker_count(flags.num_workers) > 1:
        supervisor = Supervisor(flags, argv)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: supervisor.request_stop())
        supervisor.start()
        print(f"SERVING grpc_port={supervisor.grpc_port} rest_port={supervisor.rest_port or 0} "
              f"workers={supervisor.count}", flush=True)
        supervisor.serve_forever()
        supervisor.stop()
        return 0
    from serving.server import ModelServer  # imports TensorFlow: only in a serving process

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
