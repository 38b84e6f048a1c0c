"""Conversions between numpy arrays and the wire formats: TensorProto (gRPC) and JSON (REST).

The JSON rules are TF Serving's (see its api_rest.md): row ("instances") and columnar
("inputs") requests, `{"b64": ...}` for binary strings, outputs whose name ends in `_bytes`
written back as `{"b64": ...}`, NaN/Infinity accepted and written, numbers checked against the
signature's dtype (a string sent to a float input is an error, not a silent cast).

Example:
    >>> import numpy as np
    >>> from tensorflow.core.framework import types_pb2
    >>> from serving import tensor_codec as tc
    >>> proto = tc.ndarray_to_tensor_proto(np.array([[1, 2]], np.uint8))
    >>> tc.tensor_proto_to_ndarray(proto).tolist()
    [[1, 2]]
    >>> tc.json_to_ndarray([[0.5, 1]], types_pb2.DT_FLOAT).dtype
    dtype('float32')
    >>> tc.outputs_to_json({"digit": np.array([[0.25, 0.75]], np.float32),
    ...                     "digit_class": np.array([1])}, "row")
    {'predictions': [{'digit': [0.25, 0.75], 'digit_class': 1}]}
"""

import base64
import binascii
import json

import numpy as np
import tensorflow as tf
from tensorflow.core.example import example_pb2
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

from serving.errors import invalid_argument

_NUMPY_OF = {}  # DataType enum -> numpy dtype (cached: tf.as_dtype is not free)


def numpy_dtype(dtype_enum):
    """numpy dtype for a `tensorflow.DataType` enum value (object for DT_STRING)."""
    if dtype_enum not in _NUMPY_OF:
        _NUMPY_OF[dtype_enum] = np.dtype(tf.dtypes.as_dtype(dtype_enum).as_numpy_dtype)
    return _NUMPY_OF[dtype_enum]


def dtype_name(dtype_enum):
    """'float', 'string', 'uint8'... as TF's DataTypeString writes it."""
    return tf.dtypes.as_dtype(dtype_enum).name.replace("float32", "float").replace(
        "float64", "double")


# --------------------------------------------------------------------------- TensorProto

def ndarray_to_tensor_proto(arr):
    """numpy array -> TensorProto (numbers as tensor_content, strings as string_val)."""
    arr = np.asarray(arr)
    if arr.dtype.kind in ("O", "S", "U"):
        return tf.make_tensor_proto(arr)
    dtype = tf.dtypes.as_dtype(arr.dtype).as_datatype_enum
    shape = tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in arr.shape])
    return tensor_pb2.TensorProto(dtype=dtype, tensor_shape=shape,
                                  tensor_content=np.ascontiguousarray(arr).tobytes())


_ENUM_OF = {}  # numpy dtype -> DataType enum


def fill_tensor_proto(proto, arr):
    """Writes a numpy array into an (empty) TensorProto in place: no intermediate message."""
    arr = np.asarray(arr)
    if arr.dtype.kind in ("O", "S", "U"):
        proto.CopyFrom(tf.make_tensor_proto(arr))
        return proto
    enum = _ENUM_OF.get(arr.dtype)
    if enum is None:
        enum = _ENUM_OF[arr.dtype] = tf.dtypes.as_dtype(arr.dtype).as_datatype_enum
    proto.dtype = enum
    dims = proto.tensor_shape.dim
    for d in arr.shape:
        dims.add().size = d
    proto.tensor_content = np.ascontiguousarray(arr).tobytes()
    return proto


def tensor_proto_to_ndarray(proto):
    """TensorProto -> numpy array; raises ServingError on a malformed proto."""
    if proto.tensor_content and proto.dtype not in (types_pb2.DT_STRING, types_pb2.DT_INVALID):
        shape = [d.size for d in proto.tensor_shape.dim]
        try:
            flat = np.frombuffer(proto.tensor_content, dtype=numpy_dtype(proto.dtype))
            return flat.reshape(shape)
        except (ValueError, TypeError) as e:
            raise invalid_argument(f"tensor parsing error: {e}") from None
    try:
        return tf.make_ndarray(proto)
    except Exception as e:  # noqa: BLE001 - any decoding failure is the client's
        raise invalid_argument(f"tensor parsing error: {e}") from None


