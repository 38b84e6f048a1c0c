"""Hostile requests for the fuzz tests and `bench/fuzz.py`: hypothesis strategies over REST
bodies, paths and headers and over gRPC PredictRequests, and a raw HTTP/1.1 exchange that can
send what urllib refuses to (bad request lines, lying Content-Length, broken gzip).

Every case targets the toy models of tests/serving/conftest.py (`toy`: uint8 image
[-1, 28, 28, 1] plus tf.Example signatures; `tab`: float `age` and string `city`).
"""

import gzip
import json
import socket

import numpy as np
from hypothesis import strategies as st
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2

# gRPC codes a malformed request may get; anything else (INTERNAL, UNKNOWN, ...) is a bug.
CLIENT_CODES = {"OK", "INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION",
                "RESOURCE_EXHAUSTED", "OUT_OF_RANGE"}


def raw_http(port, request, timeout=10):
    """Sends raw request bytes; returns (status, headers dict, body bytes) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed before an answer: {data[:200]!r}")
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, v in
                   (line.split(":", 1) for line in lines[1:] if ":" in line)}
        length = int(headers.get("content-length", 0))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, headers, body[:length]


def read_answer(reader):
    """(status, body bytes) of one answer read from a socket file (keep-alive: Content-Length)."""
    status = int(reader.readline().split(b" ", 2)[1])
    length = 0
    while True:
        line = reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, reader.read(length)


def http_request(method, path, body=b"", headers=()):
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}",
            "Connection: close", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


# --------------------------------------------------------------------------- REST
_json_scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
                 | st.floats(allow_nan=True) | st.text(max_size=8))
json_values = st.recursive(
    _json_scalars, lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.sampled_from(["image", "age", "city", "b64", "x", ""]), inner,
                      max_size=3), max_leaves=30)


@st.composite
def image_like(draw):
    """Almost an image: right or wrong sizes, values, nesting and types."""
    h = draw(st.sampled_from([28, 27, 1, 0]))
    w = draw(st.sampled_from([28, 3, 0]))
    c = draw(st.sampled_from([1, 2]))
    value = draw(st.sampled_from([0, 255, 256, -1, 1.5, True, "7", None]))
    image = np.full([h, w, c], 0, np.int64).tolist()
    if h and w:
        image[draw(st.integers(0, h - 1))][draw(st.integers(0, w - 1))][0] = value
    return image


predict_docs = st.one_of(
    st.fixed_dictionaries({"instances": st.lists(image_like(), max_size=3)}),
    st.fixed_dictionaries({"inputs": st.one_of(image_like(), st.fixed_dictionaries(
        {"image": st.lists(image_like(), max_size=2)}))}),
    st.fixed_dictionaries({"signature_name": json_values, "instances": json_values}),
    st.fixed_dictionaries({"inputs": json_values}, optional={"instances": json_values}),
    st.fixed_dictionaries({"instances": st.lists(st.fixed_dictionaries(
        {"age": json_values, "city": json_values}), max_size=3)}),
    st.fixed_dictionaries({"examples": st.lists(st.dictionaries(
        st.sampled_from(["image", "age"]), json_values, max_size=2), max_size=3)},
        optional={"context": json_values, "signature_name": st.sampled_from(
            ["classify_digit", "regress_brightness", "serving_default", ""])}),
    st.fixed_dictionaries({"inputs": st.lists(st.fixed_dictionaries(
        {"name": st.sampled_from(["image", "age", "city", "x"]),
         "shape": st.one_of(st.just([1, 28, 28, 1]), st.lists(st.integers(-2, 30), max_size=4),
                            json_values),
         "datatype": st.sampled_from(["UINT8", "FP32", "BYTES", "BOOL", "INT64", "X"]),
         "data": st.one_of(st.just(np.zeros(784, int).tolist()), json_values)},
        optional={"parameters": st.fixed_dictionaries(
            {"binary_data_size": st.one_of(st.integers(-1, 1000), json_values)})}), max_size=3)},
        optional={"outputs": st.lists(st.fixed_dictionaries(
            {"name": st.sampled_from(["digit", "nope", "brightness"])},
            optional={"parameters": json_values}), max_size=3),
                  "parameters": json_values}),
    json_values,
)


@st.composite
def rest_bodies(draw):
    """A body: a JSON document, maybe mangled at the byte level, deeply nested or compressed."""
    body = json.dumps(draw(predict_docs), allow_nan=True).encode()
    kind = draw(st.sampled_from(["plain", "plain", "cut", "flip", "nest", "garbage"]))
    if kind == "cut" and body:
        body = body[:draw(st.integers(0, len(body) - 1))]
    elif kind == "flip" and body:
        i = draw(st.integers(0, len(body) - 1))
        body = body[:i] + bytes([draw(st.integers(0, 255))]) + body[i + 1:]
    elif kind == "nest":
        depth = draw(st.sampled_from([63, 65, 100, 2000, 100_000]))
        body = b'{"instances": ' + b"[" * depth + b"1" + b"]" * depth + b"}"
    elif kind == "garbage":
        body = draw(st.binary(max_size=64))
    return body


_paths = st.sampled_from([
    "/v1/models/toy:predict", "/v1/models/toy/versions/1:predict",
    "/v1/models/toy/labels/stable:predict", "/v1/models/tab:predict",
    "/v1/models/toy:classify", "/v1/models/toy:regress", "/v1/models/toy",
    "/v1/models/toy/metadata", "/v1/models/toy/versions/{v}", "/v1/models/toy/versions/{v}:predict",
    "/v1/models/toy/versions/{v}/metadata", "/v1/models/toy/versions/{v}:classify",
    "/v1/models/{n}", "/v1/models/{n}:predict", "/v1/models", "/v1/models/toy/labels/{n}",
    "/v1/{n}", "/{n}", "/v1/models/toy:{n}",
    "/v2/models/toy/infer", "/v2/models/toy/infer", "/v2/models/toy/versions/{v}/infer",
    "/v2/models/{n}/infer", "/v2/models/tab/infer", "/v2/models/toy/ready", "/v2/health/ready",
    "/v2/models/toy/versions/{v}", "/v2/{n}", "/v2",
])
_segments = st.one_of(st.text(st.characters(min_codepoint=33, max_codepoint=126,
                                            exclude_characters="/?#% "), min_size=1, max_size=12),
                      st.sampled_from(["%00", "%ff%fe", "..", "%2F", "9" * 25]))


@st.composite
def rest_requests(draw):
    """(method, path, body, extra header lines) of one REST request."""
    path = draw(_paths).format(v=draw(st.sampled_from(
        ["1", "0", "9223372036854775807", "9223372036854775808", "0" * 30 + "1", "9" * 5000])),
        n=draw(_segments))
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "HEAD"]))
    body = draw(rest_bodies()) if method != "GET" else b""
    headers = []
    encoding = draw(st.sampled_from([None, None, "gzip", "gzip-broken", "deflate", "br", "x"]))
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "gzip-broken":
        body, encoding = gzip.compress(body)[:-4] + b"xx", "gzip"
    elif encoding == "deflate":
        import zlib

        body = zlib.compress(body)
    if encoding:
        headers.append(f"Content-Encoding: {encoding}")
    if path.startswith("/v2") and draw(st.booleans()):  # the binary tensor extension
        body += draw(st.binary(max_size=800))
        headers.append(f"Inference-Header-Content-Length: "
                       f"{draw(st.sampled_from([len(body), 0, 10**9, -1, 'x']))}")
    headers.append("Content-Type: " + draw(st.sampled_from(
        ["application/json", "text/plain", "application/json; charset=latin-1"])))
    return method, path, body, headers


# --------------------------------------------------------------------------- gRPC
_dtypes = st.one_of(  # mostly the interesting ones
    st.sampled_from([types_pb2.DT_UINT8, types_pb2.DT_FLOAT, types_pb2.DT_STRING,
                     types_pb2.DT_RESOURCE, types_pb2.DT_VARIANT, types_pb2.DT_INVALID]),
    st.sampled_from(sorted(types_pb2.DataType.values()) + [999]))
_dims = st.lists(st.one_of(st.integers(-3, 30), st.sampled_from([28, 1, 20000, 2**40])),
                 max_size=5)


@st.composite
def tensor_protos(draw):
    proto = tensor_pb2.TensorProto(dtype=draw(_dtypes))
    for d in draw(_dims):
        proto.tensor_shape.dim.add(size=d)
    how = draw(st.sampled_from(["content", "values", "empty", "valid"]))
    if how == "content":
        proto.tensor_content = draw(st.binary(max_size=256))
    elif how == "values":
        n = draw(st.integers(0, 40))
        field = draw(st.sampled_from(["float_val", "int_val", "int64_val", "string_val",
                                      "bool_val", "double_val", "half_val"]))
        values = {"string_val": [b"x"] * n, "bool_val": [True] * n, "float_val": [0.5] * n,
                  "double_val": [0.5] * n}.get(field, [1] * n)
        getattr(proto, field).extend(values)
    elif how == "valid":
        proto.CopyFrom(tensor_pb2.TensorProto(
            dtype=types_pb2.DT_UINT8, tensor_content=bytes(784 * draw(st.integers(0, 3)))))
        n = len(proto.tensor_content) // 784
        for d in (n, 28, 28, 1):
            proto.tensor_shape.dim.add(size=d)
    return proto


@st.composite
def predict_requests(draw):
    req = predict_pb2.PredictRequest()
    req.model_spec.name = draw(st.sampled_from(["toy", "toy", "toy", "tab", "nope", ""]))
    which = draw(st.sampled_from(["none", "none", "version", "label"]))
    if which == "version":
        req.model_spec.version.value = draw(st.sampled_from([1, 2, 0, -1, 2**63 - 1]))
    elif which == "label":
        req.model_spec.version_label = draw(st.sampled_from(["stable", "nope", ""]))
    req.model_spec.signature_name = draw(st.sampled_from(
        ["", "", "serving_default", "tf_example", "classify_digit", "nope"]))
    for name in draw(st.lists(st.sampled_from(["image", "image", "examples", "age", "city", "x"]),
                              max_size=3, unique=True)):
        req.inputs[name].CopyFrom(draw(tensor_protos()))
    req.output_filter.extend(draw(st.lists(st.sampled_from(
        ["digit", "brightness", "nope", "digit"]), max_size=3)))
    return req


@st.composite
def infer_requests(draw):
    """KServe v2 ModelInferRequests (gRPC), mostly almost right."""
    from tritonclient.grpc import service_pb2

    req = service_pb2.ModelInferRequest(
        model_name=draw(st.sampled_from(["toy", "toy", "tab", "nope", ""])),
        model_version=draw(st.sampled_from(["", "", "1", "x", "-1", "9" * 30])))
    raw = draw(st.booleans())
    for _ in range(draw(st.integers(0, 3))):
        t = req.inputs.add(name=draw(st.sampled_from(["image", "age", "city", "x"])),
                           datatype=draw(st.sampled_from(["UINT8", "FP32", "BYTES", "X", ""])))
        t.shape.extend(draw(st.one_of(st.just([1, 28, 28, 1]), st.lists(
            st.integers(-3, 2**40), max_size=4))))
        if raw:
            req.raw_input_contents.append(draw(st.one_of(st.just(bytes(784)),
                                                         st.binary(max_size=64))))
        else:
            t.contents.uint_contents.extend(draw(st.lists(st.integers(0, 2**32 - 1),
                                                          max_size=20)))
    for name in draw(st.lists(st.sampled_from(["digit", "nope", "digit"]), max_size=2)):
        req.outputs.add(name=name)
    return req


def valid_rest_body():
    return json.dumps({"instances": np.zeros([1, 28, 28, 1], np.uint8).tolist()}).encode()
