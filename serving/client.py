"""Client helpers: read a model's input spec from its metadata and call Predict, over REST or
gRPC (the official `tensorflow_serving.apis` stubs). Used by predict.py, the benchmark and tests.

Example (against a running server):
    >>> from serving.client import make_client                      # doctest: +SKIP
    >>> client = make_client("grpc", "127.0.0.1", 8500)              # doctest: +SKIP
    >>> spec = client.input_spec("multi_mnist")                      # doctest: +SKIP
    >>> spec                                                         # doctest: +SKIP
    {'image': ('uint8', [-1, 28, 28, 1])}
    >>> client.predict("multi_mnist", {"image": images})             # doctest: +SKIP
    {'digit': array(...), 'digit_class': array(...), ...}
"""

import base64
import http.client
import json

import numpy as np

_DT_NAMES = {"DT_FLOAT": "float32", "DT_DOUBLE": "float64", "DT_INT32": "int32",
             "DT_INT64": "int64", "DT_UINT8": "uint8", "DT_INT8": "int8", "DT_INT16": "int16",
             "DT_UINT16": "uint16", "DT_BOOL": "bool", "DT_STRING": "string", "DT_HALF": "float16"}


class ServerError(RuntimeError):
    """An error answered by the server: `code` is the HTTP status or gRPC code name."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def _spec_from_signature_json(sig):
    out = {}
    for name, info in sig.get("inputs", {}).items():
        shape = [int(d.get("size", -1)) for d in info.get("tensor_shape", {}).get("dim", [])]
        out[name] = (_DT_NAMES.get(info.get("dtype"), info.get("dtype")), shape)
    return out


def _jsonable(arr):
    arr = np.asarray(arr)
    if arr.dtype.kind in "OSU":
        enc = np.vectorize(lambda b: {"b64": base64.b64encode(
            b if isinstance(b, bytes) else str(b).encode()).decode()}, otypes=[object])
        return enc(arr).tolist()
    return arr.tolist()


class RestClient:
    """Keep-alive REST client (one connection; use one client per thread)."""

    def __init__(self, host="127.0.0.1", port=8501, timeout=60):
        self.host, self.port, self.timeout = host, port, timeout
        self._conn = None

    def request(self, method, path, body=None):
        """Returns the parsed JSON answer; raises ServerError for a non-200 status."""
        data = None if body is None else json.dumps(body).encode()
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request(method, path, body=data,
                                   headers={"Content-Type": "application/json"} if data else {})
                resp = self._conn.getresponse()
                payload = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
        result = json.loads(payload) if payload else {}
        if resp.status != 200:
            raise ServerError(resp.status, result.get("error", payload.decode(errors="replace")))
        return result

    @staticmethod
    def _path(model, version=None, label=None):
        path = f"/v1/models/{model}"
        if version is not None:
            path += f"/versions/{version}"
        elif label:
            path += f"/labels/{label}"
        return path

    def metadata(self, model, version=None, label=None):
        return self.request("GET", self._path(model, version, label) + "/metadata")

    def input_spec(self, model, signature="serving_default", version=None, label=None):
        """{input name: (dtype name, shape with -1 for any size)} of a signature."""
        sigs = self.metadata(model, version, label)["metadata"]["signature_def"]["signature_def"]
        return _spec_from_signature_json(sigs[signature])

    def predict(self, model, inputs, signature="serving_default", version=None, label=None):
        """Columnar predict; returns {output name: ndarray}."""
        body = {"signature_name": signature,
                "inputs": {k: _jsonable(v) for k, v in inputs.items()}}
        out = self.request("POST", self._path(model, version, label) + ":predict", body)["outputs"]
        return {k: np.asarray(v) for k, v in out.items()} if isinstance(out, dict) else {
            "output": np.asarray(out)}

    def close(self):
        if self._conn is not None:
            self._conn.close()


class GrpcClient:
    """gRPC client on the official PredictionService stub (thread-safe)."""

    def __init__(self, host="127.0.0.1", port=8500, timeout=60):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self.timeout = timeout
        self._channel = grpc.insecure_channel(
            f"{host}:{port}", options=[("grpc.max_receive_message_length", 2**31 - 1),
                                       ("grpc.max_send_message_length", 2**31 - 1)])
        self.stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)

    @staticmethod
    def _spec(spec, model, signature=None, version=None, label=None):
        spec.name = model
        if signature:
            spec.signature_name = signature
        if version is not None:
            spec.version.value = version
        elif label:
            spec.version_label = label

    def _call(self, method, request):
        import grpc

        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as e:
            raise ServerError(e.code().name, e.details()) from None

    def input_spec(self, model, signature="serving_default", version=None, label=None):
        from tensorflow_serving.apis import get_model_metadata_pb2
        from google.protobuf import json_format

        req = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(req.model_spec, model, None, version, label)
        resp = self._call(self.stub.GetModelMetadata, req)
        sig_map = get_model_metadata_pb2.SignatureDefMap()
        resp.metadata["signature_def"].Unpack(sig_map)
        sig = json_format.MessageToDict(sig_map.signature_def[signature],
                                        preserving_proto_field_name=True)
        return _spec_from_signature_json(sig)

    def predict(self, model, inputs, signature="serving_default", version=None, label=None,
                output_filter=()):
        from tensorflow_serving.apis import predict_pb2

        from serving.core.tensor_proto import ndarray_to_tensor_proto, tensor_proto_to_ndarray

        req = predict_pb2.PredictRequest(output_filter=list(output_filter))
        self._spec(req.model_spec, model, signature, version, label)
        for k, v in inputs.items():
            arr = np.asarray(v)
            if arr.dtype.kind == "U":
                arr = arr.astype(object)
            req.inputs[k].CopyFrom(ndarray_to_tensor_proto(arr))
        resp = self._call(self.stub.Predict, req)
        return {k: tensor_proto_to_ndarray(v) for k, v in resp.outputs.items()}

    def close(self):
        self._channel.close()


def make_client(protocol, host, port, timeout=60):
    """A RestClient or GrpcClient; `protocol` is "rest" or "grpc"."""
    if protocol == "rest":
        return RestClient(host, port, timeout)
    if protocol == "grpc":
        return GrpcClient(host, port, timeout)
    raise ValueError(f"Unknown protocol {protocol!r}; known: ['grpc', 'rest']")
