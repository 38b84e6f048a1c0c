"""The REST API (TF Serving's api_rest.md) on a threaded HTTP/1.1 server.

Routes (case-insensitive, as TF Serving's regexes):
    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]            model status
    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]/metadata   signature defs
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:predict|:classify|:regress
    GET  /v1/openapi (YAML) and /v1/openapi.json                 this API's OpenAPI document
    GET  <prometheus path>                                       metrics, when monitoring is on
Every error is `{"error": "<message>"}` with the HTTP status of its canonical code.

Example:
    >>> from serving.rest import parse_model_path
    >>> parse_model_path("POST", "/v1/models/mnist/labels/stable:predict")
    ('mnist', None, 'stable', 'predict')
    >>> parse_model_path("GET", "/v1/models/mnist/versions/3/metadata")
    ('mnist', 3, None, 'metadata')
"""

import http.server
import json
import logging
import os
import re
import threading
import time
import urllib.parse

from google.protobuf import json_format
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, regression_pb2)

from serving import tensor_codec
from serving.errors import ServingError, invalid_argument
from serving.inference import SIGNATURE_DEF_FIELD, error_from_exception

log = logging.getLogger(__name__)

_PREDICTION_RE = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)",
    re.IGNORECASE)
_STATUS_RE = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
    re.IGNORECASE)
OPENAPI_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openapi.yaml")
MAX_BODY_BYTES = 1 << 30


def parse_model_path(method, path):
    """(name, version, label, verb) for a model URL; verb is predict/classify/regress/
    status/metadata. Raises ServingError('Malformed request: ...') when nothing matches."""
    m = _PREDICTION_RE.fullmatch(path) if method == "POST" else (
        _STATUS_RE.fullmatch(path) if method == "GET" else None)
    if m is None:
        raise invalid_argument(f"Malformed request: {method} {path}")
    name, version, label, verb = m.groups()
    name = urllib.parse.unquote(name) if name else ""
    label = urllib.parse.unquote(label) if label else None
    if version is not None:
        try:
            version = int(version)
        except ValueError:
            raise invalid_argument(f"Failed to convert version: {version} to numeric.") from None
    if method == "GET":
        verb = "metadata" if verb else "status"
        if not name:
            raise invalid_argument("Missing model name in request.")
    return name, version, label, verb.lower()


def _proto_json(message):
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


def _parse_body(body):
    if not body:
        raise invalid_argument("JSON Parse error: The document is empty")
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as e:
        raise invalid_argument(f"JSON Parse error: {e.msg} at offset: {e.pos}") from None
    except UnicodeDecodeError as e:
        raise invalid_argument(f"JSON Parse error: Invalid encoding in string. at offset: "
                               f"{e.start}") from None
    if not isinstance(doc, dict):
        raise invalid_argument(f"JSON Value: {json.dumps(doc)[:200]} Is not object")
    sig = doc.get("signature_name", "")
    if not isinstance(sig, str):
        raise invalid_argument(
            f"JSON Value: {json.dumps(doc)[:200]} not formatted correctly. 'signature_name' key "
            "must be a string value.")
    return doc, sig


