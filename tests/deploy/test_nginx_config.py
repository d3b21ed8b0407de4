"""The nginx image's configuration, rendered the way its entrypoint renders it, passes `nginx -t`."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest
import requests

from tests.deploy.conftest import REPO_DIR

NGINX_DIR = REPO_DIR / "deploy" / "nginx"


def render(tmp_path, timeout_s: str = "300", max_upload_bytes: str = "2147483648"):
    """envsubst of the template (as the nginx image's 20-envsubst-on-templates.sh) plus the upload-cap script."""
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    template = (NGINX_DIR / "templates" / "default.conf.template").read_text()
    rendered = template.replace("${NGINX_PROXY_TIMEOUT_S}", timeout_s)
    assert "${" not in rendered
    # Outside compose's network the upstream names do not resolve: loopback stands in for them.
    rendered = rendered.replace("server api:8000;", "server 127.0.0.1:8000;")
    rendered = rendered.replace("/etc/nginx/snippets/", f"{NGINX_DIR / 'snippets'}/")
    rendered = rendered.replace("/etc/nginx/conf.d/", f"{conf_d}/")
    (conf_d / "default.conf").write_text(rendered)
    env = {"PATH": "/usr/bin:/bin", "FORENSICS_MAX_UPLOAD_BYTES": max_upload_bytes, "NGINX_CONF_DIR": str(conf_d)}
    subprocess.run(["sh", str(NGINX_DIR / "docker-entrypoint.d" / "40-upload-cap.sh")], env=env, check=True)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp_path}/body;\n  include {conf_d}/*.conf;\n}}\n"
    )
    return main, rendered


def test_the_rendered_configuration_passes_nginx_t(tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        pytest.skip("nginx is not installed here (apt-get install nginx-light); the image's nginx checks it at start")
    main, rendered = render(tmp_path)
    result = subprocess.run([nginx, "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert re.search(r"proxy_read_timeout 300s;", rendered)
    assert (tmp_path / "conf.d" / "upload-cap.inc").read_text() == "client_max_body_size 2148532224;\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordingUpstream(http.server.BaseHTTPRequestHandler):
    """Stands in for gunicorn: answers 200 with the number of body bytes it received."""

    received: list[tuple[str, int]] = []

    def do_POST(self):
        size = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(size)
        self.received.append((self.path, size))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def running_nginx(tmp_path):
    """The rendered configuration served by a real nginx, in front of a recording upstream."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        pytest.skip("nginx is not installed here (apt-get install nginx-light)")
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingUpstream)
    RecordingUpstream.received = []
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    main, _ = render(tmp_path)
    conf = tmp_path / "conf.d" / "default.conf"
    conf.write_text(
        conf.read_text()
        .replace("listen 8080;", f"listen 127.0.0.1:{port};")
        .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream.server_address[1]};")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must write the body buffers under tmp_path
    main.write_text(
        user + "daemon off;\n" + main.read_text().replace("http {", f"http {{\n  access_log {tmp_path}/a.log;")
    )
    process = subprocess.Popen([nginx, "-c", str(main), "-p", str(tmp_path)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail(f"nginx did not start: {process.stderr.read1().decode()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        upstream.shutdown()


def test_nginx_refuses_a_large_body_on_every_route_but_the_upload_before_it_reaches_the_api(running_nginx):
    two_mib = b"x" * (2 * 1024 * 1024)
    for path in ("/api/v1/auth/login/", "/api/v1/cases/", "/admin/login/", "/api/v1/jobs/1/cancel/"):
        response = requests.post(running_nginx + path, data=two_mib, timeout=10)
        assert response.status_code == 413, path
    assert RecordingUpstream.received == []
    assert requests.post(running_nginx + "/api/v1/jobs/", data=two_mib, timeout=10).status_code == 200
    assert requests.post(running_nginx + "/api/v1/cases/", data=b"x" * 500_000, timeout=10).status_code == 200
    assert RecordingUpstream.received == [("/api/v1/jobs/", len(two_mib)), ("/api/v1/cases/", 500_000)]


def test_nginx_does_not_serve_flower_on_the_public_origin(running_nginx):
    for path in ("/flower/", "/flower/api/workers", "/flower/api/worker/shutdown/x"):
        assert requests.get(running_nginx + path, timeout=10).status_code == 404, path
    assert RecordingUpstream.received == []
