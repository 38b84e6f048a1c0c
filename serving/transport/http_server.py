"""The HTTP/1.1 transport of the REST APIs (TF Serving's v1 and KServe v2): aiohttp's low-level
server on an asyncio event loop in its own thread, hardened for hostile clients.

- Every answer, protocol errors included, is `{"error": ...}` JSON with our `Server` header
  (never aiohttp's text/plain page echoing the request bytes).
- The body is read in chunks and refused with 413 as soon as it passes `max_body_bytes`, before
  and after a `Content-Encoding: gzip|deflate` is inflated, and inflating stops at that limit too
  (a 1 MB gzip bomb never becomes 1 GB in memory).
- A plain keep-alive POST (nearly all of a model server's traffic) is read and answered by the
  fast lane (serving/transport/fast_lane.py); everything else by aiohttp, with the same answers.

Example:
    >>> import gzip
    >>> from serving.transport.http_server import inflate
    >>> inflate(gzip.compress(b'{"instances": [1]}'), "gzip", limit=100)
    b'{"instances": [1]}'
    >>> inflate(gzip.compress(bytes(1000)), "gzip", limit=100)
    Traceback (most recent call last):
    ...
    serving.errors.ServingError: Request body is larger than 100 bytes (--rest_api_max_body_bytes)
"""

import asyncio
import http
import json
import logging
import threading
import zlib

from aiohttp import web, web_protocol

from serving.errors import ServingError, error_from_exception, invalid_argument
from serving.transport.fast_lane import FastLane, respond

log = logging.getLogger(__name__)

SERVER_NAME = "MTLZooModelServer"
DEFAULT_MAX_BODY_BYTES = 32 << 20
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS,
          "deflate": 32 + zlib.MAX_WBITS}  # deflate: zlib-wrapped, or gzip sent under that name


def too_large(limit):
    return ServingError("RESOURCE_EXHAUSTED",
                        f"Request body is larger than {limit} bytes (--rest_api_max_body_bytes)",
                        http_status=413)


def inflate(data, encoding, limit):
    """Decompresses a request body, never producing more than `limit` + 1 bytes."""
    decompressor = zlib.decompressobj(_WBITS[encoding])
    try:
        out = decompressor.decompress(data, limit + 1)
    except zlib.error as e:
        raise invalid_argument(f"Could not decompress the {encoding} request body: {e}") from None
    if len(out) > limit:
        raise too_large(limit)
    if not decompressor.eof:
        raise invalid_argument(f"Could not decompress the {encoding} request body: it is truncated")
    return out


def json_response(status, message):
    return web.Response(status=status, body=json.dumps({"error": message}).encode(),
                        headers={"Content-Type": "application/json", "Server": SERVER_NAME})


class _Handler(web_protocol.RequestHandler):
    """aiohttp's connection handler, answering malformed HTTP in the API's own error shape."""

    def handle_error(self, request, status=500, exc=None, message=None):
        if status >= 500:
            log.error("HTTP error %d", status, exc_info=exc)
        else:
            log.debug("Malformed HTTP request: %s", message)
        phrase = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ \
            else "Error"
        resp = json_response(status, f"Malformed HTTP request ({status} {phrase})"
                             if status < 500 else "Internal server error")
        resp.force_close()
        return resp


class _Server(web.Server):
    def __call__(self):
        return _Handler(self, loop=self._loop, **self._kwargs)


class HttpServer:
    """Serves `app.handle(method, raw_path, body, headers)` -> (status, content type, body
    bytes, extra response headers).

    Args:
        app: an object with that coroutine (serving.rest_v1.api.RestApi).
        host: str. Address to bind.
        port: int. 0 picks a free port.
        max_body_bytes: int. Largest body, after decompression; 413 above it.
        loop_thread: optional EventLoopThread to run on (default: its own).
        reuse_port: bool. Bind with SO_REUSEPORT (several processes on one port).
    """

    def __init__(self, app, host="127.0.0.1", port=0, max_body_bytes=DEFAULT_MAX_BODY_BYTES,
                 loop_thread=None, reuse_port=False):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.server_name = SERVER_NAME.encode()
        self._loop_thread = (loop_thread or EventLoopThread("rest-loop")).acquire()
        self._loop = self._loop_thread.loop
        self._http = self._listener = self._sweeper = None
        self._lanes = set()  # connections still on the fast lane
        self.port = self._loop_thread.run(self._bind(host, port, reuse_port), timeout=30)

    async def _bind(self, host, port, reuse_port):
        # aiohttp's low-level server (no router or middlewares, one handler for every request)
        # behind the fast lane (serving/transport/fast_lane.py), which hands it every request
        # that is not a plain POST. auto_decompress off: `_body` inflates, bounded.
        self._http = _Server(self._handle, access_log=None, auto_decompress=False)
        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(lambda: FastLane(self), host, port,
                                                  backlog=1024, reuse_address=True,
                                                  reuse_port=reuse_port)
        self._sweeper = loop.call_later(10.0, self._sweep)
        return self._listener.sockets[0].getsockname()[1]

    def _sweep(self):
        """Closes fast-lane connections idle for longer than aiohttp's keep-alive timeout."""
        now = self._loop.time()
        for lane in list(self._lanes):
            lane.close_if_idle(now)
        self._sweeper = self._loop.call_later(10.0, self._sweep)

    async def _body(self, request):
        if request.method not in ("POST", "PUT", "PATCH"):
            return b""
        limit = self.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise too_large(limit)
        chunks, total = [], 0
        while True:
            chunk = await request.content.readany()
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise too_large(limit)
            chunks.append(chunk)
        body = b"".join(chunks)
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("", "identity"):
            return body
        if encoding not in _WBITS:
            raise invalid_argument(f"Unsupported Content-Encoding: {encoding[:100]}; "
                                   "use gzip, deflate or none")
        return inflate(body, encoding, limit)

    async def _handle(self, request):
        try:
            body = await self._body(request)
        except Exception as e:  # noqa: BLE001 - never let a request kill the connection
            err = error_from_exception(e)
            resp = json_response(err.http_status, err.message)
            if err.http_status == 413:
                resp.force_close()  # the rest of the body is not read
            return resp
        status, ctype, payload, extra, close = await respond(
            self.app, request.method, request.raw_path, body, request.headers)
        resp = web.Response(status=status, body=payload,
                            headers={"Content-Type": ctype, "Server": SERVER_NAME, **extra})
        if close:
            resp.force_close()
        return resp

    def stop(self):
        async def close():
            if self._sweeper is not None:
                self._sweeper.cancel()
            self._listener.close()
            for lane in list(self._lanes):
                lane.close()
            await self._listener.wait_closed()
            await self._http.shutdown(2.0)

        try:
            self._loop_thread.run(close(), timeout=10)
        finally:
            self._loop_thread.release()


# --------------------------------------------------------------------------- the event loop

class EventLoopThread:
    """An asyncio loop running forever in a daemon thread."""

    def __init__(self, name="serving-loop"):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._users = 0
        self._lock = threading.Lock()

    def _main(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self):
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def acquire(self):
        """Marks one more user of this loop (release() from the last one stops it)."""
        with self._lock:
            self._users += 1
        return self.start()

    def release(self):
        with self._lock:
            self._users -= 1
            last = self._users <= 0
        if last:
            self.stop()

    def run(self, coro, timeout=None):
        """Runs a coroutine on the loop from another thread and returns its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self):
        if self.loop.is_closed():
            return
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()
