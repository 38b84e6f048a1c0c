"""The REST fast path for integer arrays gives exactly what the ordinary JSON reader gives,
or "not mine" (None)."""

import json

import numpy as np
import pytest
from tensorflow.core.framework import types_pb2

from serving.rest_v1 import json_ints
from serving.errors import ServingError
from serving.rest_v1.json_codec import predict_inputs_from_json

IMAGE = np.random.RandomState(0).randint(0, 256, [1, 28, 28, 1])
DTYPES = [types_pb2.DT_UINT8, types_pb2.DT_INT64, types_pb2.DT_FLOAT]


def _ordinary(body, dtypes):
    try:
        return predict_inputs_from_json(json.loads(body), dtypes)
    except (ServingError, ValueError):
        return None


def _fast(body, dtypes):
    return json_ints.predict_inputs(json_ints.loads(body), dtypes)  # None: not mine


@pytest.mark.parametrize("doc", [
    {"inputs": {"image": IMAGE.tolist()}},
    {"signature_name": "serving_default", "inputs": IMAGE.tolist()},
    {"instances": np.repeat(IMAGE, 3, 0).tolist()},
    {"instances": [{"image": IMAGE[0].tolist()}, {"image": IMAGE[0].tolist()}]},
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_path_equals_ordinary_path(doc, dtype):
    dtypes = {"image": dtype}
    for body in (json.dumps(doc).encode(), json.dumps(doc, separators=(",", ":")).encode()):
        fast, ordinary = _fast(body, dtypes), _ordinary(body, dtypes)
        assert fast is not None and ordinary is not None
        assert fast[1] == ordinary[1]
        a, b = fast[0]["image"], ordinary[0]["image"]
        assert a.dtype == b.dtype and a.shape == b.shape and (a == b).all()


@pytest.mark.parametrize("edit", [
    lambda t: t.replace("1", "01", 1),          # leading zero: invalid JSON
    lambda t: t.replace("]", "]1", 1),          # number outside a slot
    lambda t: t.replace("[", "[1", 3),          # number before a bracket
    lambda t: t.replace(", ", ",, ", 1),        # empty slot
    lambda t: t.replace("]]", "], []]", 1),     # ragged
    lambda t: t.replace("5", "300", 1),         # out of uint8 range
    lambda t: t.replace("5", "-5", 1),          # negative: left to json.loads
    lambda t: t.replace("5", "5.5", 1),         # float: left to json.loads
])
def test_fast_path_never_accepts_what_the_ordinary_path_rejects_or_reads_differently(edit):
    body = edit(json.dumps({"inputs": {"image": IMAGE.tolist()}})).encode()
    dtypes = {"image": types_pb2.DT_UINT8}
    fast = _fast(body, dtypes)
    if fast is not None:
        ordinary = _ordinary(body, dtypes)
        assert ordinary is not None and (fast[0]["image"] == ordinary[0]["image"]).all()


def test_array_inside_a_string_is_left_alone():
    literal = "[" + ",".join(["1"] * 40) + "]"
    body = json.dumps({"signature_name": literal, "inputs": IMAGE.tolist()}).encode()
    assert json_ints.loads(body)["signature_name"] == literal


@pytest.mark.parametrize("text, expected", [
    ("[[1, 2], [3, 4]]", [[1, 2], [3, 4]]),
    ("[[1,2],[3,4]]", [[1, 2], [3, 4]]),
    ("[[[1], [2], [3]]]", [[[1], [2], [3]]]),
    ("[[1,  2], [3, 4]]", None),    # two spaces: left to json.loads
    ("[[1 ,2], [3, 4]]", None),     # space before a comma
    ("[ [1, 2], [3, 4]]", None),    # space after a bracket
    ("[[1, 2], [3, 4, 5]]", None),  # ragged
    ("[[1, 2]5, [3, 4]]", None),    # number outside a slot, same skeleton
    ("[[1, 2], 5[3, 4]]", None),
    ("[[1, 2], [3, 04]]", None),    # leading zero
    ("[[], []]", None),
    ("[[1, 2], [3, 1234567890123456789]]", None),  # 19 digits
])
def test_int_literal_parser(text, expected):
    got = json_ints._parse_int_literal(text.encode())
    if expected is None:
        assert got is None
    else:
        assert got is not None and got.tolist() == expected


def test_candidate_runs_are_found_where_the_arrays_are():
    body = json.dumps({"a": "[1, 2]", "inputs": {"x": IMAGE.tolist(), "y": IMAGE[0].tolist()},
                       "b": [1, 2]}).encode()
    runs = list(json_ints._int_runs(body))
    assert [body[s:s + len(t)] for s, t in runs] == [t for _, t in runs]
    assert [json.loads(t) for _, t in runs] == [IMAGE.tolist(), IMAGE[0].tolist()]


def test_a_nesting_bomb_is_not_an_integer_literal():
    # The fast reading runs before the depth scan of the whole body: it must refuse the bomb
    # itself (the ordinary path then answers "nesting deeper than 64 levels").
    body = b'{"instances": ' + b"[" * 1000 + b"1" + b"]" * 1000 + b"}"
    assert json_ints.loads(body) is None


def test_the_depth_bound_covers_the_literals():
    doc, depth = json_ints.loads_with_depth(json.dumps({"inputs": {"x": IMAGE.tolist()}}).encode())
    assert doc is not None and depth == 2 + IMAGE.ndim
