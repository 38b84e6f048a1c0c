"""The Open Inference Protocol (KServe v2) operations over our models, for its REST and gRPC
front ends (serving/kserve_v2/rest_api.py, serving/kserve_v2/grpc_servicer.py).

A model is served through its `serving_default` signature (or the request parameter
`signature_name`): the signature's inputs and outputs are the model's tensors, so every
per-task output keeps its name. Versions are strings in this protocol ("" = the latest).
Inference takes the same steps as TF Serving's Predict (serving/core/servable.py).

Example:
    >>> from serving.kserve_v2.service import parse_version
    >>> parse_version(""), parse_version("3")
    (None, 3)
"""

from serving.core.servable import DEFAULT_SIGNATURE, filter_outputs
from serving.errors import ServingError, invalid_argument
from serving.kserve_v2.tensors import DATATYPE_OF_ENUM
from serving.transport.fast_lane import await_future

SERVER_NAME = "mtl-zoo"
SERVER_VERSION = "1.0"
PLATFORM = "tensorflow_savedmodel"


def parse_version(text):
    if not text:
        return None
    digits = text.lstrip("0") or "0"
    if not text.isascii() or not text.isdigit() or len(digits) > 19 or int(digits) > 2**63 - 1:
        raise invalid_argument(f"Invalid model version: {text[:40]}")
    return int(digits)


def _tensor_metadata(infos):
    out = []
    for name in sorted(infos):
        info = infos[name]
        shape = [] if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim]
        out.append({"name": name, "datatype": DATATYPE_OF_ENUM.get(info.dtype, "BYTES"),
                    "shape": shape})
    return out


class KServeService:
    """v2 operations on an InferenceService.

    Args:
        service: serving.core.inference.InferenceService.
    """

    def __init__(self, service):
        self.service = service
        self.manager = service.manager

    def server_metadata(self):
        return {"name": SERVER_NAME, "version": SERVER_VERSION, "extensions": ["binary_tensor_data"]}

    def server_ready(self):
        return self.manager.ready()

    def model_ready(self, name, version):
        try:
            self.manager.resolve(name, parse_version(version))
        except ServingError:  # unknown model or version, or no version loaded yet
            return False
        return True

    def model_metadata(self, name, version, signature_name=""):
        servable = self.manager.resolve(name, parse_version(version))
        _, sig = servable.signature(signature_name or DEFAULT_SIGNATURE)
        versions = [str(v) for v, state, _ in self.manager.version_states(name) if state == 30]
        return {"name": name, "versions": versions, "platform": PLATFORM,
                "inputs": _tensor_metadata(sig.inputs), "outputs": _tensor_metadata(sig.outputs)}

    def _signature(self, name, version, output_names, signature_name, info):
        """(servable, signature name) of an infer request: the first steps of a Predict."""
        if len(set(output_names)) != len(output_names):
            raise invalid_argument("An output is requested twice")
        servable = self.manager.resolve(name, parse_version(version), None, info)
        sig_name, _ = servable.predict_signature(signature_name, output_names, info)
        return servable, sig_name

    async def infer(self, name, version, inputs, output_names=(), signature_name="", info=None):
        """Runs the model on {input name: ndarray}; returns (servable, {output: ndarray})."""
        output_names = list(output_names)
        servable, sig_name = self._signature(name, version, output_names, signature_name, info)
        future = servable.start(sig_name, inputs, self.service.model_executor)
        outputs = await await_future(future, self.service.timeout_s)
        return servable, filter_outputs(outputs, output_names)

    def infer_blocking(self, name, version, inputs, output_names=(), signature_name="",
                       info=None):
        """`infer` waited for in this thread (the gRPC server's threads)."""
        output_names = list(output_names)
        servable, sig_name = self._signature(name, version, output_names, signature_name, info)
        return servable, servable.predict(sig_name, inputs, output_names, self.service.timeout_s)
