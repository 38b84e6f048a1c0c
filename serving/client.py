"""Clients of our server (and of TF Serving): read a model's metadata, call Predict over REST or
gRPC (the official `tensorflow_serving.apis` stubs), and read the answer task by task. Used by
predict.py, the benchmark and tests.

What a model serves is read from its metadata alone (GetModelMetadata, or
`GET /v1/models/<name>/metadata`), never guessed from the arrays: the inputs from the
signature, and the tasks from the `tasks` signature our exporter writes (models/export.py): one
output `<task>.<kind>.<output>` for each output of `serving_default` a task serves. A model
without it (an older export, another exporter) is read output by output.

Example (against a running server):
    >>> from serving.client import make_client, run_predict, format_rows   # doctest: +SKIP
    >>> client = make_client("grpc", "127.0.0.1", 8500)              # doctest: +SKIP
    >>> client.describe("multi_mnist").inputs                         # doctest: +SKIP
    {'image': ('uint8', [-1, 28, 28, 1])}
    >>> print(format_rows(run_predict(client, "multi_mnist", {"image": images})))  # doctest: +SKIP
    example 0: left=7 (p=0.98) | right=2 (p=0.91) | same_digit=0.012

Reading the `tasks` signature (the JSON form of a SignatureDefMap, as the REST metadata has it):
    >>> from serving.client import tasks_from_signatures
    >>> sigs = {"tasks": {"outputs": {"digit.multiclass.digit": {}, "is_even.binary.is_even": {},
    ...                               "digit.multiclass.digit_class": {}}}}
    >>> [(t.name, t.kind, t.outputs) for t in tasks_from_signatures(sigs)]
    [('digit', 'multiclass', ('digit', 'digit_class')), ('is_even', 'binary', ('is_even',))]
"""

import base64
import dataclasses
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


TASKS_SIGNATURE = "tasks"


def _spec_from_signature_json(sig):
    out = {}
    for name, info in sig.get("inputs", {}).items():
        shape = [int(d.get("size", -1)) for d in info.get("tensor_shape", {}).get("dim", [])]
        out[name] = (_DT_NAMES.get(info.get("dtype"), info.get("dtype")), shape)
    return out


@dataclasses.dataclass(frozen=True)
class ServedTask:
    """One task of a served model, as its metadata describes it.

    Args:
        name: str. The task, and the output of its answer (probabilities or value).
        kind: str or None. Its kind (`binary`, `multiclass`, ...); None: not described.
        outputs: tuple of str. Every output the task serves, its own name first (e.g.
            `digit`, `digit_class`, `digit_label`).
    """

    name: str
    kind: str = None
    outputs: tuple = ()

    def summary(self, value, length=None):
        """A short human reading of its answer for one example (`length`: tokens, if any)."""
        return _READERS.get(self.kind, _GENERIC)[0](np.asarray(value), length)

    def prediction(self, value, length=None):
        """The label its answer predicts, comparable with a true label."""
        return _READERS.get(self.kind, _GENERIC)[1](np.asarray(value), length)


