"""The nginx image's configuration, rendered the way its entrypoint renders it, passes `nginx -t`."""

from __future__ import annotations

import http.server
import re
import socket
import subprocess
import threading

import pytest
import requests

from tests.deploy.nginx import body_buffer_files, nginx_binary, render, serving_nginx


def test_the_rendered_configuration_passes_nginx_t(tmp_path):
    nginx = nginx_binary()
    main, rendered = render(tmp_path)
    result = subprocess.run([nginx, "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert re.search(r"proxy_read_timeout 300s;", rendered)
    assert (tmp_path / "conf.d" / "upload-cap.inc").read_text() == "client_max_body_size 2148532224;\n"


GOOD_TOKEN = "Token valid-for-the-stand-in"


class RecordingUpstream(http.server.BaseHTTPRequestHandler):
    """Stands in for gunicorn: records each POST's body size (200), answers the upload check
    (GET /api/v1/auth/upload-check/) 204 for GOOD_TOKEN and 401 for anyone else."""

    received: list[tuple[str, int]] = []
    checks: list[dict] = []
    forwarded_for: list[str | None] = []

    def do_POST(self):
        size = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(size)
        self.received.append((self.path, size))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        if self.path == "/api/v1/auth/upload-check/":
            self.checks.append(dict(self.headers))
            self.send_response(204 if self.headers.get("Authorization") == GOOD_TOKEN else 401)
        else:
            self.forwarded_for.append(self.headers.get("X-Forwarded-For"))
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def running_nginx(tmp_path):
    """The rendered configuration served by a real nginx, in front of a recording upstream."""
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingUpstream)
    RecordingUpstream.received, RecordingUpstream.checks, RecordingUpstream.forwarded_for = [], [], []
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        with serving_nginx(tmp_path, upstream.server_address[1]) as url:
            yield url
    finally:
        upstream.shutdown()


SIGNED_IN = {"Authorization": GOOD_TOKEN}


def test_nginx_refuses_a_large_body_on_every_route_but_the_upload_before_it_reaches_the_api(running_nginx):
    two_mib = b"x" * (2 * 1024 * 1024)
    for path in ("/api/v1/auth/login/", "/api/v1/cases/", "/admin/login/", "/api/v1/jobs/1/cancel/"):
        response = requests.post(running_nginx + path, data=two_mib, timeout=10)
        assert response.status_code == 413, path
    assert RecordingUpstream.received == []
    upload = requests.post(running_nginx + "/api/v1/jobs/", data=two_mib, headers=SIGNED_IN, timeout=10)
    assert upload.status_code == 200
    assert requests.post(running_nginx + "/api/v1/cases/", data=b"x" * 500_000, timeout=10).status_code == 200
    assert RecordingUpstream.received == [("/api/v1/jobs/", len(two_mib)), ("/api/v1/cases/", 500_000)]


def test_nginx_does_not_serve_flower_on_the_public_origin(running_nginx):
    for path in ("/flower/", "/flower/api/workers", "/flower/api/worker/shutdown/x"):
        assert requests.get(running_nginx + path, timeout=10).status_code == 404, path
    assert RecordingUpstream.received == []


def started_upload(base_url: str, declared_bytes: int, sent_bytes: int, headers: str = "") -> bytes:
    """Open an upload that declares ``declared_bytes``, send the first ``sent_bytes`` of them, and return
    what nginx answers within 30 s (b"" if it answers nothing: it is waiting for the rest of the body, up
    to its client_body_timeout of 120 s). 30 s leaves room for a cold gunicorn worker's first request."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(
            f"POST /api/v1/jobs/ HTTP/1.1\r\nHost: {host}\r\nContent-Length: {declared_bytes}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\n{headers}\r\n".encode()
            + b"x" * sent_bytes
        )
        try:
            return conn.recv(4096)
        except TimeoutError:
            return b""


def test_an_anonymous_upload_is_refused_at_its_headers_and_its_body_never_buffered(tmp_path, running_nginx):
    # 1 GiB declared, 1 MiB sent: without the auth subrequest nginx would wait for (and spool) the rest.
    answer = started_upload(running_nginx, 1024**3, 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b'"code": "not_authenticated"' in answer and b"application/json" in answer
    revoked = started_upload(running_nginx, 1024**3, 1024 * 1024, "Authorization: Token revoked\r\n")
    assert revoked.startswith(b"HTTP/1.1 401"), revoked[:200]
    assert RecordingUpstream.received == [] and body_buffer_files(tmp_path) == []
    # The check saw the client's headers, and no body.
    assert [c.get("Authorization") for c in RecordingUpstream.checks] == [None, "Token revoked"]
    assert all(c.get("Content-Length") in (None, "0") for c in RecordingUpstream.checks)


def test_a_signed_in_upload_is_proxied_and_the_job_list_needs_no_check(running_nginx):
    body = b"y" * 300_000
    response = requests.post(running_nginx + "/api/v1/jobs/", data=body, headers=SIGNED_IN, timeout=10)
    assert response.status_code == 200 and RecordingUpstream.received == [("/api/v1/jobs/", len(body))]
    assert len(RecordingUpstream.checks) == 1
    # GET /api/v1/jobs/ has no body to guard: proxied as is (the API answers it), no subrequest.
    requests.get(running_nginx + "/api/v1/jobs/", timeout=10)
    assert len(RecordingUpstream.checks) == 1


def test_nginx_forwards_the_address_it_saw_replacing_any_x_forwarded_for_the_client_sent(running_nginx):
    """One hop: what the api reads is nginx's own view of the client (audit.services.client_ip)."""
    requests.get(running_nginx + "/api/v1/jobs/", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    requests.get(running_nginx + "/api/v1/jobs/", timeout=10)
    assert RecordingUpstream.forwarded_for == ["127.0.0.1", "127.0.0.1"]
