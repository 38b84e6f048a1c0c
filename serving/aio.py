"""The asyncio side of the REST server: its event loop in a background thread, and the bridge
from the thread-based model calls (`concurrent.futures.Future`) to coroutines.

A REST request waits for its batch without holding a thread, so concurrency costs no thread
switches and no GIL convoy. (gRPC runs on grpcio's thread-pool server instead, see
serving/grpc_service.py; each of its threads waits for its batch itself.)

Example:
    >>> import asyncio, concurrent.futures
    >>> from serving.aio import EventLoopThread, await_future
    >>> loop = EventLoopThread().start()
    >>> f = concurrent.futures.Future(); f.set_result(42)
    >>> loop.run(await_future(f, timeout_s=1.0))
    42
    >>> loop.stop()
"""

import asyncio
import threading
import weakref

from serving.errors import ServingError


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
