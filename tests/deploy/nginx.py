"""The nginx image's configuration, rendered as its entrypoint renders it, and a real nginx serving it.

The tests that need nginx in front of an API (a recording stand-in, or gunicorn running Django) start
it here, on loopback, with the API's address in place of compose's ``api:8000``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO_DIR
from workers.processes import free_port

NGINX_DIR = REPO_DIR / "deploy" / "nginx"


def nginx_binary() -> str:
    """The nginx program, or a skip: `make browser` installs nginx-light (the image's nginx checks it at start)."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        pytest.skip("nginx is not installed here (apt-get install nginx-light)")
    return nginx


def render(tmp_path: Path, timeout_s: str = "300", max_upload_bytes: str = "2147483648") -> tuple[Path, str]:
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


def body_buffer_files(tmp_path: Path) -> list[Path]:
    """The request bodies nginx has buffered to disk (client_body_temp_path) and not yet removed."""
    return [p for p in (tmp_path / "body").rglob("*") if p.is_file()] if (tmp_path / "body").exists() else []


@contextlib.contextmanager
def serving_nginx(tmp_path: Path, upstream_port: int) -> Iterator[str]:
    """The rendered configuration served by a real nginx in front of ``upstream_port``; yields its base URL."""
    nginx = nginx_binary()
    port = free_port()
    main, _ = render(tmp_path)
    conf = tmp_path / "conf.d" / "default.conf"
    conf.write_text(
        conf.read_text()
        .replace("listen 8080;", f"listen 127.0.0.1:{port};")
        .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")
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
