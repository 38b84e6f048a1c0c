"""The gRPC server every gRPC API runs on (TF Serving's services and KServe v2's, one port), and
`RpcServicer`, what their servicers share: one way to run an RPC, with its metrics and its
failure turned into the canonical gRPC code and TF Serving's message.

A thread-pool server on purpose: measured with bench/serving.py on 2 cores, the same servicers
on `grpc.aio` answered about half as many batch-1 Predict calls at concurrency 32 (its single
event-loop thread saturated), while each pool thread here waits for its batch without the GIL.

Example:
    >>> from serving.transport.grpc_server import make_grpc_server
    >>> server, port = make_grpc_server([], host="127.0.0.1", port=0)
    >>> port > 0
    True
    >>> _ = server.stop(None).wait()
"""

import concurrent.futures
import logging
import time

import grpc

from serving.errors import error_from_exception

log = logging.getLogger(__name__)

# TF Serving lifts gRPC's 4 MB default: images and big batches must fit.
MAX_MESSAGE = 2**31 - 1


class RpcServicer:
    """Base of our servicers.

    Args:
        service: what the servicer's RPCs call (an InferenceService, a KServeService).
        metrics: optional serving.core.metrics.Metrics.
    """

    def __init__(self, service, metrics=None):
        self.service, self.metrics = service, metrics

    def _run(self, api, model_name, context, fn):
        """`fn(info)`'s response; a failure aborts the RPC with its code and message. `info`
        (a dict) collects the version and signature the metrics are recorded under."""
        t0, info = time.perf_counter(), {}
        try:
            response = fn(info)
            code = "OK"
        except Exception as e:  # noqa: BLE001 - turned into a gRPC status, never a crash
            err = error_from_exception(e)
            if err.code == "INTERNAL":
                log.exception("Internal error in %s", api)
            code = err.code
            response = None
        if self.metrics is not None:
            self.metrics.request("grpc", api, model_name, info.get("version"),
                                 info.get("signature"), code, time.perf_counter() - t0)
        if response is None:
            context.abort(err.grpc_code, err.message)
        return response


def make_grpc_server(servicers, host="127.0.0.1", port=0, max_workers=64, reuse_port=False):
    """Returns (started grpc.Server, bound port).

    Args:
        servicers: [(add_<Service>Servicer_to_server function, servicer)].
        host: str. Address to bind.
        port: int. 0 picks a free port.
        max_workers: int. Threads answering RPCs.
        reuse_port: bool. Share the port with other processes (SO_REUSEPORT); off by default so
            that a busy port is an error, not a silent share.
    """
    server = grpc.server(
        concurrent.futures.ThreadPoolExecutor(max_workers=max_workers,
                                              thread_name_prefix="grpc"),
        options=[("grpc.max_receive_message_length", MAX_MESSAGE),
                 ("grpc.max_send_message_length", MAX_MESSAGE),
                 ("grpc.so_reuseport", int(reuse_port))])
    for add_to_server, servicer in servicers:
        add_to_server(servicer, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"Could not bind gRPC server to {host}:{port}")
    server.start()
    return server, bound
