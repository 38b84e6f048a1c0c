"""REST contract tests: bodies as in TF Serving's api_rest.md, every error path."""

import base64
import json

import numpy as np
import pytest
import yaml

from serving.testing import image_example
from tests.serving.conftest import image_batch


def test_status_all_versions_and_by_version_and_label(rest):
    status, body = rest.get("/v1/models/toy")
    assert status == 200
    assert {s["version"] for s in body["model_version_status"]} == {"1", "2"}
    assert all(s["state"] == "AVAILABLE" and s["status"] == {"error_code": "OK", "error_message": ""}
               for s in body["model_version_status"])
    assert rest.get("/v1/models/toy/versions/1")[1]["model_version_status"][0]["version"] == "1"
    assert rest.get("/v1/models/toy/labels/canary")[1]["model_version_status"][0]["version"] == "2"


def test_metadata_has_signatures_and_spec(rest):
    status, body = rest.get("/v1/models/toy/versions/1/metadata")
    assert status == 200
    assert body["model_spec"] == {"name": "toy", "version": "1", "signature_name": ""}
    sigs = body["metadata"]["signature_def"]["signature_def"]
    assert sigs["serving_default"]["inputs"]["image"]["dtype"] == "DT_UINT8"
    assert sigs["classify_digit"]["method_name"] == "tensorflow/serving/classify"
    assert set(sigs["serving_default"]["outputs"]) == {"digit", "digit_class", "is_even", "brightness"}


def test_predict_row_format_named_outputs_and_version_routing(rest):
    body = {"instances": image_batch(2).tolist()}
    status, out = rest.post("/v1/models/toy:predict", body)
    assert status == 200 and len(out["predictions"]) == 2
    row = out["predictions"][0]
    assert set(row) == {"digit", "digit_class", "is_even", "brightness"}
    assert len(row["digit"]) == 10 and isinstance(row["digit_class"], int)
    assert row["brightness"] == pytest.approx(1.0)  # latest = version 2 (offset 1)
    assert rest.post("/v1/models/toy/versions/1:predict", body)[1]["predictions"][0][
        "brightness"] == pytest.approx(0.0)
    assert rest.post("/v1/models/toy/labels/stable:predict", body)[1]["predictions"][0][
        "brightness"] == pytest.approx(0.0)


def test_predict_row_objects_and_columnar_formats_agree(rest):
    images = image_batch(3, 7).tolist()
    rows = rest.post("/v1/models/toy:predict", {"instances": [{"image": i} for i in images]})[1]
    cols = rest.post("/v1/models/toy:predict", {"inputs": {"image": images}})[1]
    bare = rest.post("/v1/models/toy:predict", {"inputs": images})[1]
    assert [r["digit_class"] for r in rows["predictions"]] == cols["outputs"]["digit_class"]
    assert cols == bare
    np.testing.assert_allclose(cols["outputs"]["digit"], [r["digit"] for r in rows["predictions"]])


def test_predict_several_named_inputs_strings_and_bytes_output(rest):
    # The api_rest.md row example: one object per instance, one key per named input.
    body = {"instances": [{"age": 30.0, "city": "paris"}, {"age": 50, "city": {"b64": base64.b64encode(b"rome").decode()}}]}
    status, out = rest.post("/v1/models/tab:predict", body)
    assert status == 200, out
    assert out["predictions"][0]["income"] == pytest.approx(15.0)
    assert out["predictions"][1]["city_bytes"] == {"b64": base64.b64encode(b"rome").decode()}
    cols = rest.post("/v1/models/tab:predict", {"inputs": {"age": [30.0, 50.0], "city": ["paris", "rome"]}})[1]
    assert cols["outputs"]["segment_class"] == [r["segment_class"] for r in out["predictions"]]


def test_predict_tf_example_signature_with_b64(rest):
    ex = base64.b64encode(image_example(np.zeros([28, 28, 1]))).decode()
    status, out = rest.post("/v1/models/toy/versions/1:predict",
                            {"signature_name": "tf_example", "instances": [{"b64": ex}]})
    assert status == 200, out
    assert out["predictions"][0]["brightness"] == pytest.approx(0.0)


