"""numpy arrays <-> `TensorProto` (the gRPC wire format), and the dtype names TF Serving prints.

Example:
    >>> import numpy as np
    >>> from serving.core.tensor_proto import ndarray_to_tensor_proto, tensor_proto_to_ndarray
    >>> proto = ndarray_to_tensor_proto(np.array([[1, 2]], np.uint8))
    >>> tensor_proto_to_ndarray(proto).tolist()
    [[1, 2]]
    >>> proto.tensor_shape.dim[0].size = -1
    >>> tensor_proto_to_ndarray(proto)
    Traceback (most recent call last):
    ...
    serving.errors.ServingError: tensor parsing error: shape [-1, 2] has negative dimensions
"""

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2

from serving.errors import invalid_argument

_ENUM_OF = {}  # numpy dtype -> DataType enum


def _numpy_dtypes():
    table = {}
    for dtype_enum in types_pb2.DataType.values():
        try:
            table[dtype_enum] = np.dtype(tf.dtypes.as_dtype(dtype_enum).as_numpy_dtype)
        except (TypeError, KeyError):  # DT_INVALID, resources and variants: no numpy type
            pass
    return table


# DataType enum -> numpy dtype (object for DT_STRING), built once: `tf.as_dtype` is not free
# on the request path.
NUMPY_DTYPES = _numpy_dtypes()


def dtype_name(dtype_enum):
    """'float', 'string', 'uint8'... as TF's DataTypeString writes it."""
    return tf.dtypes.as_dtype(dtype_enum).name.replace("float32", "float").replace(
        "float64", "double")


def ndarray_to_tensor_proto(arr):
    """numpy array -> TensorProto (numbers as tensor_content, strings as string_val)."""
    return fill_tensor_proto(tensor_pb2.TensorProto(), arr)


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


# DataTypes a request tensor may have (DT_RESOURCE, DT_VARIANT and the *_REF types have no
# value a client can send); the `*_val` field that holds each kind's values.
_VALUE_FIELD = {
    types_pb2.DT_FLOAT: "float_val", types_pb2.DT_DOUBLE: "double_val",
    types_pb2.DT_INT32: "int_val", types_pb2.DT_UINT8: "int_val", types_pb2.DT_INT16: "int_val",
    types_pb2.DT_INT8: "int_val", types_pb2.DT_UINT16: "int_val", types_pb2.DT_INT64: "int64_val",
    types_pb2.DT_UINT32: "uint32_val", types_pb2.DT_UINT64: "uint64_val",
    types_pb2.DT_BOOL: "bool_val", types_pb2.DT_STRING: "string_val",
    types_pb2.DT_HALF: "half_val", types_pb2.DT_BFLOAT16: "half_val",
    types_pb2.DT_COMPLEX64: "scomplex_val", types_pb2.DT_COMPLEX128: "dcomplex_val",
}
# TensorFlow fills a tensor given fewer values than its shape (the last value repeated, or
# zeros): a few bytes can claim a huge tensor. Up to this many elements are filled.
MAX_FILLED_ELEMENTS = 1 << 20
_MAX_RANK = 64  # numpy's limit (TensorFlow's is 254)


def _parse_error(message):
    return invalid_argument(f"tensor parsing error: {message}")


def tensor_proto_to_ndarray(proto):
    """TensorProto -> numpy array; raises INVALID_ARGUMENT on a malformed proto.

    Checked before anything is allocated: the dtype has values a client can send, every
    dimension is >= 0, `tensor_content` holds exactly the shape's bytes, and a tensor filled
    from fewer values than its shape holds at most MAX_FILLED_ELEMENTS elements.
    """
    field = _VALUE_FIELD.get(proto.dtype)
    if field is None:
        raise _parse_error(f"unsupported dtype {types_pb2.DataType.Name(proto.dtype)}"
                           if proto.dtype in types_pb2.DataType.values() else
                           f"unknown dtype {proto.dtype}")
    shape = [d.size for d in proto.tensor_shape.dim]
    if proto.tensor_shape.unknown_rank:
        raise _parse_error("the tensor's shape has an unknown rank")
    if any(d < 0 for d in shape):
        raise _parse_error(f"shape {shape} has negative dimensions")
    if len(shape) > _MAX_RANK:
        raise _parse_error(f"shape has {len(shape)} dimensions; at most {_MAX_RANK} are supported")
    size = 1
    for d in shape:
        size *= d  # a Python int: no overflow
    if proto.tensor_content and proto.dtype != types_pb2.DT_STRING:
        dtype = NUMPY_DTYPES[proto.dtype]
        if len(proto.tensor_content) != size * dtype.itemsize:
            raise _parse_error(f"tensor_content holds {len(proto.tensor_content)} bytes; shape "
                               f"{shape} of {dtype.name} needs {size * dtype.itemsize}")
        return np.frombuffer(proto.tensor_content, dtype=dtype).reshape(shape)
    given = len(getattr(proto, field))
    if given > size:
        raise _parse_error(f"{given} values for shape {shape} of {size} elements")
    if given < size and size > MAX_FILLED_ELEMENTS:
        raise _parse_error(
            f"{given} values for shape {shape}: filling {size} elements from fewer values is "
            f"limited to {MAX_FILLED_ELEMENTS}")
    try:
        return tf.make_ndarray(proto)
    except Exception as e:  # noqa: BLE001 - any other decoding failure is the client's
        raise _parse_error(str(e)) from None
