"""REST predict bodies: JSON in, numpy arrays for the signature, JSON out.

The rules are TF Serving's (see its api_rest.md): row ("instances") and columnar ("inputs")
requests, `{"b64": ...}` for binary strings, outputs whose name ends in `_bytes` written back
as `{"b64": ...}`, NaN/Infinity accepted and written, numbers checked against the signature's
dtype (a string sent to a float input is an error, not a silent cast). `PredictBody` reads a
body once: the signature name at once (the model is resolved next), the tensors when the
signature's dtypes are known; image-like integer arrays go through serving/rest_v1/json_ints.py.

One addition to TF Serving's rules, for models that answer per token (text taggers): when
the signature has an output `sequence_length` ([batch] ints), a row-format answer keeps
only the first `sequence_length[i]` entries of example i in every output whose second
dimension the signature leaves open (`[-1, -1, ...]`: tokens, per-token tags and
probabilities), so each example comes back without the padding to the longest one.
Columnar answers stay tensors (padded, with `sequence_length` to read them).

Example:
    >>> import numpy as np
    >>> from tensorflow.core.framework import types_pb2
    >>> from serving.rest_v1.json_codec import PredictBody, json_to_ndarray, outputs_to_json
    >>> json_to_ndarray([[0.5, 1]], types_pb2.DT_FLOAT).dtype
    dtype('float32')
    >>> body = PredictBody(b'{"instances": [[1, 2]]}')
    >>> body.signature_name, body.inputs({"x": types_pb2.DT_FLOAT})["x"].tolist()
    ('', [[1.0, 2.0]])
    >>> body.answer({"digit": np.array([[0.25, 0.75]], np.float32), "digit_class": np.array([1])})
    {'predictions': [{'digit': [0.25, 0.75], 'digit_class': 1}]}
"""

import base64
import binascii
import json

import numpy as np
from tensorflow.core.framework import types_pb2

from serving.core.tensor_proto import NUMPY_DTYPES, dtype_name
from serving.errors import invalid_argument, unimplemented
from serving.rest_v1 import json_ints
from serving.transport.fast_lane import MAX_DEPTH, scan


