"""The Open Inference Protocol's REST API (KServe v2), on the same port as TF Serving's:

    GET  /v2                                           server metadata
    GET  /v2/health/live, /v2/health/ready             200 or 400, empty body
    GET  /v2/models/{name}[/versions/{v}]              model metadata (inputs, outputs)
    GET  /v2/models/{name}[/versions/{v}]/ready        200 or 400, empty body
    POST /v2/models/{name}[/versions/{v}]/infer        {"inputs": [...]} -> {"outputs": [...]}

with the binary tensor extension (`Inference-Header-Content-Length`, `binary_data_size`,
`binary_data` / `binary_data_output`), as tritonclient's HTTP client sends by default. Errors
are `{"error": "<message>"}` with the status of the canonical code.

Example:
    >>> from serving.kserve_v2.rest_api import parse_v2_path
    >>> parse_v2_path("POST", "/v2/models/mnist/versions/2/infer")
    ('infer', 'mnist', '2')
    >>> parse_v2_path("GET", "/v2/health/ready")
    ('server_ready', None, None)
"""

import json
import re
import time
import urllib.parse

from serving.errors import error_from_exception, invalid_argument
from serving.kserve_v2 import tensors
from serving.transport.fast_lane import scan

_MODEL_RE = re.compile(r"/v2/models/([^/]+)(?:/versions/([^/]+))?(?:/(ready|infer))?")
_HEADER_LENGTH = "Inference-Header-Content-Length"


def parse_v2_path(method, path):
    """(operation, model name or None, version or None) of a v2 URL."""
    if method == "GET" and path in ("/v2", "/v2/"):
        return "server_metadata", None, None
    if method == "GET" and path == "/v2/health/live":
        return "server_live", None, None
    if method == "GET" and path == "/v2/health/ready":
        return "server_ready", None, None
    m = _MODEL_RE.fullmatch(path)
    if m is not None:
        name, version, verb = m.groups()
        op = {None: "model_metadata", "ready": "model_ready", "infer": "infer"}[verb]
        if (op == "infer") == (method == "POST") and method in ("GET", "POST"):
            return op, urllib.parse.unquote(name), urllib.parse.unquote(version or "")
    raise invalid_argument(f"Malformed request: {method} {path[:200]}")


def _split_binary(body, headers):
    """(JSON document, binary tail) of a request body."""
    length = headers.get(_HEADER_LENGTH) if headers is not None else None
    if length is None:
        return body, b""
    if not length.isdigit() or int(length) > len(body):
        raise invalid_argument(f"Invalid {_HEADER_LENGTH}: {length[:40]}")
    return body[:int(length)], memoryview(body)[int(length):]


def decode_inputs(doc, binary, may_hold_bools=True):
    """{input name: ndarray} of an infer request document (and its binary tail)."""
    inputs, pos = {}, 0
    items = doc.get("inputs")
    if not isinstance(items, list) or not items:
        raise invalid_argument("An infer request needs a non-empty 'inputs' list")
    for tensor in items:
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise invalid_argument("Each entry of 'inputs' must be an object with a 'name' string")
        params = tensor.get("parameters")
        size = params.get("binary_data_size") if isinstance(params, dict) else None
        if size is not None:
            name = tensor.get("name")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0 or \
                    pos + size > len(binary):
                raise invalid_argument(f"Input '{name}': binary_data_size {size} does not fit the "
                                       "binary data of the request")
            arr = tensors.from_bytes(binary[pos:pos + size], tensor.get("datatype"),
                                     tensor.get("shape"), name)
            pos += size
        else:
            arr = tensors.from_json(tensor, may_hold_bools)
        if tensor["name"] in inputs:
            raise invalid_argument(f"Input '{tensor['name']}' is given twice")
        inputs[tensor["name"]] = arr
    if pos != len(binary):
        raise invalid_argument("The request has binary data no input claims")
    return inputs


