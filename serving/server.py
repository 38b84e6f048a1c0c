"""`ModelServer`: flags in, a running gRPC + REST server out. `serve.py` is a thin wrapper.

Example (in-process, as the tests do):
    >>> import tempfile
    >>> from serving.flags import parse_flags
    >>> from serving.server import ModelServer
    >>> from serving.testing import write_toy_saved_model
    >>> base = tempfile.mkdtemp(); _ = write_toy_saved_model(base, 1)
    >>> server = ModelServer(parse_flags(["--port=0", "--rest_api_port=-1", "--model_name=toy",
    ...                                   f"--model_base_path={base}"])).start()
    >>> server.grpc_port > 0 and server.rest_port > 0
    True
    >>> server.stop()
"""

import logging

import tensorflow as tf

from serving import protos
from serving.core.batching import BatchOptions
from serving.core.inference import InferenceService
from serving.core.metrics import Metrics
from serving.core.model_manager import ModelManager
from serving.grpc_v1 import servicers as grpc_v1
from serving.kserve_v2 import grpc_servicer as kserve_grpc
from serving.kserve_v2.rest_api import KServeRestApi
from serving.kserve_v2.service import KServeService
from serving.rest_v1.api import RestApi
from serving.transport.grpc_server import make_grpc_server
from serving.transport.http_server import HttpServer

log = logging.getLogger(__name__)


def single_model_config(name, base_path):
    config = protos.ModelServerConfig()
    config.model_config_list.config.add(name=name, base_path=base_path,
                                             model_platform="tensorflow")
    return config


class ModelServer:
    """A TF-Serving-compatible server built from `serving.flags` values.

    Args:
        flags: argparse.Namespace from serving.flags.parse_flags.
    """

    def __init__(self, flags):
        self.flags = flags
        self.manager = self._grpc = self._rest = self._service = None
        self.grpc_port = self.rest_port = None
        self.metrics = None

    def _model_config(self):
        f = self.flags
        if f.model_config_file:
            return protos.parse_model_server_config(protos.read_text(f.model_config_file))
        if not f.model_base_path:
            raise ValueError("Either --model_config_file or --model_base_path must be set")
        return single_model_config(f.model_name, f.model_base_path)

    def start(self):
        f = self.flags
        if f.tensorflow_intra_op_parallelism:
            tf.config.threading.set_intra_op_parallelism_threads(f.tensorflow_intra_op_parallelism)
        if f.tensorflow_inter_op_parallelism:
            tf.config.threading.set_inter_op_parallelism_threads(f.tensorflow_inter_op_parallelism)
        metrics_path = None
        if f.monitoring_config_file:
            mon = protos.parse_monitoring_config(protos.read_text(f.monitoring_config_file))
            if mon.prometheus_config.enable:
                self.metrics = Metrics()
                metrics_path = mon.prometheus_config.path or protos.DEFAULT_PROMETHEUS_PATH
        batch_options = None
        if f.enable_batching:
            params = protos.BatchingParameters()
            if f.batching_parameters_file:
                params = protos.parse_batching_parameters(protos.read_text(f.batching_parameters_file))
            batch_options = BatchOptions.from_proto(params)
        self.manager = ModelManager(batch_options, f.enable_model_warmup, self.metrics,
                                    f.max_num_load_retries, f.load_retry_interval_micros / 1e6,
                                    f.max_examples_per_request)
        config = self._model_config()
        self.manager.apply_config(config)
        if f.model_config_file:
            self.manager.start_config_polling(f.model_config_file,
                                              f.model_config_file_poll_wait_seconds,
                                              protos.parse_model_server_config)
        self.manager.start_polling(f.file_system_poll_wait_seconds)
        timeout = f.rest_api_timeout_in_ms / 1000 if f.rest_api_timeout_in_ms > 0 else None
        self._service = service = InferenceService(self.manager, timeout)
        kserve = KServeService(service)  # the Open Inference Protocol on both ports
        servicers = (grpc_v1.servicers(service, self.metrics, f.worker_shared_config)
                     + kserve_grpc.servicers(kserve, self.metrics))
        self._grpc, self.grpc_port = make_grpc_server(servicers, f.grpc_host, f.port,
                                                      f.grpc_max_threads, f.reuse_port)
        log.info("Running gRPC ModelServer at %s:%d ...", f.grpc_host, self.grpc_port)
        if f.rest_api_port != 0:
            api = RestApi(service, self.metrics, metrics_path, KServeRestApi(kserve, self.metrics))
            self._rest = HttpServer(api, f.rest_api_host, max(f.rest_api_port, 0),
                                    f.rest_api_max_body_bytes, reuse_port=f.reuse_port)
            self.rest_port = self._rest.port
            log.info("Exporting HTTP/REST API at:%s:%d ...", f.rest_api_host, self.rest_port)
        return self

    def stop(self):
        if self._rest is not None:
            self._rest.stop()
        if self._grpc is not None:
            self._grpc.stop(grace=2).wait()
        if self.manager is not None:
            self.manager.stop()
        if self._service is not None:
            self._service.close()