# --------------------------------------------------------------------------- JSON -> numpy

# Fast path for the common REST body: big non-negative integer arrays (images as uint8). `json.loads` builds
# a Python object per number and `np.asarray` walks them again (~0.3-0.5 ms for one 28x28
# image); here each such array literal is validated and converted by C-speed bytes operations
# and `np.fromstring`, and only the small rest of the document goes through `json.loads`.
# Anything unusual (whitespace other than ", ", backslashes, negative numbers, floats, empty
# or ragged arrays, 19+ digit numbers) keeps the literal for `json.loads`, and every error is re-derived on the
# ordinary path, so answers and error messages are the same either way.

# Bytes that may occur in an integer array literal; a run of 64+ of them starting with "[" is
# a candidate (found with bytes.translate/find: C speed, no per-character regex steps).
_RUN_CLASSES = bytes(97 if c in b"[]0123456789, " else 46 for c in range(256))  # "a" / "."
_MIN_RUN = 64


_DIGITS = b"0123456789"
_DIGITS_TO_D = bytes.maketrans(_DIGITS, b"d" * 10)


class DenseInts:
    """An integer array literal of a REST body, already parsed (int64 ndarray)."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array


class FastPathRefused(Exception):
    """The fast path does not handle this request; use the ordinary one."""


def _dense_skeleton(shape):
    inner = b""
    for size in reversed(shape):
        inner = b"[" + b",".join([inner] * size) + b"]"
    return inner


def _int_runs(body):
    """(start, literal) of each candidate integer array literal in `body`."""
    classes = body.translate(_RUN_CLASSES)
    pos, wanted = 0, b"a" * _MIN_RUN
    while True:
        i = classes.find(wanted, pos)
        if i < 0:
            return
        run_start = classes.rfind(b".", 0, i) + 1
        run_end = classes.find(b".", i)
        if run_end < 0:
            run_end = len(body)
        start = body.find(b"[", run_start, run_end)
        if start >= 0 and run_end - start >= _MIN_RUN:
            yield start, body[start:run_end].rstrip(b", ")
        pos = run_end


def _dense_shape(skeleton, depth):
    """The shape a dense array literal with this skeleton (digits removed) would have, read from
    its first element at each depth; None if it cannot be one. The caller checks the whole."""
    shape, sub_len = [], 0
    for j in range(1, depth + 1):  # innermost level first
        end = skeleton.find(b"]" * j)
        if end < 0:
            return None
        group_len = end + j - (depth - j)  # the first group of this level, brackets included
        count, rest = divmod(group_len - 1, sub_len + 1)
        if rest or count < 1:
            return None
        shape.append(count)
        sub_len = group_len
    shape.reverse()
    return shape


def _parse_int_literal(text):
    """int64 ndarray of a dense JSON array literal of non-negative integers, or None if the
    literal is anything else (then json.loads reads it)."""
    spaces = text.count(b" ")
    if spaces and spaces != text.count(b", "):  # a space anywhere but after a comma
        return None
    # Structure: with the digits removed, exactly the brackets and commas of a dense array.
    skeleton = text.translate(None, _DIGITS + b" ")
    depth = len(skeleton) - len(skeleton.lstrip(b"["))
    shape = _dense_shape(skeleton, depth)
    if shape is None or _dense_skeleton(shape) != skeleton:
        return None
    # Numbers only inside the slots, at most 18 digits (int64), one per slot, no leading zero.
    classes = text.translate(_DIGITS_TO_D)
    if b"]d" in classes or b"d[" in classes or b"d" * 19 in classes:
        return None
    try:
        values = np.fromstring(text.translate(None, b"[] "), dtype=np.int64, sep=",")
    except ValueError:  # numpy >= 2.3: an unreadable token is an error, not a short read
        return None
    if values.size != int(np.prod(shape)):
        return None
    length = len(text) - len(skeleton) - spaces  # digits in the text
    digits, k = values.size, 1
    while digits < length and (values >= 10 ** k).any():
        digits += int(np.count_nonzero(values >= 10 ** k))
        k += 1
    if digits != length:  # "007" has more digits than 7
        return None
    return values.reshape(shape)


def loads_with_dense_ints(body):
    """json.loads(body) with large integer array literals as DenseInts; None if none apply."""
    if b"\\" in body:
        return None
    pieces, arrays, pos = [], [], 0
    for start, text in _int_runs(body):
        if body.count(b'"', 0, start) % 2:  # inside a string
            continue
        arr = _parse_int_literal(text)
        if arr is None:
            continue
        pieces += [body[pos:start], b'"\\u0000%d"' % len(arrays)]
        arrays.append(arr)
        pos = start + len(text)
    if not arrays:
        return None
    pieces.append(body[pos:])
    try:
        doc = json.loads(b"".join(pieces))
    except (ValueError, UnicodeDecodeError):
        return None
    used = [0]

    def take(v):
        if isinstance(v, str) and v[:1] == "\x00":
            used[0] += 1
            return DenseInts(arrays[int(v[1:])])
        return v

    if not isinstance(doc, dict):
        return None
    if "inputs" in doc:
        v = doc["inputs"]
        doc["inputs"] = ({k: take(x) for k, x in v.items()} if isinstance(v, dict) else take(v))
    if "instances" in doc:
        v = doc["instances"]
        if isinstance(v, list):
            doc["instances"] = [{k: take(x) for k, x in item.items()} if isinstance(item, dict)
                                else item for item in v]
        else:
            doc["instances"] = take(v)
    if used[0] != len(arrays):  # a literal somewhere else: let json.loads see everything
        return None
    return doc


def _dense_to_ndarray(value, dtype_enum):
    """DenseInts (or a list of them, one per instance) -> array of the signature's dtype."""
    if isinstance(value, list):
        if not value or not all(isinstance(v, DenseInts) for v in value):
            raise FastPathRefused()
        parts = [v.array for v in value]
        if any(p.shape != parts[0].shape for p in parts):
            raise FastPathRefused()
        arr = np.stack(parts)
    else:
        arr = value.array
    target = numpy_dtype(dtype_enum)
    if target.kind == "f":
        return arr.astype(target)
    if target.kind not in "iu":
        raise FastPathRefused()
    info = np.iinfo(target)
    if arr.min() < info.min or arr.max() > info.max:
        raise FastPathRefused()  # the ordinary path words the error
    return arr.astype(target, copy=False)


