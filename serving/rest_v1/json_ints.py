"""The fast reading of REST predict bodies made of big non-negative integer arrays (images).

`json.loads` builds a Python object per number and `np.asarray` walks them again (~0.3-0.5 ms
for one 28x28 image); here each such array literal is validated and converted by C-speed bytes
operations and `np.fromstring`, and only the small rest of the document goes through
`json.loads`. Anything unusual (whitespace other than ", ", backslashes, negative numbers,
floats, empty or ragged arrays, 19+ digit numbers, a literal anywhere but where a predict body
puts its tensors, a dtype or shape the signature does not take) makes a function here return
None: "not mine". The ordinary reader (serving/rest_v1/json_codec.py) then reads the whole body,
so answers and error messages are the same either way.

Example:
    >>> from tensorflow.core.framework import types_pb2
    >>> from serving.rest_v1 import json_ints
    >>> image = "[" + ", ".join(["[1, 2, 3]"] * 30) + "]"
    >>> doc = json_ints.loads(('{"inputs": {"x": %s}}' % image).encode())
    >>> inputs, fmt = json_ints.predict_inputs(doc, {"x": types_pb2.DT_UINT8})
    >>> inputs["x"].shape, inputs["x"].dtype.name, fmt
    ((30, 3), 'uint8', 'columnar')
    >>> json_ints.predict_inputs(doc, {"x": types_pb2.DT_STRING}) is None   # not mine
    True
"""

import json

import numpy as np

from serving.core.tensor_proto import NUMPY_DTYPES
from serving.errors import ServingError
from serving.transport.fast_lane import scan

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


_TOO_BIG = 10**18  # numpy saturates past int64; 18 digits always fit
MAX_DIMS = 32  # numpy's limit is 64; TensorFlow tensors this deep are not images
_SHAPES = {}  # skeleton -> shape or None: a server sees the same few shapes again and again


def _skeleton_shape(skeleton):
    """The shape of a dense array literal with this skeleton (brackets and commas, no spaces),
    or None when it is not the skeleton of a dense array."""
    shape = _SHAPES.get(skeleton, False)
    if shape is False:
        depth = len(skeleton) - len(skeleton.lstrip(b"["))
        if depth > MAX_DIMS:  # a nesting bomb, not a tensor: the depth check refuses it
            return None
        shape = _dense_shape(skeleton, depth)
        if shape is not None and _dense_skeleton(shape) != skeleton:
            shape = None
        if len(_SHAPES) >= 64:
            _SHAPES.clear()
        shape = _SHAPES[skeleton] = None if shape is None else tuple(shape)
    return shape


def _parse_int_literal(text):
    """int64 ndarray of a dense JSON array literal of non-negative integers, or None if the
    literal is anything else (then json.loads reads it)."""
    if len(text) - len(text.lstrip(b"[")) > MAX_DIMS:
        return None  # a nesting bomb: refused by the depth scan, before any work here
    spaces = text.count(b" ")
    if spaces:  # only right after commas (", "), as json.dumps writes them; never in a number
        if text.count(b", ") != spaces:
            return None
        text = text.translate(None, b" ")
    # Structure: with the digits removed, exactly the brackets and commas of a dense array (one
    # dict lookup for a skeleton seen before).
    skeleton = text.translate(None, _DIGITS)
    shape = _skeleton_shape(skeleton)
    if shape is None:
        return None
    # Numbers only inside the slots, one per slot (numpy refuses an empty one), no leading zero
    # (the digit count), at most 18 digits (past int64 numpy saturates).
    classes = text.translate(_DIGITS_TO_D)
    if b"]d" in classes or b"d[" in classes:
        return None
    try:
        values = np.fromstring(text.translate(None, b"[]"), dtype=np.int64, sep=",")
    except ValueError:  # numpy >= 2.3: an unreadable token is an error, not a short read
        return None
    count = 1
    for size in shape:
        count *= size
    if values.size != count or int(values.max()) >= _TOO_BIG:
        return None
    digits, k = count, 1
    while (values >= 10 ** k).any():
        digits += int(np.count_nonzero(values >= 10 ** k))
        k += 1
    if digits != len(text) - len(skeleton):  # "007" has more digits than 7
        return None
    return values.reshape(shape)


def loads(body):
    """json.loads(body) with large integer array literals as DenseInts; None if none apply or
    one sits anywhere but in `inputs` / `instances` (a predict body's tensors)."""
    return loads_with_depth(body)[0]


def loads_with_depth(body):
    """(`loads(body)`, a bound on the body's nesting depth) — the bound from the small rest of
    the document and the literals' dimensions, so that the whole body need not be scanned;
    (None, None) when `loads` gives None."""
    if b"\\" in body:
        return None, None
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
        return None, None
    pieces.append(body[pos:])
    rest = b"".join(pieces)
    try:
        depth = scan(rest).depth + max(a.ndim for a in arrays)
        doc = json.loads(rest)
    except (ValueError, UnicodeDecodeError, ServingError):
        return None, None
    used = [0]

    def take(v):
        if isinstance(v, str) and v[:1] == "\x00":
            used[0] += 1
            return DenseInts(arrays[int(v[1:])])
        return v

    if not isinstance(doc, dict):
        return None, None
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
        return None, None
    return doc, depth


def _as_dtype(value, dtype_enum):
    """DenseInts (or a list of them, one per instance) -> array of the signature's dtype, or
    None where the ordinary reader must decide (including every error)."""
    if isinstance(value, list):
        if not value or not all(isinstance(v, DenseInts) for v in value):
            return None
        parts = [v.array for v in value]
        if any(p.shape != parts[0].shape for p in parts):
            return None
        arr = np.stack(parts)
    elif isinstance(value, DenseInts):
        arr = value.array
    else:
        return None
    target = NUMPY_DTYPES[dtype_enum]
    if target.kind == "f":
        return arr.astype(target)
    if target.kind not in "iu":
        return None
    info = np.iinfo(target)
    if arr.min() < info.min or arr.max() > info.max:
        return None
    return arr.astype(target, copy=False)


def _all_converted(columns, input_dtypes):
    out = {n: _as_dtype(columns[n], input_dtypes[n]) for n in input_dtypes}
    return None if any(a is None for a in out.values()) else out


def predict_inputs(doc, input_dtypes):
    """({input name: ndarray}, "row"|"columnar") of a document from `loads`, when every
    tensor of it is a dense integer literal the signature takes as is; else None."""
    if doc is None or not input_dtypes or ("instances" in doc) == ("inputs" in doc):
        return None
    names = sorted(input_dtypes)
    if "inputs" in doc:
        value = doc["inputs"]
        if isinstance(value, DenseInts):
            columns = {names[0]: value} if len(names) == 1 else None
        elif isinstance(value, dict) and all(n in value for n in names):
            columns = value  # extra keys are ignored, as the ordinary reader does
        else:
            columns = None
        got = columns and _all_converted(columns, input_dtypes)
        return (got, "columnar") if got else None
    instances = doc["instances"]
    if isinstance(instances, DenseInts):
        got = len(names) == 1 and _all_converted({names[0]: instances}, input_dtypes)
        return (got, "row") if got else None
    if not isinstance(instances, list) or not instances:
        return None
    wanted = set(names)
    if not all(isinstance(item, dict) and set(item) == wanted for item in instances):
        return None
    got = _all_converted({n: [item[n] for item in instances] for n in names}, input_dtypes)
    return (got, "row") if got else None
