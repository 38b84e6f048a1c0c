"""Tensors of the Open Inference Protocol (KServe v2): datatypes, JSON `data`, the binary
tensor extension, and gRPC `InferTensorContents` / raw contents, to and from numpy.

Example:
    >>> import numpy as np
    >>> from serving.kserve_v2.tensors import from_json, to_json
    >>> a = from_json({"name": "x", "datatype": "UINT8", "shape": [1, 2], "data": [3, 4]})
    >>> a.dtype.name, a.shape
    ('uint8', (1, 2))
    >>> to_json("y", np.array([[0.5, 1.0]], np.float32))
    {'name': 'y', 'datatype': 'FP32', 'shape': [1, 2], 'data': [0.5, 1.0]}
"""

import struct

import numpy as np
from tensorflow.core.framework import types_pb2

from serving.errors import invalid_argument

NUMPY_OF = {"BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32,
            "UINT64": np.uint64, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32,
            "INT64": np.int64, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
            "BYTES": np.object_}
_NAME_OF = {np.dtype(v): k for k, v in NUMPY_OF.items()}
DATATYPE_OF_ENUM = {  # TensorFlow DataType -> v2 datatype (for model metadata)
    types_pb2.DT_BOOL: "BOOL", types_pb2.DT_UINT8: "UINT8", types_pb2.DT_UINT16: "UINT16",
    types_pb2.DT_UINT32: "UINT32", types_pb2.DT_UINT64: "UINT64", types_pb2.DT_INT8: "INT8",
    types_pb2.DT_INT16: "INT16", types_pb2.DT_INT32: "INT32", types_pb2.DT_INT64: "INT64",
    types_pb2.DT_HALF: "FP16", types_pb2.DT_FLOAT: "FP32", types_pb2.DT_DOUBLE: "FP64",
    types_pb2.DT_STRING: "BYTES"}
# gRPC InferTensorContents field of each datatype.
CONTENTS_FIELD = {"BOOL": "bool_contents", "UINT8": "uint_contents", "UINT16": "uint_contents",
                  "UINT32": "uint_contents", "UINT64": "uint64_contents", "INT8": "int_contents",
                  "INT16": "int_contents", "INT32": "int_contents", "INT64": "int64_contents",
                  "FP32": "fp32_contents", "FP64": "fp64_contents", "BYTES": "bytes_contents"}
MAX_ELEMENTS = 1 << 28  # a shape claiming more is refused before anything is allocated


def datatype_of(arr):
    name = _NAME_OF.get(arr.dtype) or ("BYTES" if arr.dtype.kind in "SUO" else None)
    if name is None:
        raise invalid_argument(f"Output dtype {arr.dtype.name} has no Open Inference datatype")
    return name


def check_shape(shape, name):
    """The shape as a list of ints >= 0; refuses anything else."""
    if not isinstance(shape, (list, tuple)) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise invalid_argument(f"Input '{name}': shape must be a list of integers >= 0, "
                               f"got {str(shape)[:100]}")
    if len(shape) > 64:
        raise invalid_argument(f"Input '{name}': at most 64 dimensions")
    size = nonzero = 1
    for d in shape:
        size *= d
        nonzero *= max(d, 1)
    # numpy refuses a shape whose dimensions multiply past its limit even when one is 0.
    if nonzero > MAX_ELEMENTS:
        raise invalid_argument(f"Input '{name}': shape {shape} holds too many elements")
    return list(shape), size


def _numpy_type(datatype, name):
    if datatype not in NUMPY_OF:
        raise invalid_argument(f"Input '{name}': unknown datatype {str(datatype)[:40]}; "
                               f"known: {', '.join(NUMPY_OF)}")
    return NUMPY_OF[datatype]


def _flatten(data):
    """Row-major leaves of nested lists (the protocol allows flat or nested `data`)."""
    if not isinstance(data, list):
        return [data]
    if not any(isinstance(x, list) for x in data):
        return data
    out = []
    for x in data:
        out.extend(_flatten(x))
    return out