def _json_type(value):
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


def _is_b64(value):
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _type_error(value, dtype_enum):
    return invalid_argument(
        f"JSON Value: {json.dumps(value)} Type: {_json_type(value)} is not of expected "
        f"type: {dtype_name(dtype_enum)}")


def _first_bad_leaf(value, ok):
    """Depth-first search for the first leaf for which ok(leaf) is False (error path only)."""
    if isinstance(value, list):
        for v in value:
            bad = _first_bad_leaf(v, ok)
            if bad is not _MISSING:
                return bad
        return _MISSING
    return _MISSING if ok(value) else value


_MISSING = object()


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
    elif _is_b64(value):
        try:
            out.append(base64.b64decode(value["b64"], validate=True))
        except (binascii.Error, ValueError):
            raise invalid_argument("Unable to base64 decode") from None
    elif isinstance(value, dict):
        raise invalid_argument(
            f"JSON Value: {json.dumps(value)} not formatted correctly for base64 data")
    else:
        raise _type_error(value, types_pb2.DT_STRING)


def json_to_ndarray(value, dtype_enum):
    """A JSON value (scalar or nested lists) -> numpy array of the signature's dtype."""
    if isinstance(value, DenseInts) or (isinstance(value, list) and value
                                        and isinstance(value[0], DenseInts)):
        return _dense_to_ndarray(value, dtype_enum)
    if dtype_enum == types_pb2.DT_STRING:
        shape = _shape_of(value)
        leaves = []
        _decode_string_leaves(value, leaves)
        arr = np.empty(len(leaves), dtype=object)
        arr[:] = leaves
        try:
            return arr.reshape(shape)
        except ValueError:
            raise invalid_argument(
                f"Encountered list at unexpected size: JSON value {json.dumps(value)[:200]} "
                "is not a dense tensor") from None
    target = numpy_dtype(dtype_enum)
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged nesting: numpy refuses inhomogeneous lists
        raise invalid_argument(
            f"Encountered list at unexpected size: JSON value {json.dumps(value)[:200]} "
            "is not a dense tensor") from None
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
        raise ServingUnimplemented(dtype_enum)
    if not accepted:
        if arr.size == 0 and kind == "f":  # [] parses as float64: an empty tensor is fine
            return arr.astype(target)
        bad = _first_bad_leaf(value, ok)
        if bad is _MISSING:  # e.g. an object inside a list
            raise invalid_argument(
                f"JSON Value: {json.dumps(value)[:200]} is not of expected type: "
                f"{dtype_name(dtype_enum)}")
        raise _type_error(bad, dtype_enum)
    if target.kind in "iu" and arr.size:
        info = np.iinfo(target)
        if arr.min() < info.min or arr.max() > info.max:
            raise invalid_argument(
                f"JSON Value out of range for type: {dtype_name(dtype_enum)}")
    return arr.astype(target, copy=False)


