"""The REST fast lane (serving/transport/fast_lane.py): which requests it takes, and a connection
that mixes them with requests it hands to aiohttp, pipelines, or trickles its bytes."""

import json
import socket
import time

import pytest

from serving.transport.fast_lane import read_head
from tests.serving import fuzz_cases, recorded
from tests.serving.conftest import image_batch

PLAIN = b"POST /v1/models/toy:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2"


def test_a_plain_post_is_read():
    path, length, headers = read_head(PLAIN + b"\r\nX-Custom:  a b \r\nContent-Type: text/plain")
    assert (path, length) == ("/v1/models/toy:predict", 2)
    assert headers.get("X-CUSTOM") == "a b" and headers.get("content-type") == "text/plain"


@pytest.mark.parametrize("head", [
    PLAIN.replace(b"POST", b"GET"), PLAIN.replace(b"HTTP/1.1", b"HTTP/1.0"),
    PLAIN.replace(b"Content-Length: 2", b"Transfer-Encoding: chunked"),
    PLAIN + b"\r\nContent-Encoding: gzip", PLAIN + b"\r\nExpect: 100-continue",
    PLAIN + b"\r\nContent-Length: 2", PLAIN.replace(b": 2", b": -2"), PLAIN.replace(b": 2", b": 2x"),
    PLAIN + b"\r\nConnection: close", PLAIN + b"\r\n folded", PLAIN + b"\r\nBad Name: 1",
    PLAIN + b"\r\nX: \xff", PLAIN.replace(b"/v1", b"v1"), PLAIN.replace(b"toy", b"t y"),
    PLAIN.replace(b"Content-Length: 2", b"Host2: y"),
])
def test_anything_else_is_aiohttps(head):
    assert read_head(head) is None


def _predict_bytes(version=1):
    body = json.dumps({"instances": image_batch(1).tolist()}).encode()
    return recorded.http_bytes("POST", f"/v1/models/toy/versions/{version}:predict", body)


def _brightness(payload):
    return json.loads(payload)["predictions"][0]["brightness"]


def test_one_connection_fast_then_handed_over_then_on(server):
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=30) as sock:
        reader = sock.makefile("rb")
        sock.sendall(_predict_bytes(1))
        status, payload = fuzz_cases.read_answer(reader)
        assert status == 200 and _brightness(payload) == pytest.approx(0.0)
        sock.sendall(b"GET /v1/models/toy/versions/2 HTTP/1.1\r\nHost: x\r\n\r\n")  # aiohttp's
        status, payload = fuzz_cases.read_answer(reader)
        assert status == 200 and json.loads(payload)["model_version_status"][0]["version"] == "2"
        sock.sendall(_predict_bytes(2))  # the connection stays with aiohttp, same answers
        status, payload = fuzz_cases.read_answer(reader)
        assert status == 200 and _brightness(payload) == pytest.approx(1.0)


def test_pipelined_requests_are_answered_in_order(server):
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=30) as sock:
        reader = sock.makefile("rb")
        sock.sendall(b"".join(_predict_bytes(v) for v in (1, 2, 1, 2)))
        got = [_brightness(fuzz_cases.read_answer(reader)[1]) for _ in range(4)]
        assert got == pytest.approx([0.0, 1.0, 0.0, 1.0])


def test_a_request_trickled_in_pieces(server):
    data = _predict_bytes(1)
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(data), 700):
            sock.sendall(data[i:i + 700])
            time.sleep(0.002)
        status, payload = fuzz_cases.read_answer(sock.makefile("rb"))
        assert status == 200 and _brightness(payload) == pytest.approx(0.0)


def test_answers_carry_the_same_headers_as_aiohttps(server):
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=30) as sock:
        sock.sendall(_predict_bytes(1))
        reader = sock.makefile("rb")
        head, names = reader.readline(), []
        while (line := reader.readline()) != b"\r\n":
            names.append(line.split(b":")[0].lower())
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert names == [b"content-type", b"server", b"content-length", b"date"]
