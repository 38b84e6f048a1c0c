"""Dynamic batching: concurrent small requests merged into one model call.

Semantics follow TF Serving's `BatchingParameters`: a batch closes when it holds
`max_batch_size` examples or when its oldest request waited `batch_timeout_micros`;
`num_batch_threads` batches run at once; at most `max_enqueued_batches` batches wait;
`allowed_batch_sizes` pads a batch (repeating its first row) up to the next allowed size.
Only requests whose inputs share trailing shapes are merged (no padding of variable lengths);
a request larger than `max_batch_size` runs on its own, unbatched.

Example:
    >>> import numpy as np
    >>> from serving.core.batching import BatchOptions, BatchScheduler
    >>> double = lambda inputs: {"y": inputs["x"] * 2}
    >>> scheduler = BatchScheduler(double, BatchOptions(max_batch_size=8, timeout_s=0.001))
    >>> scheduler.submit({"x": np.array([1.0, 2.0])}).result()["y"].tolist()
    [2.0, 4.0]
    >>> scheduler.close()
"""

import collections
import concurrent.futures
import dataclasses
import os
import threading
import time

import numpy as np

from serving.errors import ServingError, invalid_argument, unavailable


@dataclasses.dataclass
class BatchOptions:
    """Batching knobs, in TF Serving's meaning (defaults as tensorflow_model_server's)."""

    max_batch_size: int = 1000
    timeout_s: float = 0.0
    max_enqueued_batches: int = 10
    num_batch_threads: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    allowed_batch_sizes: tuple = ()

    @classmethod
    def from_proto(cls, params):
        """From a `BatchingParameters` message (see serving/protos.py); unset fields keep defaults."""
        opts = cls()
        if params.HasField("max_batch_size"):
            opts.max_batch_size = params.max_batch_size.value
        if params.HasField("batch_timeout_micros"):
            opts.timeout_s = params.batch_timeout_micros.value / 1e6
        if params.HasField("max_enqueued_batches"):
            opts.max_enqueued_batches = params.max_enqueued_batches.value
        if params.HasField("num_batch_threads"):
            opts.num_batch_threads = params.num_batch_threads.value
        opts.allowed_batch_sizes = tuple(params.allowed_batch_sizes)
        opts.validate()
        return opts

    def validate(self):
        if self.max_batch_size < 1 or self.num_batch_threads < 1:
            raise ValueError("max_batch_size and num_batch_threads must be >= 1")
        sizes = list(self.allowed_batch_sizes)
        if sizes and (sizes != sorted(sizes) or sizes[-1] != self.max_batch_size):
            # The same rule TF Serving enforces at start-up.
            raise ValueError("allowed_batch_sizes must be increasing and end with max_batch_size")


class _Task:
    __slots__ = ("inputs", "size", "key", "future", "t0")

    def __init__(self, inputs, size, key):
        self.inputs, self.size, self.key = inputs, size, key
        self.future = concurrent.futures.Future()
        self.t0 = time.monotonic()


