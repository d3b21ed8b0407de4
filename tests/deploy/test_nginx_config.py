"""The nginx image's configuration, rendered the way its entrypoint renders it, passes `nginx -t`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

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
    rendered = rendered.replace("server api:8000;", "server 127.0.0.1:8000;").replace(
        "server flower:5555;", "server 127.0.0.1:5555;"
    )
    rendered = rendered.replace("/etc/nginx/snippets/", f"{NGINX_DIR / 'snippets'}/")
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
    assert (tmp_path / "conf.d" / "upload-cap.conf").read_text() == "client_max_body_size 2148532224;\n"
