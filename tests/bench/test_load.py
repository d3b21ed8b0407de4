"""The load generator is open-loop: it keeps the offered rate when the server falls behind, and the wait shows."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path

import pytest

LOAD = Path(__file__).resolve().parents[2] / "bench" / "load.py"


@pytest.fixture(scope="module")
def load():
    spec = importlib.util.spec_from_file_location("bench_load", LOAD)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def serving(server_class, delay_s: float):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: a busy server cannot hold one client

        def do_GET(self):
            time.sleep(delay_s)
            matched = self.headers.get("If-None-Match") == '"v1"'
            body = b"" if matched else b'{"state": "running"}'
            self.send_response(304 if matched else 200)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            return None

    server = server_class(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_fast_server_answers_every_request_at_the_offered_rate(load):
    server = serving(ThreadingHTTPServer, 0.0)
    try:
        (step,) = load.run(f"http://127.0.0.1:{server.server_port}/", [], [40.0], 1.0, warmup_s=0)
    finally:
        server.shutdown()
    assert step.sent == 40 and step.ok == 40 and step.errors == step.timeouts == 0
    assert step.p50_ms is not None and step.p50_ms <= step.p99_ms <= step.max_ms
    assert step.generator_cpu_share >= 0


def test_a_server_that_falls_behind_is_still_offered_the_full_rate_and_its_backlog_shows(load):
    # One request at a time, 100 ms each: 10/s at most. A closed loop would see 100 ms per request;
    # offered 30/s for a second, the last requests wait for the whole backlog before them.
    server = serving(HTTPServer, 0.1)
    try:
        (step,) = load.run(f"http://127.0.0.1:{server.server_port}/", [], [30.0], 1.0, warmup_s=0)
    finally:
        server.shutdown()
    assert step.sent == 30
    assert step.ok + step.timeouts + step.errors == 30
    assert step.p99_ms > 1000


def test_if_none_match_sends_the_etag_of_a_first_answer(load):
    server = serving(ThreadingHTTPServer, 0.0)
    try:
        (step,) = load.run(f"http://127.0.0.1:{server.server_port}/", [], [20.0], 0.5, if_none_match=True, warmup_s=0)
    finally:
        server.shutdown()
    assert step.not_modified == 10 and step.ok == 0


def test_percentiles_are_nearest_rank(load):
    values = [float(v) for v in range(1, 101)]
    assert (load.percentile(values, 50), load.percentile(values, 99), load.percentile([], 50)) == (50.0, 99.0, None)