class BatchScheduler:
    """Queues requests for one (servable version, signature) and runs them in batches.

    Args:
        run_fn: callable. {input: ndarray with batch dim} -> {output: ndarray with batch dim}.
        options: BatchOptions.
        on_batch: optional callable(batch_size) called once per model call (for metrics).
    """

    def __init__(self, run_fn, options, on_batch=None):
        self._run_fn, self._opts, self._on_batch = run_fn, options, on_batch
        self._queue = collections.deque()
        self._queued = 0  # examples waiting
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [threading.Thread(target=self._loop, daemon=True, name="batch-worker")
                         for _ in range(options.num_batch_threads)]
        for t in self._threads:
            t.start()

    def submit(self, inputs, executor=None):
        """Enqueues one request; returns a Future of its outputs.

        A request that cannot be batched (empty, or larger than `max_batch_size`) runs on its
        own: on `executor` when given (an event loop must not block), else in the caller.
        """
        first = next(iter(inputs.values()))
        size = first.shape[0] if first.ndim else 0
        for name, arr in inputs.items():
            if arr.ndim == 0 or arr.shape[0] != size:
                raise invalid_argument(
                    "Batching Run() input tensors must have equal 0th-dimension size")
        if size == 0 or size > self._opts.max_batch_size:
            return self._run_now(inputs, executor)
        key = tuple((n, a.shape[1:], a.dtype.str) for n, a in sorted(inputs.items()))
        task = _Task(inputs, size, key)
        with self._cond:
            if self._closed:  # the version was unloaded after the caller picked it
                return self._run_now(inputs, executor)
            limit = self._opts.max_enqueued_batches * self._opts.max_batch_size
            if self._queued + size > limit:
                raise unavailable("The batch scheduling queue to which this task was submitted "
                                  "is full")
            was_empty, was_short = not self._queue, self._queued < self._opts.max_batch_size
            self._queue.append(task)
            self._queued += size
            # Wake a worker only when it has something new to do: start collecting a batch (the
            # queue was empty) or take it now (it just became full). Waking one on every submit
            # cost a thread switch and a GIL hand-off per request.
            if was_empty or (was_short and self._queued >= self._opts.max_batch_size):
                self._cond.notify()
        return task.future

    def _run_now(self, inputs, executor=None):
        if executor is not None:
            return executor.submit(self._run_fn, inputs)
        future = concurrent.futures.Future()
        try:
            future.set_result(self._run_fn(inputs))
        except Exception as e:  # noqa: BLE001 - delivered to the caller
            future.set_exception(e)
        return future

    def close(self):
        """Stops the workers once the queue is drained; later submits run unbatched."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _take_batch(self):
        """Waits for work; returns a list of tasks (empty when closed and drained)."""
        opts = self._opts
        with self._cond:
            while not self._queue:
                if self._closed:
                    return []
                self._cond.wait()
            while self._queued < opts.max_batch_size and not self._closed:
                # The oldest waiting request sets the deadline (another worker may have taken
                # the one that was first when this wait began).
                remaining = self._queue[0].t0 + opts.timeout_s - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
                if not self._queue:
                    return []
            key = self._queue[0].key
            batch, total, keep = [], 0, collections.deque()
            while self._queue:
                task = self._queue.popleft()
                if task.key == key and total + task.size <= opts.max_batch_size:
                    batch.append(task)
                    total += task.size
                else:
                    keep.append(task)
            keep.extend(self._queue)
            self._queue = keep
            self._queued -= total
            if self._queue:
                self._cond.notify()  # another worker can start on the rest
            return batch

    def _loop(self):
        while True:
            batch = self._take_batch()
            if not batch:
                with self._cond:
                    if self._closed and not self._queue:
                        return
                continue
            self._run_batch(batch)

    def _run_batch(self, batch):
        try:
            names = list(batch[0].inputs)
            if len(batch) == 1:
                merged = batch[0].inputs
            else:
                merged = {n: np.concatenate([t.inputs[n] for t in batch]) for n in names}
            total = sum(t.size for t in batch)
            padded = self._padded_size(total)
            if padded > total:
                merged = {n: np.concatenate([a, np.repeat(a[:1], padded - total, axis=0)])
                          for n, a in merged.items()}
            if self._on_batch:
                self._on_batch(padded)
            outputs = self._run_fn(merged)
            if len(batch) == 1 and padded == total:
                batch[0].future.set_result(outputs)
                return
            for name, arr in outputs.items():
                if np.ndim(arr) == 0 or arr.shape[0] != padded:
                    raise ServingError("INTERNAL", f"Batched output {name} has no batch dimension")
            offset = 0
            for t in batch:
                t.future.set_result({n: a[offset:offset + t.size] for n, a in outputs.items()})
                offset += t.size
        except Exception as e:  # noqa: BLE001 - every waiting request gets the error
            for t in batch:
                if not t.future.done():
                    t.future.set_exception(e)

    def _padded_size(self, total):
        for size in self._opts.allowed_batch_sizes:
            if size >= total:
                return size
        return total
