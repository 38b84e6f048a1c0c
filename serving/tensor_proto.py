"""numpy arrays <-> `TensorProto` (the gRPC wire format), and the dtype names TF Serving prints.

Example:
    >>> import numpy as np
    >>> from serving.tensor_proto import ndarray_to_tensor_proto, tensor_proto_to_ndarray
    >>> proto = ndarray_to_tensor_proto(np.array([[1, 2]], np.uint8))
    >>> tensor_proto_to_ndarray(proto).tolist()
    [[1, 2]]
"""

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

from serving.errors import invalid_argument

_NUMPY_OF = {}  # DataType enum -> numpy dtype (cached: tf.as_dtype is not free)
_ENUM_OF = {}  # numpy dtype -> DataType enum


def numpy_dtype(dtype_enum):
    """numpy dtype for a `tensorflow.DataType` enum value (object for DT_STRING)."""
    if dtype_enum not in _NUMPY_OF:
        _NUMPY_OF[dtype_enum] = np.dtype(tf.dtypes.as_dtype(dtype_enum).as_numpy_dtype)
    return _NUMPY_OF[dtype_enum]


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
