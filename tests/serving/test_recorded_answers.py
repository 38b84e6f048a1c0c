"""The REST front end answers byte for byte what the server answered before it changed (issue
24): the requests and bodies recorded in tests/serving/data/rest_answers.json (see
tests/serving/recorded.py), replayed on keep-alive connections and one connection each.

Model metadata is compared as JSON: a SignatureDef map is written in the protobuf map's
iteration order, which differs between two loads of the same model."""

import json
import socket

import pytest

from tests.serving import fuzz_cases, recorded


@pytest.fixture(scope="module")
def exchanges():
    return recorded.load()


def _is_metadata(case, status):
    return case[0] == "GET" and status == 200 and case[1].endswith("/metadata")


def test_every_recorded_request_gets_the_same_status_and_body(server, exchanges):
    differ = []
    for case, status, body in exchanges:
        got = recorded.exchange(server.rest_port, case)
        if _is_metadata(case, status):
            got, body = (got[0], json.loads(got[1])), json.loads(body)
        if got != (status, body):
            differ.append((case[:2], status, body[:200], got[0], got[1][:200]))
    assert not differ, f"{len(differ)} of {len(exchanges)} answers changed, first: {differ[:3]}"


def test_the_same_on_one_keep_alive_connection(server, exchanges):
    """All the 200 answers, sent one after another on one connection (what wrk does)."""
    ok = [(c, s, b) for c, s, b in exchanges if s == 200 and c[0] == "POST"]
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=30) as sock:
        reader = sock.makefile("rb")
        for (method, path, body, headers), status, expected in ok:
            sock.sendall(recorded.http_bytes(method, path, body, headers))
            got_status, got = fuzz_cases.read_answer(reader)
            assert (got_status, got) == (status, expected), path
    assert len(ok) >= 20
