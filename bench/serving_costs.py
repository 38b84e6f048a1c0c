#!/usr/bin/env python
"""The per-request costs behind the serving figures, measured in one process.

    python bench/serving_costs.py

Prints, for a batch-1 REST predict body of one 28x28 uint8 image: the time to parse it with
`json.loads` + `np.asarray` and with our integer-array fast path; and for the benchmark CNN
SavedModel (the one `bench/serving.py` serves): the time of one `serving_default` call at batch
1 and batch 32, from which the fixed cost per model call and the cost per example follow; and
the time a big body holds the REST event loop while it is read (per MB), and the time to refuse
a 1 MB body of nested brackets.
Medians of repeated runs; other jobs on the machine move the absolute numbers.
"""

import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def median_us(fn, repeats=7, number=200):
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(runs)


def main():
    image = np.random.default_rng(0).integers(0, 256, (1, 28, 28, 1)).astype(np.uint8)
    parse_costs(image)
    big_body_costs()
    model_call_costs(image)


def parse_costs(image):
    """A batch-1 image body parsed by `json.loads` + `np.asarray` and by our fast path."""
    from serving.rest_v1.json_ints import loads as loads_with_dense_ints

    body = json.dumps({"instances": image.tolist()}).encode()
    plain = median_us(lambda: np.asarray(json.loads(body)["instances"], np.uint8))
    fast = median_us(lambda: loads_with_dense_ints(body))
    assert loads_with_dense_ints(body) is not None, "the fast path refused a plain image body"
    print(f"parse one 28x28 image body: json.loads + np.asarray {plain:7.1f} us, "
          f"fast path {fast:7.1f} us ({plain / fast:.1f}x)")


def big_body_costs():
    """Big bodies: the time each one holds the REST event loop, per MB of body; and the time
    to refuse a 1 MB body of nested brackets."""
    from tensorflow.core.framework import types_pb2

    from serving.transport.fast_lane import scan
    from serving.rest_v1.json_codec import PredictBody

    rng = np.random.default_rng(0)
    bodies = {
        "floats (ordinary reader)": (json.dumps({"instances": rng.random((2000, 784)).astype(
            np.float32).tolist()}).encode(), types_pb2.DT_FLOAT),
        "uint8 images (fast path)": (json.dumps({"instances": rng.integers(
            0, 256, (1000, 28, 28, 1)).tolist()}).encode(), types_pb2.DT_UINT8),
        "uint8 images, 2 spaces (ordinary)": (json.dumps({"instances": rng.integers(
            0, 256, (1000, 28, 28, 1)).tolist()}, indent=2).encode(), types_pb2.DT_UINT8),
    }
    for name, (big, dtype) in bodies.items():
        start = time.perf_counter()
        PredictBody(big).inputs({"image": dtype})
        seconds = time.perf_counter() - start
        print(f"read a {len(big) / 1e6:.1f} MB body of {name}: {seconds * 1000:.0f} ms, "
              f"{seconds * 1000 / (len(big) / 1e6):.0f} ms per MB")
    nested = b'{"instances": ' + b"[" * 500_000 + b"1" + b"]" * 500_000 + b"}"
    start = time.perf_counter()
    try:
        scan(nested)
    except Exception:  # noqa: BLE001 - refused, as it must be
        pass
    print(f"refuse a 1 MB body of nested brackets: {(time.perf_counter() - start) * 1000:.1f} ms")


def model_call_costs(image):
    """One `serving_default` call of the benchmark CNN at batch 1 and 32: the fixed cost per
    call and the cost per example."""
    import tensorflow as tf

    from serving.testing import write_cnn_saved_model

    path = write_cnn_saved_model(tempfile.mkdtemp())
    fn = tf.saved_model.load(path).signatures["serving_default"]
    x1 = tf.constant(image)
    x32 = tf.constant(np.repeat(image, 32, axis=0))
    fn(image=x1), fn(image=x32)  # warm up
    t1 = median_us(lambda: fn(image=x1), number=100)
    t32 = median_us(lambda: fn(image=x32), number=30)
    per_example = (t32 - t1) / 31
    print(f"model call: batch 1 {t1 / 1000:.3f} ms, batch 32 {t32 / 1000:.3f} ms -> "
          f"about {(t1 - per_example) / 1000:.3f} ms fixed per call + "
          f"{per_example / 1000:.3f} ms per example")


if __name__ == "__main__":
    main()
