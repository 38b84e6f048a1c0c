"""The fast lane of the REST transport: plain HTTP/1.1 POSTs read and answered by a bare asyncio
protocol, everything else handed to aiohttp on the same connection.

Measured with bench/serving.py on 2 cores (issue 24): aiohttp's request and response objects
cost about 30 µs of CPU per request, a bare `asyncio.Protocol` about 10 µs. A model server's
traffic is almost all of one kind, a keep-alive `POST` with a `Content-Length`, so that kind gets
the bare protocol; any request that is not plainly that (another method, `Transfer-Encoding`,
`Content-Encoding`, `Expect`, `Upgrade`, a `Connection` header other than keep-alive, a
duplicate or non-numeric `Content-Length`, a body over the limit, a header block over 8 kB or
with anything unusual in it, HTTP/1.0) makes the connection switch to aiohttp's handler, which
gets every byte of that request and all that follow. Answers and errors come from the same
`respond`, so both lanes give the same bodies (tests/serving/test_recorded_answers.py);
malformed HTTP, 413s and compressed bodies keep aiohttp's handling (tests/serving/test_hardening.py).

The hot path of every REST API request lives here, so that one predict passes through as few
files as it can (bench/trace_request.py):

- `respond(app, ...)` answers a request, errors included, for either lane.
- `scan` is the check the APIs run on a JSON body before parsing it, in linear time:
  `json.loads` recurses once per nesting level (2,000 levels: RecursionError) and numpy takes at
  most 64 dimensions, so a body nested deeper than `MAX_DEPTH` is refused up front. It runs at C
  speed (`bytes.translate` keeps quotes and brackets, numpy tells the brackets outside strings
  and sums them in fixed-size chunks): a few ms for a 30 MB body, whatever its shape. It also
  says whether the body holds a `true`/`false` outside strings, so that numeric inputs look for
  JSON booleans only when there are some (numpy would read `true` among numbers as 1).
- `await_future` is how a handler waits for a model call (a `concurrent.futures.Future` of the
  core) without holding a thread: concurrency costs no thread switches and no GIL convoy. (gRPC
  runs on grpcio's thread-pool server instead, see serving/transport/grpc_server.py; each of its
  threads waits for its batch itself.)

Example:
    >>> from serving.transport.fast_lane import read_head
    >>> read_head(b"POST /v1/models/m:predict HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 2")
    ('/v1/models/m:predict', 2, {'host': 'x', 'content-length': '2'})
    >>> read_head(b"GET /v1/models/m HTTP/1.1\\r\\nHost: x") is None   # aiohttp's
    True
    >>> scan(b'{"instances": [[1, 2], [3, true]], "s": "[[[[[["}')
    BodyScan(depth=3, has_bools=True)
    >>> scan(b"[" * 100 + b"]" * 100)
    Traceback (most recent call last):
    ...
    serving.errors.ServingError: JSON Parse error: nesting deeper than 64 levels
    >>> import asyncio, concurrent.futures
    >>> f = concurrent.futures.Future(); f.set_result(42)
    >>> asyncio.run(await_future(f, timeout_s=1.0))
    42
"""

import asyncio
import collections
import json
import socket
import threading
import time
import weakref

import numpy as np

from serving.errors import ServingError, error_from_exception, invalid_argument

MAX_HEAD = 8192
# Headers whose presence means more than "here is a body of Content-Length bytes".
_NOT_PLAIN = frozenset({"transfer-encoding", "content-encoding", "expect", "upgrade", "te",
                        "trailer"})
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
                   b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_VISIBLE = bytes(range(0x21, 0x7F))
_KEEPALIVE_S = 75.0  # aiohttp's keepalive_timeout: idle connections close after it


class Headers(dict):
    """Request headers by lower-case name, read case-insensitively (as aiohttp's CIMultiDict)."""

    def get(self, name, default=None):
        return dict.get(self, name.lower(), default)


def read_head(head):
    """(raw path, content length, Headers) of a plain HTTP/1.1 POST head (without its final
    blank line), or None when the request is anything else (aiohttp's to answer)."""
    line, _, rest = head.partition(b"\r\n")
    parts = line.split(b" ")
    if len(parts) != 3 or parts[0] != b"POST" or parts[2] != b"HTTP/1.1":
        return None
    target = parts[1]
    if target[:1] != b"/" or target.translate(None, _VISIBLE):
        return None
    headers = Headers()
    for raw in rest.split(b"\r\n") if rest else ():
        name, colon, value = raw.partition(b":")
        if not colon or not name or not _TOKEN.issuperset(name):
            return None
        key = name.decode("ascii").lower()
        if key in headers or key in _NOT_PLAIN:
            return None
        try:
            headers[key] = value.strip(b" \t").decode("ascii")
        except UnicodeDecodeError:
            return None
    length = headers.get("content-length")
    if length is None or not length.isdigit() or not length.isascii():
        return None
    if headers.get("connection", "keep-alive").lower() != "keep-alive":
        return None
    return target.decode("ascii"), int(length), headers


class _Date:
    """The Date header's value, formatted once a second."""

    def __init__(self):
        self._second, self._text = None, b""

    def __call__(self):
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._text = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)).encode()
        return self._text


_date = _Date()
_REASONS = {}


def response_bytes(status, ctype, payload, extra, server_name):
    """An HTTP/1.1 answer, headers as aiohttp writes them."""
    reason = _REASONS.get(status)
    if reason is None:
        import http

        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        reason = _REASONS[status] = reason.encode("latin-1")
    head = [b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nServer: %s\r\n"
            % (status, reason, ctype.encode("latin-1"), server_name)]
    for name, value in extra.items():
        head.append(f"{name}: {value}\r\n".encode("latin-1"))
    head.append(b"Content-Length: %d\r\nDate: %s\r\n\r\n" % (len(payload), _date()))
    return b"".join(head) + payload