def test_classify_and_regress(rest):
    image = {"b64": base64.b64encode(bytes(784)).decode()}
    status, out = rest.post("/v1/models/toy/versions/1:classify",
                            {"signature_name": "classify_digit", "examples": [{"image": image}] * 2})
    assert status == 200, out
    assert len(out["results"]) == 2 and [c[0] for c in out["results"][0]] == [str(i) for i in range(10)]
    assert sum(c[1] for c in out["results"][0]) == pytest.approx(1.0, abs=1e-5)
    status, out = rest.post("/v1/models/toy:regress",
                            {"signature_name": "regress_brightness", "context": {"image": image},
                             "examples": [{}, {}]})
    assert status == 200, out
    assert out["results"] == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("method, path, body, code, fragment", [
    ("POST", "/v1/models/nope:predict", {"instances": [1]}, 404,
     "Servable not found for request: Latest(nope)"),
    ("GET", "/v1/models/nope", None, 404, "Could not find any versions of model nope"),
    ("GET", "/v1/models/toy/versions/9", None, 404, "Could not find version 9 of model toy"),
    ("POST", "/v1/models/toy/versions/9:predict", {"instances": [1]}, 404,
     "Servable not found for request: Specific(toy, 9)"),
    ("POST", "/v1/models/toy/labels/nope:predict", {"instances": [1]}, 400,
     "Unrecognized servable version label: nope"),
    ("POST", "/v1/models/toy:predict", b"{not json", 400, "JSON Parse error"),
    ("POST", "/v1/models/toy:predict", b"", 400, "JSON Parse error: The document is empty"),
    ("POST", "/v1/models/toy:predict", [1, 2], 400, "Is not object"),
    ("POST", "/v1/models/toy:predict", {"instances": [], }, 400, "No values in 'instances' array"),
    ("POST", "/v1/models/toy:predict", {"instances": [1], "inputs": [1]}, 400,
     "expecting only one of 'inputs' or 'instances'"),
    ("POST", "/v1/models/toy:predict", {"signature_name": "serving_default"}, 400,
     "Missing 'inputs' or 'instances' key"),
    ("POST", "/v1/models/toy:predict", {"signature_name": 3, "instances": [1]}, 400,
     "'signature_name' key must be a string value"),
    ("POST", "/v1/models/toy:predict", {"signature_name": "nope", "instances": [1]}, 400,
     'Serving signature key "nope" not found.'),
    ("POST", "/v1/models/toy:predict", {"instances": [[["a"]]]}, 400,
     "is not of expected type: uint8"),
    ("POST", "/v1/models/toy:predict", {"instances": [[[1]], [[1], [2]]]}, 400,
     "Encountered list at unexpected size"),
    ("POST", "/v1/models/toy:predict", {"instances": [[[[1]]]]}, 400, "signature expects"),
    ("POST", "/v1/models/tab:predict", {"instances": [1.0]}, 400,
     "instances is a plain list, but expecting list of objects"),
    ("POST", "/v1/models/tab:predict", {"instances": [{"age": 1.0}]}, 400, "keys must be equal to"),
    ("POST", "/v1/models/tab:predict", {"inputs": {"age": [1.0]}}, 400,
     "Missing named input: city in 'inputs' object."),
    ("POST", "/v1/models/tab:predict", {"inputs": {"age": ["x"], "city": ["a"]}}, 400,
     'JSON Value: "x" Type: String is not of expected type: float'),
    ("POST", "/v1/models/toy:classify", {"examples": [{"x": 1}]}, 400,
     "Expected classification signature method_name to be tensorflow/serving/classify"),
    ("POST", "/v1/models/toy:classify", {"signature_name": "classify_digit"}, 400,
     "key 'examples' is expected and was not found"),
    ("POST", "/v1/models/toy:regress", {"signature_name": "regress_brightness", "examples": [[1]]}, 400,
     "Example must be JSON object"),
    ("POST", "/v1/models/toy:regress", {"signature_name": "regress_brightness",
                                        "examples": [{"image": 1.5}]}, 400, "image"),
    ("GET", "/v1/models", None, 400, "Missing model name in request."),
    ("GET", "/v1/foo", None, 400, "Malformed request: GET /v1/foo"),
    ("POST", "/v1/models/toy:explain", {}, 400, "Malformed request: POST /v1/models/toy:explain"),
])
def test_errors_have_tf_serving_status_and_message(rest, method, path, body, code, fragment):
    raw = body if isinstance(body, bytes) else None
    status, out = rest.call(method, path, None if raw is not None else body, raw)
    assert status == code, out
    assert set(out) == {"error"} and fragment in out["error"], out
    # ...and the server keeps serving.
    assert rest.get("/v1/models/toy")[0] == 200


def test_openapi_document_is_served_and_valid(rest):
    from openapi_spec_validator import validate

    status, doc = rest.get("/v1/openapi.json")
    assert status == 200
    validate(doc)
    with open("serving/rest_v1/openapi.yaml") as f:
        assert yaml.safe_load(f) == doc
    assert "/v1/models/{name}:predict" in doc["paths"]


def test_prometheus_metrics_count_requests_and_batches(rest):
    rest.post("/v1/models/toy:predict", {"instances": image_batch(1).tolist()})
    rest.post("/v1/models/nope:predict", {"instances": [1]})
    status, text = rest.get("/monitoring/prometheus/metrics")
    text = text.decode() if isinstance(text, bytes) else json.dumps(text)
    assert status == 200
    assert ':tensorflow:serving:request_count_total{api="predict",model_name="toy",model_version="2",protocol="rest",signature_name="serving_default",status="OK"}' in text
    assert 'model_name="nope"' in text and 'status="NOT_FOUND"' in text
    assert ":tensorflow:serving:request_latency_seconds_bucket" in text
    assert ':tensorflow:serving:batch_size_count{model_name="toy",model_version="2",signature_name="serving_default"}' in text


def test_a_graph_error_reads_as_tf_serving_reports_it(rest):
    # The kernel's message (feature, expected type) without the Python runtime's wrapping.
    status, out = rest.post("/v1/models/toy:regress", {"signature_name": "regress_brightness",
                                                       "examples": [{"image": 3}]})
    assert status == 400, out
    assert "Key: image" in out["error"] and "Data types don't match" in out["error"], out
    assert "Graph execution error" not in out["error"] and "[Op:" not in out["error"], out
