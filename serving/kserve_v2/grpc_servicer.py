"""The Open Inference Protocol's gRPC service (`inference.GRPCInferenceService`, KServe v2) on
the same port as TF Serving's services: ServerLive, ServerReady, ModelReady, ServerMetadata,
ModelMetadata and ModelInfer (inputs as `contents` or `raw_input_contents`; outputs answered
as `raw_output_contents`, as Triton does). The other Triton RPCs answer UNIMPLEMENTED.

The message and servicer classes are the ones tritonclient ships (Triton's proto is a
superset of KServe's, same package and names), so the reference client talks to it unchanged.

Example:
    >>> from serving.kserve_v2.grpc_servicer import GRPCInferenceServicer, servicers
    >>> GRPCInferenceServicer.__mro__[2].__name__
    'GRPCInferenceServiceServicer'
    >>> [type(s).__name__ for _, s in servicers(kserve=None)]
    ['GRPCInferenceServicer']
"""

from tritonclient.grpc import service_pb2, service_pb2_grpc

from serving.errors import invalid_argument
from serving.kserve_v2 import tensors
from serving.transport.grpc_server import RpcServicer


def _inputs(request):
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise invalid_argument(f"{len(raw)} raw_input_contents for {len(request.inputs)} inputs")
    inputs = {}
    for i, tensor in enumerate(request.inputs):
        if tensor.name in inputs:
            raise invalid_argument(f"Input '{tensor.name}' is given twice")
        inputs[tensor.name] = (tensors.from_bytes(raw[i], tensor.datatype,
                                                  list(tensor.shape), tensor.name)
                               if raw else tensors.from_contents(tensor, tensor.name))
    if not inputs:
        raise invalid_argument("An infer request needs at least one input")
    return inputs


class GRPCInferenceServicer(RpcServicer, service_pb2_grpc.GRPCInferenceServiceServicer):
    """v2 RPCs on a serving.kserve_v2.service.KServeService (`service`)."""

    def ServerLive(self, request, context):  # noqa: N802 - gRPC method names
        return service_pb2.ServerLiveResponse(live=True)

    def ServerReady(self, request, context):  # noqa: N802
        return service_pb2.ServerReadyResponse(ready=self.service.server_ready())

    def ModelReady(self, request, context):  # noqa: N802
        return service_pb2.ModelReadyResponse(
            ready=self.service.model_ready(request.name, request.version))

    def ServerMetadata(self, request, context):  # noqa: N802
        return service_pb2.ServerMetadataResponse(**self.service.server_metadata())

    def ModelMetadata(self, request, context):  # noqa: N802
        def run(info):
            doc = self.service.model_metadata(request.name, request.version)
            response = service_pb2.ModelMetadataResponse(
                name=doc["name"], versions=doc["versions"], platform=doc["platform"])
            for key in ("inputs", "outputs"):
                for t in doc[key]:
                    getattr(response, key).add(**t)
            return response

        return self._run("v2_metadata", request.name, context, run)

    def ModelInfer(self, request, context):  # noqa: N802
        def run(info):
            sig = request.parameters["signature_name"].string_param \
                if "signature_name" in request.parameters else ""
            wanted = [o.name for o in request.outputs]
            servable, outputs = self.service.infer_blocking(
                request.model_name, request.model_version, _inputs(request), wanted, sig, info)
            response = service_pb2.ModelInferResponse(
                model_name=request.model_name, model_version=str(servable.version), id=request.id)
            for name in wanted or sorted(outputs):
                arr = outputs[name]
                response.outputs.add(name=name, datatype=tensors.datatype_of(arr),
                                     shape=list(arr.shape))
                response.raw_output_contents.append(tensors.to_bytes(arr))
            return response

        return self._run("v2_infer", request.model_name, context, run)


def servicers(kserve, metrics=None):
    """[(add_*_to_server, servicer)] of the v2 service on `kserve` (a KServeService), for
    serving.transport.grpc_server.make_grpc_server."""
    return [(service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server,
             GRPCInferenceServicer(kserve, metrics))]
