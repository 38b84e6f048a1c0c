"""Dynamic batching: concurrent requests merge into few model calls."""

import threading
import time

import numpy as np
import pytest

from serving import protos
from serving.core.batching import BatchOptions, BatchScheduler
from serving.errors import ServingError


def counting_model(delay=0.01):
    calls = []

    def run(inputs):
        calls.append(len(inputs["x"]))
        time.sleep(delay)
        return {"y": inputs["x"] * 2, "n": np.full(len(inputs["x"]), len(inputs["x"]))}

    return run, calls


def test_concurrent_requests_are_merged_and_split_back():
    run, calls = counting_model()
    sched = BatchScheduler(run, BatchOptions(max_batch_size=16, timeout_s=0.05, num_batch_threads=1))
    results = [None] * 16

    def client(i):
        results[i] = sched.submit({"x": np.array([float(i)])}).result(10)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sched.close()
    assert [r["y"][0] for r in results] == [2.0 * i for i in range(16)]
    assert sum(calls) == 16 and len(calls) <= 3  # merged, not 16 calls
    assert max(calls) <= 16


def test_allowed_batch_sizes_pad_and_oversized_requests_run_alone():
    run, calls = counting_model(0)
    sched = BatchScheduler(run, BatchOptions(max_batch_size=8, allowed_batch_sizes=(4, 8)))
    out = sched.submit({"x": np.array([1.0, 2.0, 3.0])}).result(10)
    assert out["y"].tolist() == [2.0, 4.0, 6.0] and calls == [4]
    assert sched.submit({"x": np.arange(20.0)}).result(10)["y"].shape == (20,)
    sched.close()


def test_full_queue_is_unavailable_and_errors_reach_every_caller():
    gate = threading.Event()

    def blocked(inputs):
        gate.wait(10)
        raise ValueError("boom")

    sched = BatchScheduler(blocked, BatchOptions(max_batch_size=1, max_enqueued_batches=1,
                                                 num_batch_threads=1))
    first = sched.submit({"x": np.zeros(1)})
    time.sleep(0.1)  # the worker took `first`; the queue is empty again
    second = sched.submit({"x": np.zeros(1)})
    with pytest.raises(ServingError) as e:
        sched.submit({"x": np.zeros(1)})
    assert e.value.code == "UNAVAILABLE"
    gate.set()
    for f in (first, second):
        with pytest.raises(ValueError):
            f.result(10)
    sched.close()


def test_options_from_tf_serving_text_proto():
    opts = BatchOptions.from_proto(protos.parse_batching_parameters(
        "max_batch_size { value: 32 }\nbatch_timeout_micros { value: 1500 }\n"
        "num_batch_threads { value: 2 }\nallowed_batch_sizes: 16\nallowed_batch_sizes: 32\n"))
    assert (opts.max_batch_size, opts.timeout_s, opts.num_batch_threads, opts.allowed_batch_sizes) == (
        32, 0.0015, 2, (16, 32))
    with pytest.raises(ValueError):
        BatchOptions.from_proto(protos.parse_batching_parameters(
            "max_batch_size { value: 32 }\nallowed_batch_sizes: 16\n"))


def test_a_full_batch_runs_at_once_and_a_partial_one_at_its_timeout():
    # Workers are woken only when the queue gets its first request or becomes full: a full
    # batch must not wait for the (long) timeout, a partial one must not wait beyond it.
    run, calls = counting_model(0)
    sched = BatchScheduler(run, BatchOptions(max_batch_size=4, timeout_s=5.0, num_batch_threads=2))
    t0 = time.monotonic()
    futures = [sched.submit({"x": np.array([float(i)])}) for i in range(4)]
    assert [f.result(10)["y"][0] for f in futures] == [0.0, 2.0, 4.0, 6.0]
    assert time.monotonic() - t0 < 2.5 and calls == [4]
    sched.close()
    sched = BatchScheduler(run, BatchOptions(max_batch_size=4, timeout_s=0.2, num_batch_threads=2))
    t0 = time.monotonic()
    futures = [sched.submit({"x": np.array([float(i)])}) for i in range(6)]
    assert [f.result(10)["y"][0] for f in futures] == [2.0 * i for i in range(6)]
    assert time.monotonic() - t0 < 2.0 and sorted(calls[1:]) == [2, 4]
    sched.close()


def test_many_waiters_on_one_event_loop_all_get_their_own_result():
    # serving.aio hands a whole batch's results to the loop in one wake-up.
    import asyncio

    from serving.transport.fast_lane import await_future

    sched = BatchScheduler(lambda inputs: {"y": inputs["x"] + 1},
                           BatchOptions(max_batch_size=64, timeout_s=0.01, num_batch_threads=2))

    async def main():
        futures = [sched.submit({"x": np.array([float(i)])}) for i in range(200)]
        return await asyncio.gather(*(await_future(f, 10) for f in futures))

    results = asyncio.run(main())
    sched.close()
    assert [r["y"][0] for r in results] == [i + 1.0 for i in range(200)]