def ServingUnimplemented(dtype_enum):  # noqa: N802 - reads like a constructor
    from serving.errors import unimplemented
    return unimplemented(f"Conversion of JSON Value to type: {dtype_name(dtype_enum)}")


def predict_inputs_from_json(body, input_dtypes):
    """Reads a parsed REST predict body into ({input_name: ndarray}, "row"|"columnar").

    Args:
        body: dict. The parsed JSON request.
        input_dtypes: dict. Signature input name -> DataType enum.
    """
    has_instances, has_inputs = "instances" in body, "inputs" in body
    if has_instances and has_inputs:
        raise invalid_argument(
            f"JSON Value: {json.dumps(body)[:200]} Not formatted correctly expecting only one "
            "of 'inputs' or 'instances' keys to exist ")
    if has_instances:
        instances = body["instances"]
        if isinstance(instances, DenseInts):
            if len(input_dtypes) != 1:
                raise FastPathRefused()
            name = next(iter(input_dtypes))
            return {name: _dense_to_ndarray(instances, input_dtypes[name])}, "row"
        if not isinstance(instances, list):
            raise invalid_argument(
                f"JSON Value: {json.dumps(body)[:200]} Excepting 'instances' to be an list/array")
        if not instances:
            raise invalid_argument(
                f"JSON Value: {json.dumps(body)[:200]} No values in 'instances' array")
        return _from_instances(instances, input_dtypes), "row"
    if has_inputs:
        return _from_inputs(body["inputs"], input_dtypes), "columnar"
    raise invalid_argument("Missing 'inputs' or 'instances' key")


def _is_object(value):
    return isinstance(value, dict) and not _is_b64(value)


def _from_instances(instances, input_dtypes):
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
        return {names[0]: json_to_ndarray(instances, input_dtypes[names[0]])}
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
    return {n: json_to_ndarray(columns[n], input_dtypes[n]) for n in names}


def _from_inputs(value, input_dtypes):
    names = sorted(input_dtypes)
    if not _is_object(value):
        if len(names) > 1:
            raise invalid_argument(
                "inputs is a plain value/list, but expecting an object as multiple input "
                "tensors required as per tensorinfo_map")
        return {names[0]: json_to_ndarray(value, input_dtypes[names[0]])}
    out = {}
    for n in names:
        if n not in value:
            raise invalid_argument(f"Missing named input: {n} in 'inputs' object.")
        out[n] = json_to_ndarray(value[n], input_dtypes[n])
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