def parse_object(body, scanned=False):
    """The JSON object of a request body; TF Serving's messages for anything else.

    The body is first scanned for its nesting depth (`serving.transport.fast_lane.scan`)
    unless the caller did (`scanned`)."""
    if not body:
        raise invalid_argument("JSON Parse error: The document is empty")
    if not scanned:
        scan(body)
    try:
        doc = json.loads(body)
    except RecursionError:  # not reached after the scan; kept so that it can never be a 500
        raise invalid_argument(
            f"JSON Parse error: nesting deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as e:
        raise invalid_argument(f"JSON Parse error: {e.msg} at offset: {e.pos}") from None
    except UnicodeDecodeError as e:
        raise invalid_argument(f"JSON Parse error: Invalid encoding in string. at offset: "
                               f"{e.start}") from None
    if not isinstance(doc, dict):
        raise invalid_argument(f"JSON Value: {json.dumps(doc)[:200]} Is not object")
    signature_name(doc)
    return doc


def signature_name(doc):
    sig = doc.get("signature_name", "")
    if not isinstance(sig, str):
        raise invalid_argument(
            f"JSON Value: {json.dumps(doc)[:200]} not formatted correctly. 'signature_name' key "
            "must be a string value.")
    return sig


class PredictBody:
    """A REST predict body, read once.

    Args:
        body: bytes. The HTTP request body.
    """

    def __init__(self, body):
        self._body = body
        self._bools = None  # whether the body holds true/false: read when the slow path needs it
        self._dense, depth = json_ints.loads_with_depth(body)
        if self._dense is not None and depth <= MAX_DEPTH and isinstance(
                self._dense.get("signature_name", ""), str):
            self._doc = None  # the body's nesting is within bounds: no need to scan it all
        else:
            self._bools = scan(body).has_bools  # raises first when nested too deep
            self._dense, self._doc = None, parse_object(body, scanned=True)
        self.signature_name = (self._dense or self._doc).get("signature_name", "")
        self.format = None  # "row" or "columnar", once the inputs are read

    def inputs(self, input_dtypes):
        """{input name: ndarray} for a signature's {input name: DataType}."""
        got = json_ints.predict_inputs(self._dense, input_dtypes)
        if got is None:
            if self._doc is None:  # the fast reading was not the whole story
                self._bools = scan(self._body).has_bools
                self._doc = parse_object(self._body, scanned=True)
            got = predict_inputs_from_json(self._doc, input_dtypes, self._bools)
        inputs, self.format = got
        return inputs

    def answer(self, outputs, signature=None):
        """The response document for {output name: ndarray} of `signature` (a SignatureDef;
        it says which outputs are padded per token)."""
        return outputs_to_json(outputs, self.format, padded_per_token(signature, outputs))


# --------------------------------------------------------------------------- JSON -> numpy

def json_type(value):
    """The JSON type name TF Serving's messages use for a parsed value."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    return "Object"


def is_b64(value):
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _type_error(value, dtype_enum):
    return invalid_argument(
        f"JSON Value: {json.dumps(value)} Type: {json_type(value)} is not of expected "
        f"type: {dtype_name(dtype_enum)}")


_MISSING = object()


def _first_bad_leaf(value, ok):
    """Depth-first search for the first leaf for which ok(leaf) is False (error path only)."""
    if isinstance(value, list):
        for v in value:
            bad = _first_bad_leaf(v, ok)
            if bad is not _MISSING:
                return bad
        return _MISSING
    return _MISSING if ok(value) else value


def _shape_of(value):
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _decode_string_leaves(value, out):
    if isinstance(value, list):
        for v in value:
            _decode_string_leaves(v, out)
    elif isinstance(value, str):
        out.append(value.encode("utf-8"))
    elif is_b64(value):
        try:
            out.append(base64.b64decode(value["b64"], validate=True))
        except (binascii.Error, ValueError):
            raise invalid_argument("Unable to base64 decode") from None
    elif isinstance(value, dict):
        raise invalid_argument(
            f"JSON Value: {json.dumps(value)} not formatted correctly for base64 data")
    else:
        raise _type_error(value, types_pb2.DT_STRING)


def _not_dense(value):
    return invalid_argument(
        f"Encountered list at unexpected size: JSON value {json.dumps(value)[:200]} "
        "is not a dense tensor")


def _strings_to_ndarray(value):
    """Strings and {"b64": ...} objects (nested lists of them) -> object array of bytes."""
    shape = _shape_of(value)
    leaves = []
    _decode_string_leaves(value, leaves)
    arr = np.empty(len(leaves), dtype=object)
    arr[:] = leaves
    try:
        return arr.reshape(shape)
    except ValueError:
        raise _not_dense(value) from None


def json_to_ndarray(value, dtype_enum, may_hold_bools=True):
    """A JSON value (scalar or nested lists) -> numpy array of the signature's dtype.

    `may_hold_bools=False` (the body has no `true`/`false`) skips the search for booleans among
    numbers, which numpy would read as 0 and 1."""
    if dtype_enum == types_pb2.DT_STRING:
        return _strings_to_ndarray(value)
    target = NUMPY_DTYPES[dtype_enum]
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged nesting: numpy refuses inhomogeneous lists
        raise _not_dense(value) from None
    kind = arr.dtype.kind
    if target.kind == "f":
        accepted = kind in "iuf"
        ok = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    elif target.kind in "iu":
        accepted = kind in "iu"
        ok = lambda v: isinstance(v, int) and not isinstance(v, bool)
    elif target.kind == "b":
        accepted = kind == "b"
        ok = lambda v: isinstance(v, bool)
    else:
        raise unimplemented(f"Conversion of JSON Value to type: {dtype_name(dtype_enum)}")
    if not accepted:
        if arr.size == 0 and kind == "f":  # [] parses as float64: an empty tensor is fine
            return arr.astype(target)
        bad = _first_bad_leaf(value, ok)
        if bad is _MISSING:  # e.g. an object inside a list
            raise invalid_argument(
                f"JSON Value: {json.dumps(value)[:200]} is not of expected type: "
                f"{dtype_name(dtype_enum)}")
        raise _type_error(bad, dtype_enum)
    if may_hold_bools and target.kind in "iuf" and arr.size:
        bad = _first_bad_leaf(value, ok)
        if bad is not _MISSING:
            raise _type_error(bad, dtype_enum)
    if target.kind in "iu" and arr.size:
        info = np.iinfo(target)
        if arr.min() < info.min or arr.max() > info.max:
            raise invalid_argument(
                f"JSON Value out of range for type: {dtype_name(dtype_enum)}")
    return arr.astype(target, copy=False)


def predict_inputs_from_json(body, input_dtypes, may_hold_bools=True):
    """Reads a parsed REST predict body into ({input_name: ndarray}, "row"|"columnar").

    Args:
        body: dict. The parsed JSON request.
        input_dtypes: dict. Signature input name -> DataType enum.
        may_hold_bools: bool. False when the body has no `true`/`false` (see json_to_ndarray).
    """
    if not input_dtypes:
        raise invalid_argument(
            f"Failed to get input map for signature: {signature_name(body) or 'DEFAULT'}")
    has_instances, has_inputs = "instances" in body, "inputs" in body
    if has_instances and has_inputs:
        raise invalid_argument(
            f"JSON Value: {json.dumps(body)[:200]} Not formatted correctly expecting only one "
            "of 'inputs' or 'instances' keys to exist ")
    if has_instances:
        instances = body["instances"]
        if not isinstance(instances, list):
            raise invalid_argument(
                f"JSON Value: {json.dumps(body)[:200]} Excepting 'instances' to be an list/array")
        if not instances:
            raise invalid_argument(
                f"JSON Value: {json.dumps(body)[:200]} No values in 'instances' array")
        return _from_instances(instances, input_dtypes, may_hold_bools), "row"
    if has_inputs:
        return _from_inputs(body["inputs"], input_dtypes, may_hold_bools), "columnar"
    raise invalid_argument("Missing 'inputs' or 'instances' key")


def _is_object(value):
    return isinstance(value, dict) and not is_b64(value)


def _from_instances(instances, input_dtypes, bools):
    names = sorted(input_dtypes)
    if not _is_object(instances[0]):
        if len(names) > 1:
            raise invalid_argument(
                "instances is a plain list, but expecting list of objects as multiple input "
                "tensors required as per tensorinfo_map")
        for i, item in enumerate(instances):
            if _is_object(item):
                raise invalid_argument(
                    f"Expecting value/list but got object at item {i} of input list")
        return {names[0]: json_to_ndarray(instances, input_dtypes[names[0]], bools)}
    wanted = set(names)
    columns = {n: [] for n in names}
    for i, item in enumerate(instances):
        if not _is_object(item):
            raise invalid_argument(f"Expecting object but got list at item {i} of input list")
        if set(item) != wanted:
            raise invalid_argument(
                f"Failed to process element: {i} of 'instances' list. JSON object: "
                f"{json.dumps(item)[:200]} keys must be equal to: {','.join(names)}")
        for n in names:
            columns[n].append(item[n])
    return {n: json_to_ndarray(columns[n], input_dtypes[n], bools) for n in names}


def _from_inputs(value, input_dtypes, bools):
    names = sorted(input_dtypes)
    if not _is_object(value):
        if len(names) > 1:
            raise invalid_argument(
                "inputs is a plain value/list, but expecting an object as multiple input "
                "tensors required as per tensorinfo_map")
        return {names[0]: json_to_ndarray(value, input_dtypes[names[0]], bools)}
    out = {}
    for n in names:
        if n not in value:
            raise invalid_argument(f"Missing named input: {n} in 'inputs' object.")
        out[n] = json_to_ndarray(value[n], input_dtypes[n], bools)
    return out


# --------------------------------------------------------------------------- numpy -> JSON

def _to_jsonable(name, arr):
    arr = np.asarray(arr)
    if arr.dtype.kind in ("O", "S"):
        if name.endswith("_bytes"):
            enc = lambda b: {"b64": base64.b64encode(b).decode("ascii")}
        else:
            enc = lambda b: b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b)
        return np.vectorize(enc, otypes=[object])(arr).tolist() if arr.size else arr.tolist()
    if arr.dtype in (np.float16, np.float32):
        # Shortest float32 spelling (0.1, not 0.10000000149011612), as TF Serving writes it.
        return arr.astype(str).astype(np.float64).tolist()
    return arr.tolist()


SEQUENCE_LENGTH = "sequence_length"


def padded_per_token(signature, outputs):
    """Names of the outputs padded per token: those whose signature shape is [-1, -1, ...],
    when the answer has a `sequence_length` output; () otherwise."""
    if signature is None or SEQUENCE_LENGTH not in outputs:
        return ()
    names = []
    for name, info in signature.outputs.items():
        shape = info.tensor_shape
        if name in outputs and not shape.unknown_rank and len(shape.dim) >= 2 \
                and shape.dim[1].size == -1:
            names.append(name)
    return tuple(names)


def outputs_to_json(outputs, fmt, padded=()):
    """{output_name: ndarray} -> the REST predict response dict for format "row"/"columnar".

    With one output its name is dropped, as TF Serving does. In a row answer, the outputs
    named in `padded` are cut to each example's `sequence_length`.
    """
    names = sorted(outputs)
    if fmt == "columnar":
        if len(names) == 1:
            return {"outputs": _to_jsonable(names[0], outputs[names[0]])}
        return {"outputs": {n: _to_jsonable(n, outputs[n]) for n in names}}
    batch = None
    for n in names:
        shape = np.shape(outputs[n])
        if not shape:
            raise invalid_argument(f"Tensor name: {n} has no shape information ")
        if batch is not None and shape[0] != batch:
            raise invalid_argument(
                f"Tensor name: {n} has inconsistent batch size: {shape[0]} expecting: {batch}")
        batch = shape[0]
    columns = [_to_jsonable(n, outputs[n]) for n in names]
    if padded:
        lengths = np.asarray(outputs[SEQUENCE_LENGTH]).reshape(-1).tolist()
        columns = [[row[:int(k)] for row, k in zip(column, lengths)] if n in padded else column
                   for n, column in zip(names, columns)]
    if len(names) == 1:
        return {"predictions": columns[0]}
    return {"predictions": [dict(zip(names, row)) for row in zip(*columns)]}
