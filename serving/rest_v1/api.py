"""TF Serving's REST API (its api_rest.md), answered on serving/transport/http_server.py.

Routes (case-insensitive, as TF Serving's regexes):
    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]            model status
    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]/metadata   signature defs
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:predict|:classify|:regress
    GET  /v1/openapi (YAML) and /v1/openapi.json                 this API's OpenAPI document
    GET  <prometheus path>                                       metrics, when monitoring is on
Every error is `{"error": "<message>"}` with the HTTP status of its canonical code.

Example:
    >>> from serving.rest_v1.api import parse_model_path
    >>> parse_model_path("POST", "/v1/models/mnist/labels/stable:predict")
    ('mnist', None, 'stable', 'predict')
    >>> parse_model_path("GET", "/v1/models/mnist/versions/3/metadata")
    ('mnist', 3, None, 'metadata')
"""

import json
import logging
import os
import re
import time
import urllib.parse

from google.protobuf import json_format
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, regression_pb2)

from serving.core.inference import SIGNATURE_DEF_FIELD
from serving.errors import error_from_exception, invalid_argument
from serving.rest_v1 import json_codec
from serving.rest_v1.examples_json import examples_from_json
from serving.transport.fast_lane import await_future

log = logging.getLogger(__name__)

_PREDICTION_RE = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/([0-9]+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)",
    re.IGNORECASE)
_STATUS_RE = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/([0-9]+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
    re.IGNORECASE)
OPENAPI_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openapi.yaml")
_INT64_MAX = 2**63 - 1


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
        digits = version.lstrip("0") or "0"
        if len(digits) > 19 or int(digits) > _INT64_MAX:  # TF Serving parses an int64
            raise invalid_argument(f"Failed to convert version: {version[:40]} to numeric.")
        version = int(digits)
    if method == "GET":
        verb = "metadata" if verb else "status"
        if not name:
            raise invalid_argument("Missing model name in request.")
    return name, version, label, verb.lower()


def _proto_json(message):
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


class RestApi:
    """Answers REST requests with an InferenceService; free of HTTP so tests can call it.

    Args:
        service: serving.core.inference.InferenceService.
        metrics: optional serving.core.metrics.Metrics.
        metrics_path: str or None. Where Prometheus metrics are served.
        v2: optional serving.kserve_v2.rest_api.KServeRestApi answering the /v2 paths.
    """

    def __init__(self, service, metrics=None, metrics_path=None, v2=None):
        self.service = service
        self.metrics = metrics
        self.metrics_path = metrics_path
        self.v2 = v2
        self._openapi_yaml = self._openapi_json_bytes = None

    async def handle(self, method, raw_path, body, headers=None):
        """Returns (status, content_type, body_bytes, extra headers) for one request.

        Predict runs on the event loop without a thread (it waits on its batch); every other
        request runs on the service's blocking executor. /v2 paths go to the Open Inference
        Protocol API (`v2`) when there is one.
        """
        path = raw_path.split("?", 1)[0]
        if self.v2 is not None and (path == "/v2" or path.startswith("/v2/")):
            return await self.v2.handle(method, path, body, headers)
        if method == "GET" and self.metrics_path and path == self.metrics_path:
            return 200, self.metrics.CONTENT_TYPE, self.metrics.exposition(), {}
        if method == "GET" and path.lower() in ("/v1/openapi", "/v1/openapi.yaml"):
            return 200, "application/yaml", self._openapi(), {}
        if method == "GET" and path.lower() == "/v1/openapi.json":
            return 200, "application/json", self._openapi_json(), {}
        t0 = time.perf_counter()
        info, verb, name = {}, "unknown", ""
        try:
            name, version, label, verb = parse_model_path(method, path)
            if verb == "predict":
                result = await self._predict((name, version, label), body, info)
            else:
                result = await self.service.run_blocking(
                    getattr(self, "_" + verb), name, version, label, body, info)
        except Exception as e:  # noqa: BLE001 - every failure becomes a JSON error
            return self._answer(method, path, verb, name, info, t0, error=e)
        return self._answer(method, path, verb, name, info, t0, result)

    def _answer(self, method, path, verb, name, info, t0, result=None, error=None):
        """(status, content type, body) of a result or an error; records the metrics."""
        if error is None:
            status, payload = 200, json.dumps(result).encode()
        else:
            err = error_from_exception(error)
            if err.code == "INTERNAL":
                log.error("Internal error on %s %s", method, path, exc_info=error)
            status, payload = err.http_status, json.dumps({"error": err.message}).encode()
            info["code"] = err.code
        if self.metrics is not None and verb not in ("unknown",):
            self.metrics.request("rest", verb, name, info.get("version"), info.get("signature"),
                                 info.get("code", "OK"), time.perf_counter() - t0)
        return status, "application/json", payload, {}

    def _openapi(self):
        if self._openapi_yaml is None:
            with open(OPENAPI_PATH, "rb") as f:
                self._openapi_yaml = f.read()
        return self._openapi_yaml

    def _openapi_json(self):
        if self._openapi_json_bytes is None:
            import yaml

            self._openapi_json_bytes = json.dumps(yaml.safe_load(self._openapi())).encode()
        return self._openapi_json_bytes

    # ------------------------------------------------------------------ verbs
    async def _predict(self, target, body, info):
        """The steps of a Predict (serving/core/servable.py), the model call awaited on the
        event loop."""
        request = json_codec.PredictBody(body)
        servable = self.service.manager.resolve(*target, info=info)
        sig_name, input_dtypes = servable.predict_signature(request.signature_name, (), info)
        future = servable.start(sig_name, request.inputs(input_dtypes),
                                self.service.model_executor)
        outputs = await await_future(future, self.service.timeout_s)
        return request.answer(outputs, servable.signature_defs[sig_name])

    def _fill(self, request, name, version, label, body):
        doc = json_codec.parse_object(body)
        spec = request.model_spec
        spec.name = name
        if version is not None:
            spec.version.value = version
        if label:
            spec.version_label = label
        spec.signature_name = doc.get("signature_name", "")
        request.input.CopyFrom(examples_from_json(doc))
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
