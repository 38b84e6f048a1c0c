"""What a JSON request body may hold, checked in linear time before any parsing.

`json.loads` recurses once per nesting level (2,000 levels: RecursionError) and numpy takes at
most 64 dimensions, so a body nested deeper than `MAX_DEPTH` is refused up front. The scan
runs at C speed (`bytes.translate` keeps quotes and brackets, numpy tells the brackets
outside strings and sums them in fixed-size chunks): a few ms for a 30 MB body, whatever its shape. It also says
whether the body holds a `true`/`false` outside strings, so that numeric inputs look for JSON
booleans only when there are some (numpy would read `true` among numbers as 1).

Example:
    >>> from serving.json_limits import scan
    >>> scan(b'{"instances": [[1, 2], [3, true]], "s": "[[[[[["}')
    BodyScan(depth=3, has_bools=True)
    >>> scan(b"[" * 100 + b"]" * 100)
    Traceback (most recent call last):
    ...
    serving.errors.ServingError: JSON Parse error: nesting deeper than 64 levels
"""

import collections

import numpy as np

from serving.errors import invalid_argument

MAX_DEPTH = 64  # arrays and objects, the request's own levels included
_CHUNK = 1 << 20
_NOT_MARKS = bytes(c for c in range(256) if c not in b'"[]{}')
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")  # depth does not care which kind
_STEP = np.zeros(256, np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1
_QUOTE = ord('"')

BodyScan = collections.namedtuple("BodyScan", "depth has_bools")


def max_depth(marks):
    """Deepest nesting outside strings of a string of `"[]{}` only (escaped quotes removed)."""
    depth = deepest = 0
    in_string = 0
    for start in range(0, len(marks), _CHUNK):
        chunk = np.frombuffer(marks, np.uint8, min(_CHUNK, len(marks) - start), start)
        quotes = np.cumsum(chunk == _QUOTE, dtype=np.int32) + in_string
        steps = np.where(quotes & 1, 0, _STEP[chunk])  # brackets inside strings do not count
        running = np.cumsum(steps, dtype=np.int32) + depth
        deepest = max(deepest, int(running.max()))
        depth, in_string = int(running[-1]), int(quotes[-1]) & 1
    return deepest


def _small_depth(marks):
    """max_depth for a body with few strings: strip them, then peel innermost pairs one level
    per pass (C-speed replaces, at most MAX_DEPTH + 1 passes); None if that cannot tell."""
    outside = b"".join(marks.split(b'"')[0::2]) if b'"' in marks else marks
    outside = outside.translate(_AS_SQUARE)
    for level in range(MAX_DEPTH + 2):
        if not outside:
            return level
        shorter = outside.replace(b"[]", b"")
        if len(shorter) == len(outside):
            return None  # unbalanced: the exact scan decides
        outside = shorter
    return level


def scan(body):
    """BodyScan of a request body; raises INVALID_ARGUMENT when it nests too deep."""
    if b"\\" in body:
        # Escapes are valid only inside strings: drop escaped backslashes first, then escaped
        # quotes, as JSON reads them; what is left of each string is quote, text, quote.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = body.translate(None, _NOT_MARKS)
    small = len(marks) <= 1 << 14 and marks.count(b'"') <= 64
    depth = _small_depth(marks) if small else None
    if depth is None:
        depth = max_depth(marks)
    if depth > MAX_DEPTH:
        raise invalid_argument(f"JSON Parse error: nesting deeper than {MAX_DEPTH} levels")
    return BodyScan(depth, b"true" in body or b"false" in body)
