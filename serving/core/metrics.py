"""Prometheus metrics of the server, exposed on the REST port when monitoring is enabled.

Names follow TF Serving's `:tensorflow:serving:` prefix. Each server owns its registry, so
several servers in one process (tests) do not mix their numbers.

Example:
    >>> from serving.core.metrics import Metrics
    >>> m = Metrics()
    >>> m.request("rest", "predict", "mnist", 1, "serving_default", "OK", 0.002)
    >>> m.batch_size("mnist", 1, "serving_default", 8)
    >>> b':tensorflow:serving:request_count_total{' in m.exposition()
    True
"""

import os

import prometheus_client as prom

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    """Request counts, errors, latencies and batch sizes per model, version and signature."""

    def __init__(self):
        self.registry = prom.CollectorRegistry(auto_describe=True)
        labels = ["protocol", "api", "model_name", "model_version", "signature_name"]
        self._requests = prom.Counter(
            ":tensorflow:serving:request_count", "Requests, by outcome (status: canonical code).",
            labels + ["status"], registry=self.registry)
        self._errors = prom.Counter(
            ":tensorflow:serving:request_error_count", "Failed requests.",
            labels + ["status"], registry=self.registry)
        self._latency = prom.Histogram(
            ":tensorflow:serving:request_latency_seconds", "End-to-end request latency.",
            labels, buckets=_LATENCY_BUCKETS, registry=self.registry)
        self._batch = prom.Histogram(
            ":tensorflow:serving:batch_size", "Examples per model call made by the batcher.",
            ["model_name", "model_version", "signature_name"], buckets=_BATCH_BUCKETS,
            registry=self.registry)
        # label values -> labelled children: `labels()` checks and joins its arguments on every
        # call (about half of a request's 10 us of metrics, measured); a dict hit does not.
        self._children = {}

    def request(self, protocol, api, model, version, signature, status, seconds):
        """Records one finished request (version/signature may be '' when never resolved)."""
        key = (protocol, api, model or "", "" if version is None else str(version),
               signature or "", status)
        children = self._children.get(key)
        if children is None:
            children = self._cache(key, (
                self._requests.labels(*key), self._errors.labels(*key) if status != "OK" else None,
                self._latency.labels(*key[:-1])))
        children[0].inc()
        if children[1] is not None:
            children[1].inc()
        children[2].observe(seconds)

    def batch_size(self, model, version, signature, size):
        key = ("batch", model, version, signature)
        child = self._children.get(key)
        if child is None:
            child = self._cache(key, self._batch.labels(model, str(version), signature))
        child.observe(size)

    def _cache(self, key, value):
        if len(self._children) >= 10000:  # names sent by clients are not bounded
            self._children.clear()
        self._children[key] = value
        return value

    def exposition(self):
        """The text exposition format (bytes). Under --num_workers (PROMETHEUS_MULTIPROC_DIR
        set before prometheus_client was imported) every worker writes its values to that
        folder and this sums them over all workers, whichever worker is asked."""
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            from prometheus_client import multiprocess

            registry = prom.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=directory)
            return prom.generate_latest(registry)
        return prom.generate_latest(self.registry)

    CONTENT_TYPE = prom.CONTENT_TYPE_LATEST