def from_json(tensor, may_hold_bools=True):
    """An input tensor object of a REST infer request -> ndarray (`may_hold_bools=False`: the
    body has no JSON `true`/`false`, so none can hide among numbers)."""
    if not isinstance(tensor, dict):
        raise invalid_argument("Each entry of 'inputs' must be an object")
    name = tensor.get("name")
    if not isinstance(name, str):
        raise invalid_argument("Each input needs a 'name' string")
    dtype = _numpy_type(tensor.get("datatype"), name)
    shape, size = check_shape(tensor.get("shape"), name)
    if "data" not in tensor:
        raise invalid_argument(f"Input '{name}' has no 'data'")
    flat = _flatten(tensor["data"])
    if len(flat) != size:
        raise invalid_argument(f"Input '{name}': {len(flat)} values for shape {shape}")
    if dtype is np.object_:
        if not all(isinstance(v, str) for v in flat):
            raise invalid_argument(f"Input '{name}': BYTES data must be strings")
        arr = np.empty(size, object)
        arr[:] = [v.encode("utf-8") for v in flat]
        return arr.reshape(shape)
    kind = np.dtype(dtype).kind
    try:
        arr = np.asarray(flat)
    except (ValueError, OverflowError):
        arr = np.asarray(flat, dtype=object)
    # numpy reads [true, 2] as integers and [1, 2.5] as floats: the kinds must match exactly,
    # and booleans among numbers are looked for when the body holds any (`may_hold_bools`).
    wanted = {"b": "b", "i": "iu", "u": "iu", "f": "iuf"}[kind]
    if size and (arr.dtype.kind not in wanted or (
            kind != "b" and may_hold_bools and any(isinstance(v, bool) for v in flat))):
        what = "booleans" if kind == "b" else ("integers" if kind in "iu" else "numbers")
        raise invalid_argument(f"Input '{name}': {tensor['datatype']} data must be {what}")
    if kind in "iu" and size:
        info = np.iinfo(dtype)
        if arr.min() < info.min or arr.max() > info.max:
            raise invalid_argument(f"Input '{name}': values out of range for "
                                   f"{tensor['datatype']}")
    return arr.astype(dtype).reshape(shape)


def from_bytes(raw, datatype, shape, name):
    """Raw little-endian tensor bytes (binary extension, gRPC raw contents) -> ndarray."""
    dtype = _numpy_type(datatype, name)
    shape, size = check_shape(shape, name)
    if dtype is np.object_:
        items, pos = [], 0
        while pos < len(raw):
            if pos + 4 > len(raw):
                raise invalid_argument(f"Input '{name}': truncated BYTES element")
            (n,) = struct.unpack_from("<I", raw, pos)
            if pos + 4 + n > len(raw):
                raise invalid_argument(f"Input '{name}': truncated BYTES element")
            items.append(bytes(raw[pos + 4:pos + 4 + n]))
            pos += 4 + n
        if len(items) != size:
            raise invalid_argument(f"Input '{name}': {len(items)} BYTES elements for shape {shape}")
        arr = np.empty(size, object)
        arr[:] = items
        return arr.reshape(shape)
    dtype = np.dtype(dtype).newbyteorder("<")
    if len(raw) != size * dtype.itemsize:
        raise invalid_argument(f"Input '{name}': {len(raw)} bytes of data for shape {shape} of "
                               f"{datatype} ({size * dtype.itemsize} expected)")
    return np.frombuffer(raw, dtype).astype(dtype.newbyteorder("="), copy=False).reshape(shape)


def to_bytes(arr):
    """ndarray -> raw little-endian bytes of the binary extension / gRPC raw contents."""
    if arr.dtype.kind in "SUO":
        parts = []
        for v in arr.reshape(-1):
            b = v if isinstance(v, bytes) else str(v).encode("utf-8")
            parts += [struct.pack("<I", len(b)), b]
        return b"".join(parts)
    return np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes()


def to_json(name, arr):
    """An output ndarray -> a REST output tensor object (flat row-major `data`)."""
    datatype = datatype_of(arr)
    if datatype == "BYTES":
        data = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                for v in arr.reshape(-1)]
    elif arr.dtype in (np.float16, np.float32):
        data = arr.reshape(-1).astype(str).astype(np.float64).tolist()  # shortest spelling
    else:
        data = arr.reshape(-1).tolist()
    return {"name": name, "datatype": datatype, "shape": list(arr.shape), "data": data}


def from_contents(tensor, name):
    """A gRPC InferInputTensor with `contents` -> ndarray."""
    dtype = _numpy_type(tensor.datatype, name)
    shape, size = check_shape(list(tensor.shape), name)
    field = CONTENTS_FIELD.get(tensor.datatype)
    if field is None:
        raise invalid_argument(f"Input '{name}': {tensor.datatype} needs raw_input_contents")
    values = getattr(tensor.contents, field)
    if len(values) != size:
        raise invalid_argument(f"Input '{name}': {len(values)} values for shape {shape}")
    if dtype is np.object_:
        arr = np.empty(size, object)
        arr[:] = list(values)
        return arr.reshape(shape)
    try:
        return np.array(values, dtype=dtype).reshape(shape)
    except OverflowError:
        raise invalid_argument(f"Input '{name}': values out of range for {tensor.datatype}") from None
