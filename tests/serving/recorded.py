"""REST requests and the answers the server gave them, recorded before the front end changed
(issue 24), so that a new front end can be held to byte-identical bodies.

    python -m tests.serving.recorded          # (re)records tests/serving/data/rest_answers.json

The requests are the REST ones of tests/serving/fuzz_cases.py (hostile, drawn once and stored)
plus valid and almost-valid predict bodies written here, sent as raw HTTP/1.1 (keep-alive, the
way load generators send them) to the `server` of tests/serving/conftest.py. Recording again
replaces the answers with what the current code says: do it only when an answer is meant to
change, and say so in the commit.
"""

import base64
import gzip
import json
import os
import sys
import warnings
import zlib

import numpy as np

from tests.serving import fuzz_cases

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "rest_answers.json")
RANDOM_CASES = 400


def http_bytes(method, path, body=b"", headers=()):
    """A keep-alive HTTP/1.1 request (HEAD asks to close: its answer has no body to read)."""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    if method != "GET" or body:
        head.append(f"Content-Length: {len(body)}")
    if method == "HEAD":
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def _image_bodies(rng):
    """Predict bodies around the integer fast path: spellings, ranges, shapes, formats."""
    img = lambda n: rng.randint(0, 256, [n, 28, 28, 1])
    one, three = img(1).tolist(), img(3).tolist()
    docs = [{"instances": one}, {"instances": three}, {"inputs": three},
            {"inputs": {"image": one}}, {"signature_name": "serving_default", "inputs": {"image": one}},
            {"instances": [{"image": i} for i in three]}, {"instances": one, "signature_name": 3},
            {"inputs": {"image": one}, "extra": [1] * 100}, {"instances": img(2).astype(float).tolist()}]
    bodies = [json.dumps(d).encode() for d in docs]
    bodies += [json.dumps(docs[0], separators=(",", ":")).encode(),
               json.dumps(docs[1], indent=1).encode(),
               json.dumps(docs[0]).replace(", ", ",  ", 3).encode()]
    for bad in ("256", "-1", "007", "1.5", "true", "null", '"7"', "9" * 19, "1e2", "[]"):
        text = json.dumps({"instances": one}).replace("[" + str(one[0][5][5][0]) + "]",
                                                      "[" + bad + "]", 1)
        bodies.append(text.encode())
    ragged = [row[:27] if i == 3 else row for i, row in enumerate(one[0])]
    bodies += [json.dumps({"instances": [ragged]}).encode(),
               json.dumps({"instances": one}).encode()[:-40],
               json.dumps({"instances": one, "inputs": one}).encode(),
               b'{"instances": "\\u0000' + b'0"}', json.dumps({"inputs": {"x": one}}).encode()]
    return bodies


def _valid_cases(rng):
    cases = []
    for body in _image_bodies(rng):
        for path in ("/v1/models/toy:predict", "/v1/models/toy/versions/1:predict"):
            cases.append(("POST", path, body, ["Content-Type: application/json"]))
    image = rng.randint(0, 256, [1, 28, 28, 1])
    infer = {"inputs": [{"name": "image", "shape": [1, 28, 28, 1], "datatype": "UINT8",
                         "data": image.reshape(-1).tolist()}]}
    cases += [("POST", "/v2/models/toy/infer", json.dumps(infer).encode(), []),
              ("POST", "/v2/models/toy/versions/1/infer", json.dumps(
                  {**infer, "outputs": [{"name": "digit"}]}).encode(), []),
              ("POST", "/v1/models/tab:predict", json.dumps({"instances": [
                  {"age": 30.5, "city": "paris"}, {"age": 41, "city": {"b64": "cm9tZQ=="}}]}).encode(), []),
              ("POST", "/v1/models/tab:predict", json.dumps(
                  {"inputs": {"age": [1.0, 2.0], "city": ["a", "b"]}}).encode(), []),
              ("POST", "/v1/models/toy:predict", gzip.compress(json.dumps({"instances": image.tolist()}).encode()),
               ["Content-Encoding: gzip"])]
    for path in ("/v1/models/toy", "/v1/models/toy/versions/1", "/v1/models/toy/labels/canary",
                 "/v1/models/toy/versions/1/metadata", "/v1/models/tab/metadata", "/v2",
                 "/v2/health/ready", "/v2/models/toy", "/v2/models/toy/versions/2/ready",
                 "/v1/models/nope", "/v1/openapi.json"):
        cases.append(("GET", path, b"", []))
    return cases


def cases():
    """[(method, path, body bytes, extra header lines)] to record and replay."""
    rng = np.random.RandomState(24)
    out = _valid_cases(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hypothesis' .example() warns outside tests
        out += [fuzz_cases.rest_requests().example() for _ in range(RANDOM_CASES)]
    return out


def exchange(port, case):
    """(status, body bytes) of one case sent as raw HTTP."""
    method, path, body, headers = case
    status, _, payload = fuzz_cases.raw_http(port, http_bytes(method, path, body, headers))
    return status, payload


def load():
    """[(case, status, body bytes)] as recorded."""
    with open(DATA) as f:
        doc = json.load(f)
    dec = lambda text: zlib.decompress(base64.b64decode(text))
    return [((r["method"], r["path"], dec(r["body"]), r["headers"]), r["status"], dec(r["answer"]))
            for r in doc["exchanges"]]


def _packed(data):
    # zlib: the nesting bombs among the cases are 200 kB of brackets each.
    return base64.b64encode(zlib.compress(data, 9)).decode()


def record(port):
    rows = []
    for case in cases():
        status, payload = exchange(port, case)
        method, path, body, headers = case
        if path.startswith("/monitoring"):
            continue
        rows.append({"method": method, "path": path, "headers": headers,
                     "body": _packed(body), "status": status, "answer": _packed(payload)})
    with open(DATA, "w") as f:
        json.dump({"about": __doc__.split("\n\n")[0], "exchanges": rows}, f, indent=0)
    return len(rows)


def main():
    """Starts the conftest `server` configuration and records its answers."""
    import tempfile

    from tests.serving import conftest

    class _Factory:  # tmp_path_factory, outside pytest
        def mktemp(self, name):
            import pathlib

            return pathlib.Path(tempfile.mkdtemp(prefix=name))

    dirs = conftest.model_dirs.__wrapped__(_Factory())
    gen = conftest.server.__wrapped__(dirs, _Factory())
    srv = next(gen)
    try:
        print(f"recorded {record(srv.rest_port)} exchanges into {DATA}")
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