class RestApi:
    """Answers REST requests with an InferenceService; protocol-free so tests can call it.

    Args:
        service: serving.inference.InferenceService.
        metrics: optional serving.metrics.Metrics.
        metrics_path: str or None. Where Prometheus metrics are served.
    """

    def __init__(self, service, metrics=None, metrics_path=None):
        self.service = service
        self.metrics = metrics
        self.metrics_path = metrics_path
        self._openapi_yaml = None

    def handle(self, method, raw_path, body):
        """Returns (status, content_type, body_bytes)."""
        path = raw_path.split("?", 1)[0]
        if method == "GET" and self.metrics_path and path == self.metrics_path:
            return 200, self.metrics.CONTENT_TYPE, self.metrics.exposition()
        if method == "GET" and path.lower() in ("/v1/openapi", "/v1/openapi.yaml"):
            return 200, "application/yaml", self._openapi()
        if method == "GET" and path.lower() == "/v1/openapi.json":
            import yaml

            return 200, "application/json", json.dumps(yaml.safe_load(self._openapi())).encode()
        t0 = time.perf_counter()
        info, verb, name = {}, "unknown", ""
        try:
            name, version, label, verb = parse_model_path(method, path)
            result = getattr(self, "_" + verb)(name, version, label, body, info)
            status, payload = 200, json.dumps(result).encode()
        except Exception as e:  # noqa: BLE001 - every failure becomes a JSON error
            err = error_from_exception(e)
            if err.code == "INTERNAL":
                log.exception("Internal error on %s %s", method, path)
            status, payload = err.http_status, json.dumps({"error": err.message}).encode()
            info["code"] = err.code
        if self.metrics is not None and verb not in ("unknown",):
            self.metrics.request("rest", verb, name, info.get("version"), info.get("signature"),
                                 info.get("code", "OK"), time.perf_counter() - t0)
        return status, "application/json", payload

    def _openapi(self):
        if self._openapi_yaml is None:
            with open(OPENAPI_PATH, "rb") as f:
                self._openapi_yaml = f.read()
        return self._openapi_yaml

    # ------------------------------------------------------------------ verbs
    def _predict(self, name, version, label, body, info):
        doc, sig_name = _parse_body(body)
        servable = self.service.resolve(name, version, label, info)
        dtypes = servable.input_dtypes(sig_name)
        if not dtypes:
            raise invalid_argument(f"Failed to get input map for signature: {sig_name or 'DEFAULT'}")
        inputs, fmt = tensor_codec.predict_inputs_from_json(doc, dtypes)
        _, outputs = self.service.predict(servable, sig_name, inputs, (), info)
        return tensor_codec.outputs_to_json(outputs, fmt)

    def _fill(self, request, name, version, label, body):
        doc, sig_name = _parse_body(body)
        spec = request.model_spec
        spec.name = name
        if version is not None:
            spec.version.value = version
        if label:
            spec.version_label = label
        spec.signature_name = sig_name
        request.input.CopyFrom(tensor_codec.examples_from_json(doc))
        return request

    def _classify(self, name, version, label, body, info):
        request = self._fill(classification_pb2.ClassificationRequest(), name, version, label, body)
        result = self.service.classify(request, info).result
        if not result.classifications:
            raise invalid_argument("Cannot convert empty ClassificationResults to JSON")
        return {"results": [[[c.label, c.score] for c in item.classes]
                            for item in result.classifications]}

    def _regress(self, name, version, label, body, info):
        request = self._fill(regression_pb2.RegressionRequest(), name, version, label, body)
        result = self.service.regress(request, info).result
        if not result.regressions:
            raise invalid_argument("Cannot convert empty RegressionResults to JSON")
        return {"results": [r.value for r in result.regressions]}

    @staticmethod
    def _spec(request, name, version, label):
        request.model_spec.name = name
        if version is not None:
            request.model_spec.version.value = version
        if label:
            request.model_spec.version_label = label
        return request

    def _status(self, name, version, label, body, info):
        request = self._spec(get_model_status_pb2.GetModelStatusRequest(), name, version, label)
        return _proto_json(self.service.status(request, info))

    def _metadata(self, name, version, label, body, info):
        request = self._spec(get_model_metadata_pb2.GetModelMetadataRequest(), name, version, label)
        request.metadata_field.append(SIGNATURE_DEF_FIELD)
        response = self.service.metadata(request, info)
        sig_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata[SIGNATURE_DEF_FIELD].Unpack(sig_map)
        return {"model_spec": _proto_json(response.model_spec),
                "metadata": {SIGNATURE_DEF_FIELD: _proto_json(sig_map)}}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections
    disable_nagle_algorithm = True  # small answers must not wait for delayed ACKs (~40 ms)
    server_version = "MTLZooModelServer"
    api = None  # set on the subclass made per server

    def log_message(self, format, *args):  # noqa: A002 - per-request logs cost throughput
        pass

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ServingError("RESOURCE_EXHAUSTED", "Request body too large")
        return self.rfile.read(length) if length else b""

    def _respond(self, method):
        try:
            body = self._read_body() if method == "POST" else b""
            status, ctype, payload = self.api.handle(method, self.path, body)
        except Exception as e:  # noqa: BLE001 - never let a request kill the connection thread
            err = error_from_exception(e)
            status, ctype = err.http_status, "application/json"
            payload = json.dumps({"error": err.message}).encode()
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        # Headers and body in one write: one packet for small answers.
        self._headers_buffer.append(b"\r\n" + payload)
        self.flush_headers()

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._respond("GET")

    def do_POST(self):  # noqa: N802
        self._respond("POST")

    def do_PUT(self):  # noqa: N802
        self._respond("PUT")

    def do_DELETE(self):  # noqa: N802
        self._respond("DELETE")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True


class RestServer:
    """Serves a RestApi on host:port in a background thread (port 0: a free port)."""

    def __init__(self, api, host="127.0.0.1", port=0):
        handler = type("Handler", (_Handler,), {"api": api})
        self._httpd = _Server((host, port), handler)
        self.host, self.port = host, self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="rest-server", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
