"""An answer given before the request body was read (the login's CSRF 403) must not reset the connection the
body is still arriving on: a proxy writing it would see a broken pipe and answer 502. Real gunicorn."""

from __future__ import annotations

import socket
import time

import pytest

from workers import processes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def gunicorn_port(worker_env, tmp_path_factory):
    port = processes.free_port()
    proc = processes.start_web(worker_env, port, tmp_path_factory.mktemp("unread") / "gunicorn.log")
    try:
        processes.wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout_s=120, proc=proc)
        yield port
    finally:
        processes.stop(proc)


def post_slowly(port: int, path: str, body: bytes) -> bytes:
    """Headers first; the body only after the server had time to answer without it (as a busy proxy would)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(head.encode())
        time.sleep(0.5)
        for start in range(0, len(body), 16 * 1024):
            conn.sendall(body[start : start + 16 * 1024])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_a_refusal_before_the_body_was_read_still_takes_the_whole_body(gunicorn_port):
    deep = b"[" * 400_000 + b"]" * 400_000  # 800 kB, under the 1 MiB cap of an ordinary route
    for _ in range(3):
        answer = post_slowly(gunicorn_port, "/api/v1/auth/login/", deep)
        assert answer.startswith(b"HTTP/1.1 403"), answer[:300]
    # A body the view does read is unaffected: the parser's 400, not a reset.
    answer = post_slowly(gunicorn_port, "/api/v1/auth/login/", b'{"username": "x", "password": "y"}')
    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.1 403 Forbidden", b"HTTP/1.1 400 Bad Request")