def _requested_outputs(doc):
    """([(name, binary?)], default binary?) of an infer request."""
    params = doc.get("parameters") or {}
    if not isinstance(params, dict):
        raise invalid_argument("'parameters' must be an object")
    default_binary = params.get("binary_data_output") is True
    wanted = doc.get("outputs", [])
    if not isinstance(wanted, list):
        raise invalid_argument("'outputs' must be a list")
    out = []
    for item in wanted:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise invalid_argument("Each entry of 'outputs' needs a 'name' string")
        p = item.get("parameters") or {}
        out.append((item["name"], p.get("binary_data", default_binary) is True
                    if isinstance(p, dict) else default_binary))
    return out, default_binary, params


class KServeRestApi:
    """Answers /v2 requests; `handle` returns (status, content type, body, extra headers).

    Args:
        kserve: serving.kserve_v2.service.KServeService.
        metrics: optional serving.core.metrics.Metrics.
    """

    def __init__(self, kserve, metrics=None):
        self.kserve = kserve
        self.metrics = metrics

    async def handle(self, method, path, body, headers=None):
        t0, info, op, name = time.perf_counter(), {}, "unknown", None
        try:
            op, name, version = parse_v2_path(method, path)
            if op in ("server_live", "server_ready", "model_ready"):
                ok = {"server_live": lambda: True, "server_ready": self.kserve.server_ready,
                      "model_ready": lambda: self.kserve.model_ready(name, version)}[op]()
                return (200 if ok else 400), "application/json", b"", {}
            if op == "server_metadata":
                return 200, "application/json", json.dumps(self.kserve.server_metadata()).encode(), {}
            if op == "model_metadata":
                doc = self.kserve.model_metadata(name, version)
                return 200, "application/json", json.dumps(doc).encode(), {}
            answer = await self._infer(name, version, body, headers, info)
        except Exception as e:  # noqa: BLE001 - every failure becomes a JSON error
            err = error_from_exception(e)
            info["code"] = err.code
            self._record(op, name, info, t0)
            return err.http_status, "application/json", json.dumps({"error": err.message}).encode(), {}
        self._record(op, name, info, t0)
        return answer

    def _record(self, op, name, info, t0):
        if self.metrics is not None and op == "infer":
            self.metrics.request("rest", "v2_infer", name, info.get("version"),
                                 info.get("signature"), info.get("code", "OK"),
                                 time.perf_counter() - t0)

    async def _infer(self, name, version, body, headers, info):
        text, binary = _split_binary(body, headers)
        bools = scan(bytes(text)).has_bools
        try:
            doc = json.loads(bytes(text))
        except (ValueError, UnicodeDecodeError) as e:
            raise invalid_argument(f"JSON Parse error: {str(e)[:200]}") from None
        if not isinstance(doc, dict):
            raise invalid_argument("An infer request must be a JSON object")
        inputs = decode_inputs(doc, binary, bools)
        wanted, default_binary, params = _requested_outputs(doc)
        signature = params.get("signature_name", "")
        if not isinstance(signature, str):
            raise invalid_argument("'signature_name' must be a string")
        servable, outputs = await self.kserve.infer(name, version, inputs,
                                                    [n for n, _ in wanted], signature, info)
        binary_of = dict(wanted) if wanted else {n: default_binary for n in outputs}
        response = {"model_name": name, "model_version": str(servable.version), "outputs": []}
        if isinstance(doc.get("id"), str):
            response["id"] = doc["id"]
        blobs = []
        for out_name in (n for n, _ in wanted) if wanted else sorted(outputs):
            arr = outputs[out_name]
            if binary_of[out_name]:
                raw = tensors.to_bytes(arr)
                response["outputs"].append({
                    "name": out_name, "datatype": tensors.datatype_of(arr),
                    "shape": list(arr.shape), "parameters": {"binary_data_size": len(raw)}})
                blobs.append(raw)
            else:
                response["outputs"].append(tensors.to_json(out_name, arr))
        head = json.dumps(response).encode()
        if not blobs:
            return 200, "application/json", head, {}
        return (200, "application/octet-stream", b"".join([head, *blobs]),
                {_HEADER_LENGTH: str(len(head))})
