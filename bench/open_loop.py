"""An open-loop HTTP load generator (wrk2-style): requests leave at a fixed rate whatever the
server does, and each latency is counted from the moment its request was due, so a stalled
server shows up as latency instead of as fewer requests sent (no coordinated omission).

    python bench/open_loop.py --port 8501 --path /v1/models/cnn:predict --body body.json \
        --rate 1000 --seconds 5                     # prints one JSON line

Used by bench/serving_peers.py for its latency-vs-throughput curves. `--procs` processes each
send `rate / procs` requests per second over at most `--connections / procs` keep-alive
connections (HTTP/1.1, one request in flight per connection); a request whose time has come
while every connection is busy waits for one, and that wait is part of its latency. Requests
not answered within `--drain` seconds after the last one was due count as timed out.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time


def request_bytes(port, path, body):
    """The bytes of one keep-alive HTTP/1.1 POST of `body` (bytes) to `path`."""
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def exchange(reader, writer, request):
    """Sends one request on a keep-alive connection and reads its whole answer; True when the
    answer is a 200. Also bench/serving.py's closed-loop REST driver."""
    writer.write(request)
    status = await reader.readline()
    headers = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in headers.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status.split(b" ", 2)[1:2] == [b"200"]


async def _run(port, request, rate, seconds, connections, start_at, drain):
    idle = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies, errors = [], [0]

    async def one(due):
        conn = await idle.get()
        try:
            ok = await exchange(*conn, request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors[0] += 1
            conn = await asyncio.open_connection("127.0.0.1", port)
            ok = None
        idle.put_nowait(conn)
        if ok:
            latencies.append((due, time.time()))
        elif ok is False:
            errors[0] += 1

    await asyncio.sleep(max(0.0, start_at - time.time()))
    tasks, n = [], int(rate * seconds)
    for i in range(n):
        due = start_at + i / rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(due)))
    done, pending = await asyncio.wait(tasks, timeout=max(0.1, start_at + seconds + drain - time.time()))
    for t in pending:
        t.cancel()
    return latencies, errors[0], len(pending), n


def _worker(args, request, rate, connections, start_at, queue):
    result = asyncio.run(_run(args.port, request, rate, args.seconds, connections, start_at,
                              args.drain))
    queue.put(result)


def run(port, path, body, rate, seconds, connections=256, procs=2, drain=5.0):
    """{"rate", "achieved", "p50", "p90", "p99", "p999" (ms), "errors", "timeouts", "sent"} of one
    open-loop run at `rate` requests/s."""
    args = argparse.Namespace(port=port, seconds=seconds, drain=drain)
    request = request_bytes(port, path, body)
    ctx = multiprocessing.get_context("spawn")  # never fork a process holding TensorFlow
    queue = ctx.Queue()
    start_at = time.time() + 1.0 + 0.002 * connections  # connections opened before the clock
    workers = [ctx.Process(target=_worker, daemon=True,
                           args=(args, request, rate / procs, max(1, connections // procs),
                                 start_at, queue)) for _ in range(procs)]
    for w in workers:
        w.start()
    results = [queue.get(timeout=seconds + drain + 120) for _ in workers]
    for w in workers:
        w.join(10)
    import numpy as np

    pairs = np.concatenate([np.asarray(r[0], np.float64).reshape(-1, 2) for r in results])
    lat = (pairs[:, 1] - pairs[:, 0]) * 1000
    timeouts = sum(r[2] for r in results)
    # Throughput: answers finished while requests were still being sent (the drain after it
    # would flatter a saturated server).
    answered = int(np.count_nonzero(pairs[:, 1] <= start_at + seconds))
    pct = (lambda q: float(np.percentile(lat, q)) if len(lat) else float("inf"))
    # A request that never came back is slower than any that did: it ranks above them.
    ranked = lambda q: pct(q) if timeouts <= (1 - q / 100) * (len(lat) + timeouts) else float("inf")
    return {"rate": rate, "achieved": answered / seconds, "p50": ranked(50), "p90": ranked(90),
            "p99": ranked(99), "p999": ranked(99.9), "errors": sum(r[1] for r in results),
            "timeouts": timeouts, "sent": sum(r[3] for r in results)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--body", required=True, help="File holding the request body.")
    p.add_argument("--rate", type=float, required=True, help="Requests per second.")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--connections", type=int, default=256)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--drain", type=float, default=5.0)
    args = p.parse_args(argv)
    with open(args.body, "rb") as f:
        body = f.read()
    print(json.dumps(run(args.port, args.path, body, args.rate, args.seconds, args.connections,
                         args.procs, args.drain)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
