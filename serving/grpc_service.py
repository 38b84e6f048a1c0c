"""gRPC servicers: `tensorflow.serving.PredictionService` and `ModelService`.

Built on the servicer base classes of `tensorflow-serving-api`, so the official stubs talk to
them unchanged. Errors are aborted with the canonical gRPC code and TF Serving's message.
A thread-pool server on purpose: measured with bench/serving.py on 2 cores, the same servicers
on `grpc.aio` answered about half as many batch-1 Predict calls at concurrency 32 (its single
event-loop thread saturated), while each pool thread here waits for its batch without the GIL.

Example:
    >>> import grpc
    >>> from tensorflow_serving.apis import prediction_service_pb2_grpc
    >>> from serving.grpc_service import make_grpc_server
    >>> server, port = make_grpc_server(service=None, host="127.0.0.1", port=0)
    >>> port > 0
    True
    >>> _ = server.stop(None).wait()
"""

import concurrent.futures
import logging
import os
import time

import grpc
from tensorflow_serving.apis import (model_service_pb2_grpc, model_management_pb2,
                                     predict_pb2, prediction_service_pb2_grpc)

from serving.errors import error_from_exception
from serving.inference import fill_spec, spec_target
from serving.tensor_proto import fill_tensor_proto, tensor_proto_to_ndarray

log = logging.getLogger(__name__)

# TF Serving lifts gRPC's 4 MB default: images and big batches must fit.
_MAX_MESSAGE = 2**31 - 1


class _Base:
    def __init__(self, service, metrics=None):
        self.service, self.metrics = service, metrics

    def _run(self, api, model_name, context, fn):
        t0, info = time.perf_counter(), {}
        try:
            response = fn(info)
            code = "OK"
        except Exception as e:  # noqa: BLE001 - turned into a gRPC status, never a crash
            err = error_from_exception(e)
            if err.code == "INTERNAL":
                log.exception("Internal error in %s", api)
            code = err.code
            response = None
        if self.metrics is not None:
            self.metrics.request("grpc", api, model_name, info.get("version"),
                                 info.get("signature"), code, time.perf_counter() - t0)
        if response is None:
            context.abort(err.grpc_code, err.message)
        return response


class PredictionServicer(_Base, prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict, Classify, Regress, MultiInference and GetModelMetadata."""

    def Predict(self, request, context):  # noqa: N802 - gRPC method names
        def run(info):
            servable, sig_name, outputs = self.service.predict(
                spec_target(request.model_spec), request.model_spec.signature_name,
                lambda _dtypes: {k: tensor_proto_to_ndarray(v) for k, v in request.inputs.items()},
                list(request.output_filter), info)
            response = predict_pb2.PredictResponse()
            fill_spec(response.model_spec, servable, sig_name)
            for name, arr in outputs.items():
                fill_tensor_proto(response.outputs[name], arr)
            return response

        return self._run("predict", request.model_spec.name, context, run)

    def Classify(self, request, context):  # noqa: N802
        return self._run("classify", request.model_spec.name, context,
                         lambda info: self.service.classify(request, info))

    def Regress(self, request, context):  # noqa: N802
        return self._run("regress", request.model_spec.name, context,
                         lambda info: self.service.regress(request, info))

    def MultiInference(self, request, context):  # noqa: N802
        name = request.tasks[0].model_spec.name if request.tasks else ""
        return self._run("multi_inference", name, context,
                         lambda info: self.service.multi_inference(request, info))

    def GetModelMetadata(self, request, context):  # noqa: N802
        return self._run("metadata", request.model_spec.name, context,
                         lambda info: self.service.metadata(request, info))


class ModelServicer(_Base, model_service_pb2_grpc.ModelServiceServicer):
    """GetModelStatus and HandleReloadConfigRequest."""

    shared_config = ""  # set by make_grpc_server under --num_workers

    def GetModelStatus(self, request, context):  # noqa: N802
        return self._run("status", request.model_spec.name, context,
                         lambda info: self.service.status(request, info))

    def HandleReloadConfigRequest(self, request, context):  # noqa: N802
        def run(info):
            self.service.manager.apply_config(request.config)  # blocks until loaded, as TF Serving
            if self.shared_config and request.config.WhichOneof("config"):
                # Several workers (--num_workers): the others read it from the shared file.
                from google.protobuf import text_format

                tmp = f"{self.shared_config}.{os.getpid()}.tmp"
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(text_format.MessageToString(request.config))
                os.replace(tmp, self.shared_config)
            response = model_management_pb2.ReloadConfigResponse()
            response.status.error_code = 0
            return response

        return self._run("reload_config", "", context, run)


def make_grpc_server(service, host="127.0.0.1", port=0, metrics=None, max_workers=64,
                     reuse_port=False, shared_config=""):
    """Returns (started grpc.Server, bound port). `reuse_port`: share the port with other
    processes (SO_REUSEPORT); off by default so that a busy port is an error, not a silent share."""
    server = grpc.server(
        concurrent.futures.ThreadPoolExecutor(max_workers=max_workers,
                                              thread_name_prefix="grpc"),
        options=[("grpc.max_receive_message_length", _MAX_MESSAGE),
                 ("grpc.max_send_message_length", _MAX_MESSAGE),
                 ("grpc.so_reuseport", int(reuse_port))])
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionServicer(service, metrics), server)
    model_servicer = ModelServicer(service, metrics)
    model_servicer.shared_config = shared_config
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(model_servicer, server)
    if service is not None:  # the Open Inference Protocol (KServe v2) on the same port
        from tritonclient.grpc import service_pb2_grpc

        from serving.kserve import KServeService
        from serving.kserve_grpc import GRPCInferenceServicer

        service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(
            GRPCInferenceServicer(KServeService(service), metrics), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"Could not bind gRPC server to {host}:{port}")
    server.start()
    return server, bound