def tasks_from_signatures(signature_defs):
    """[ServedTask] the `tasks` signature describes, in name order; [] without one.

    Args:
        signature_defs: dict. {signature name: SignatureDef as JSON} (`metadata.signature_def.
            signature_def` of the REST metadata; json_format of the gRPC one).
    """
    tasks = {}
    for alias in signature_defs.get(TASKS_SIGNATURE, {}).get("outputs", {}):
        name, kind, output = alias.split(".", 2)
        outputs = tasks.get(name, (kind, []))[1]
        outputs.append(output)
        tasks[name] = (kind, outputs)
    return [ServedTask(name, kind, tuple(sorted(outputs, key=lambda o: (o != name, o))))
            for name, (kind, outputs) in sorted(tasks.items())]


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What a model's metadata says about one of its signatures: `inputs` {name: (dtype name,
    shape with -1 for any size)} and its `tasks` ([ServedTask], [] when not described)."""

    inputs: dict
    tasks: list


def model_info(signature_defs, signature="serving_default"):
    """ModelInfo of a {signature name: SignatureDef as JSON} map."""
    return ModelInfo(_spec_from_signature_json(signature_defs[signature]),
                     tasks_from_signatures(signature_defs))


# --------------------------------------------------------------------------- reading answers

def _top(value, length=None):
    top = int(np.argmax(value))
    return f"{top} (p={float(value[top]):.2f})"


def _number(value, length=None):
    return f"{value.item():.3f}" if value.dtype.kind == "f" else str(value.item())


def _tokens(value, length=None):
    classes = np.argmax(value, axis=-1)[:length]
    return " ".join(str(c) for c in classes.tolist())


def _generic(value, length=None):
    """An output no task describes: a vector by its top entry, a scalar by its value."""
    if value.ndim == 1 and value.size > 1:
        return _top(value)
    return _number(value) if value.size == 1 else f"{value.dtype.name}{list(value.shape)}"


# kind -> (summary, prediction) of one example's answer; a kind not listed reads as _GENERIC.
_GENERIC = (_generic, lambda v, n: int(np.argmax(v)) if v.ndim == 1 and v.size > 1
            else v.tolist())
_READERS = {
    "binary": (_number, lambda p, n: int(p.item() >= 0.5)),
    "multiclass": (_top, lambda p, n: int(np.argmax(p))),
    "multilabel": (_top, lambda p, n: (p >= 0.5).astype(np.int64).tolist()),
    "regression": (_number, lambda v, n: v.tolist()),
    "token_multiclass": (_tokens, lambda p, n: np.argmax(p, axis=-1)[:n].tolist()),
}


def run_predict(client, model_name, examples, signature="serving_default", version=None,
                labels=None, tasks=None):
    """Sends `examples` (a dict of batched arrays) in one request.

    Returns a list with, per example, {"outputs": {output: value}, "labels": {output: true
    value}, "tasks": [ServedTask]} where true labels are the `labels` entries named like an
    output, and `tasks` (default: read from the model's metadata) say how to read them.
    """
    if tasks is None:
        tasks = client.describe(model_name, signature, version).tasks
    outputs = client.predict(model_name, examples, signature, version)
    n = len(next(iter(examples.values())))
    rows = []
    for i in range(n):
        row = {"outputs": {k: v[i] for k, v in sorted(outputs.items())}, "labels": {},
               "tasks": tasks}
        for k in row["outputs"]:
            if labels and k in labels:
                row["labels"][k] = labels[k][i]
        rows.append(row)
    return rows


def _cell(task, row):
    """`<task>=<summary>`, with ` true=<label> ok|MISS` when a true label is known."""
    value = row["outputs"][task.name]
    length = row["outputs"].get("sequence_length")
    length = None if length is None else int(length)
    cell = f"{task.name}={task.summary(value, length)}"
    known = [o for o in task.outputs if o in row["labels"]]
    if known:
        true = np.asarray(row["labels"][known[0]])
        if length is not None and true.ndim:
            true = true[:length]
        mark = "ok" if np.array_equal(np.asarray(task.prediction(value, length)), true) else "MISS"
        cell += f" true={true.tolist()} {mark}"
    return cell


def format_rows(rows):
    """One line per example: every task's answer, beside its true label when known (a label
    named after any of the task's outputs). A model whose tasks are not described shows
    every output."""
    lines = []
    for i, row in enumerate(rows):
        tasks = row.get("tasks") or [ServedTask(name, None, (name,)) for name in row["outputs"]]
        cells = [_cell(task, row) for task in tasks if task.name in row["outputs"]]
        lines.append(f"example {i}: " + " | ".join(cells))
    return "\n".join(lines)


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

    def signature_defs(self, model, version=None, label=None):
        """{signature name: SignatureDef as JSON} of the model's metadata."""
        return self.metadata(model, version, label)["metadata"]["signature_def"]["signature_def"]

    def describe(self, model, signature="serving_default", version=None, label=None):
        """ModelInfo (inputs of `signature`, tasks) read from the model's metadata."""
        return model_info(self.signature_defs(model, version, label), signature)

    def input_spec(self, model, signature="serving_default", version=None, label=None):
        """{input name: (dtype name, shape with -1 for any size)} of a signature."""
        return self.describe(model, signature, version, label).inputs

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

    def signature_defs(self, model, version=None, label=None):
        """{signature name: SignatureDef as JSON} of GetModelMetadata (as REST writes it)."""
        from google.protobuf import json_format
        from tensorflow_serving.apis import get_model_metadata_pb2

        req = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(req.model_spec, model, None, version, label)
        resp = self._call(self.stub.GetModelMetadata, req)
        sig_map = get_model_metadata_pb2.SignatureDefMap()
        resp.metadata["signature_def"].Unpack(sig_map)
        return json_format.MessageToDict(sig_map, preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True).get(
            "signature_def", {})

    def describe(self, model, signature="serving_default", version=None, label=None):
        """ModelInfo (inputs of `signature`, tasks) read from the model's metadata."""
        return model_info(self.signature_defs(model, version, label), signature)

    def input_spec(self, model, signature="serving_default", version=None, label=None):
        """{input name: (dtype name, shape with -1 for any size)} of a signature."""
        return self.describe(model, signature, version, label).inputs

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
