"""TF Serving's gRPC services: `tensorflow.serving.PredictionService` and `ModelService`.

Built on the servicer base classes of `tensorflow-serving-api`, so the official stubs talk to
them unchanged. Errors are aborted with the canonical gRPC code and TF Serving's message (see
serving/transport/grpc_server.py, which runs them).

Example:
    >>> from serving.grpc_v1.servicers import servicers
    >>> [type(s).__name__ for _, s in servicers(service=None)]
    ['PredictionServicer', 'ModelServicer']
"""

import os

from tensorflow_serving.apis import (model_management_pb2, model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from serving.core.inference import fill_spec, spec_target
from serving.core.tensor_proto import fill_tensor_proto, tensor_proto_to_ndarray
from serving.transport.grpc_server import RpcServicer


class PredictionServicer(RpcServicer, prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict, Classify, Regress, MultiInference and GetModelMetadata on an InferenceService."""

    def Predict(self, request, context):  # noqa: N802 - gRPC method names
        def run(info):
            spec, output_filter = request.model_spec, list(request.output_filter)
            servable = self.service.manager.resolve(*spec_target(spec), info=info)
            sig_name, _ = servable.predict_signature(spec.signature_name, output_filter, info)
            inputs = {k: tensor_proto_to_ndarray(v) for k, v in request.inputs.items()}
            outputs = servable.predict(sig_name, inputs, output_filter, self.service.timeout_s)
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


class ModelServicer(RpcServicer, model_service_pb2_grpc.ModelServiceServicer):
    """GetModelStatus and HandleReloadConfigRequest.

    Args:
        service: serving.core.inference.InferenceService.
        metrics: optional serving.core.metrics.Metrics.
        shared_config: str. Under --num_workers, the models config file every worker follows:
            a reload is written there too.
    """

    def __init__(self, service, metrics=None, shared_config=""):
        super().__init__(service, metrics)
        self.shared_config = shared_config

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


def servicers(service, metrics=None, shared_config=""):
    """[(add_*_to_server, servicer)] of TF Serving's services on `service` (an
    InferenceService), for serving.transport.grpc_server.make_grpc_server."""
    return [(prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server,
             PredictionServicer(service, metrics)),
            (model_service_pb2_grpc.add_ModelServiceServicer_to_server,
             ModelServicer(service, metrics, shared_config))]