class FastLane(asyncio.Protocol):
    """One connection: plain POSTs answered here, the rest of the connection aiohttp's.

    Args:
        server: serving.transport.http_server.HttpServer (its `app`, `max_body_bytes`,
            `_http` (aiohttp's protocol factory) and `_lanes`, the open connections).
    """

    def __init__(self, server):
        self._server = server
        self._buffer = bytearray()
        self._transport = None
        self._busy = False  # a request is being answered; later ones wait in the buffer
        self._closed = self._paused = False
        self.idle_since = 0.0

    def connection_made(self, transport):
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # as aiohttp does
        self._server._lanes.add(self)
        self.idle_since = self._server._loop.time()

    def connection_lost(self, exc):
        self._closed = True
        self._server._lanes.discard(self)

    def data_received(self, data):
        self._buffer += data
        if not self._busy:
            self._next()
        elif not self._paused and len(self._buffer) > self._server.max_body_bytes + MAX_HEAD:
            self._paused = True  # a client pipelining faster than it is answered waits
            self._transport.pause_reading()

    def close(self):
        self._transport.close()

    def close_if_idle(self, now):
        if not self._busy and not self._buffer and now - self.idle_since > _KEEPALIVE_S:
            self._transport.close()

    def _next(self):
        """Starts on the next whole request in the buffer, or hands the connection over."""
        buf = self._buffer
        end = buf.find(b"\r\n\r\n", 0, MAX_HEAD + 4)
        if end < 0:
            if len(buf) > MAX_HEAD:
                self._hand_over()
            return
        parsed = read_head(bytes(buf[:end]))
        if parsed is None or parsed[1] > self._server.max_body_bytes:
            self._hand_over()
            return
        path, length, headers = parsed
        start = end + 4
        if len(buf) < start + length:
            return  # the rest of the body is on its way
        body = bytes(buf[start:start + length])
        del buf[:start + length]
        self._busy = True
        asyncio.ensure_future(self._answer(path, body, headers))

    async def _answer(self, path, body, headers):
        try:
            status, ctype, payload, extra, close = await respond(
                self._server.app, "POST", path, body, headers)
        except BaseException:  # respond answers every error; this is shutdown or a bug
            self._transport.close()
            raise
        self._busy = False
        if self._closed:
            return
        self._transport.write(response_bytes(status, ctype, payload, extra,
                                             self._server.server_name))
        if close:
            self._transport.close()
            return
        self.idle_since = self._server._loop.time()
        if self._paused:
            self._paused = False
            self._transport.resume_reading()
        if self._buffer:
            self._next()

    def _hand_over(self):
        """aiohttp's handler takes the connection, starting with the buffered bytes."""
        self._server._lanes.discard(self)
        handler = self._server._http()
        self._transport.set_protocol(handler)
        handler.connection_made(self._transport)
        data, self._buffer = bytes(self._buffer), bytearray()
        if data:
            handler.data_received(data)


async def respond(app, method, raw_path, body, headers):
    """(status, content type, body, extra headers, close) of a request, errors included:
    what both the fast lane and aiohttp's handler answer."""
    try:
        status, ctype, payload, extra = await app.handle(method, raw_path, body, headers)
    except Exception as e:  # noqa: BLE001 - never let a request kill the connection
        err = error_from_exception(e)
        return (err.http_status, "application/json",
                json.dumps({"error": err.message}).encode(), {}, err.http_status == 413)
    return status, ctype, payload, extra, False


# --------------------------------------------------------------------------- JSON nesting

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


# --------------------------------------------------------------------------- waiting for the model

def _transfer(source, target):
    """Copies a finished concurrent Future into an asyncio Future (on the loop's thread)."""
    if target.done():  # timed out meanwhile
        return
    exc = source.exception()
    if exc is not None:
        target.set_exception(exc)
    else:
        target.set_result(source.result())


class _Waker:
    """Hands finished concurrent Futures to one loop, one wake-up for many.

    A batch finishes many requests at once; `call_soon_threadsafe` per request would write to the
    loop's self-pipe and run a callback each time. Here the first completion schedules a drain
    and the others only join its list.
    """

    def __init__(self, loop):
        self._loop = loop
        self._pending = []
        self._lock = threading.Lock()

    def post(self, source, target):
        with self._lock:
            self._pending.append((source, target))
            first = len(self._pending) == 1
        if first:
            try:
                self._loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # the loop closed at shutdown: nobody waits any more
                pass

    def _drain(self):
        with self._lock:
            items, self._pending = self._pending, []
        for source, target in items:
            _transfer(source, target)


_wakers = weakref.WeakKeyDictionary()


def _expire(target):
    if not target.done():
        target.set_exception(ServingError("DEADLINE_EXCEEDED", "Deadline exceeded"))


async def await_future(future, timeout_s=None):
    """Awaits a concurrent Future without a thread; DEADLINE_EXCEEDED after `timeout_s`.

    Unlike `asyncio.wrap_future`, a timeout never cancels the concurrent Future: a request
    already merged into a batch must not fail its neighbours.
    """
    loop = asyncio.get_running_loop()
    if future.done():
        return future.result()
    waker = _wakers.get(loop)
    if waker is None:
        waker = _wakers[loop] = _Waker(loop)
    target = loop.create_future()
    future.add_done_callback(lambda f: waker.post(f, target))
    timer = loop.call_later(timeout_s, _expire, target) if timeout_s else None
    try:
        return await target
    finally:
        if timer is not None:
            timer.cancel()