def outputs_to_json(outputs, fmt):
    """{output_name: ndarray} -> the REST predict response dict for format "row"/"columnar".

    With one output its name is dropped, as TF Serving does.
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
    if len(names) == 1:
        return {"predictions": columns[0]}
    return {"predictions": [dict(zip(names, row)) for row in zip(*columns)]}


# --------------------------------------------------------------------------- tf.Example

def _add_feature_value(name, value, feature):
    kind = feature.WhichOneof("kind")

    def need(k):
        if kind not in (None, k):
            raise invalid_argument(
                f"Unexpected element type in feature: {name} expecting type: "
                f"{ {'bytes_list': 'bytes', 'float_list': 'float', 'int64_list': 'int64'}[kind] }")
        return k

    if value is None or isinstance(value, list) or (isinstance(value, dict) and not _is_b64(value)):
        raise invalid_argument(
            f"Feature: {name} has element with unexpected JSON type: {_json_type(value)}")
    if isinstance(value, bool):
        need("int64_list")
        feature.int64_list.value.append(int(value))
    elif isinstance(value, int):
        need("int64_list")
        if not -(2**63) <= value < 2**63:
            raise invalid_argument(f"Feature: {name} has uint64 element. Only int64 is supported.")
        feature.int64_list.value.append(value)
    elif isinstance(value, float):
        need("float_list")
        feature.float_list.value.append(value)
    elif isinstance(value, str):
        need("bytes_list")
        feature.bytes_list.value.append(value.encode("utf-8"))
    else:  # b64 object
        need("bytes_list")
        try:
            feature.bytes_list.value.append(base64.b64decode(value["b64"], validate=True))
        except (binascii.Error, ValueError):
            raise invalid_argument("Unable to base64 decode") from None


def example_from_json(obj):
    """A JSON object {feature: value|list} -> tf.train.Example (TF Serving's typing rules)."""
    if not isinstance(obj, dict):
        raise invalid_argument(f"Example must be JSON object but got JSON {_json_type(obj)}")
    example = example_pb2.Example()
    for name, content in obj.items():
        feature = example.features.feature[name]
        for v in (content if isinstance(content, list) else [content]):
            _add_feature_value(name, v, feature)
    return example


def examples_from_json(body):
    """A REST classify/regress body -> tensorflow_serving `Input` proto."""
    from tensorflow_serving.apis import input_pb2

    request_input = input_pb2.Input()
    examples = body.get("examples")
    if "examples" not in body:
        raise invalid_argument(
            f"JSON Value: {json.dumps(body)[:200]} When method is classify, key 'examples' is "
            "expected and was not found")
    if not isinstance(examples, list):
        raise invalid_argument(
            f"JSON Value: {json.dumps(body)[:200]} Expecting 'examples' value to be an list/array")
    if not examples:
        raise invalid_argument(
            f"JSON Value: {json.dumps(body)[:200]} 'examples' value is an empty array")
    if "context" in body:
        target = request_input.example_list_with_context
        target.context.CopyFrom(example_from_json(body["context"]))
    else:
        target = request_input.example_list
    for obj in examples:
        target.examples.add().CopyFrom(example_from_json(obj))
    return request_input


def serialized_examples(request_input):
    """`Input` proto -> list of serialized tf.Example, context merged into each example."""
    kind = request_input.WhichOneof("kind")
    if kind == "example_list":
        out = [e.SerializeToString() for e in request_input.example_list.examples]
    elif kind == "example_list_with_context":
        # Concatenated serializations parse as a merge: the example's own features win.
        ctx = request_input.example_list_with_context.context.SerializeToString()
        out = [ctx + e.SerializeToString()
               for e in request_input.example_list_with_context.examples]
    else:
        out = []
    if not out:
        raise invalid_argument("Input is empty.")
    return out
