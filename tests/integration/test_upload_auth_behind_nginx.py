"""nginx accepts an upload's body only from a client the API knows (auth_request to Django), end to end:
real nginx (the image's rendered configuration), real gunicorn, real Postgres."""

from __future__ import annotations

import time

import pytest
import requests

from cases.models import Media
from tests.conftest import PASSWORD, api_token_for, post_job
from tests.deploy.nginx import body_buffer_files
from tests.deploy.test_nginx_config import started_upload

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_anonymous_or_revoked_upload_is_refused_before_nginx_reads_it(api_behind_nginx, alice):
    from accounts.services import issue_token, revoke_token

    token, key = issue_token(alice, "soon revoked")
    revoke_token(token, alice)
    for headers in ("", "Authorization: Token not-a-token\r\n", f"Authorization: Token {key}\r\n"):
        answer = started_upload(api_behind_nginx["url"], 1024**3, 1024 * 1024, headers)
        assert answer.startswith(b"HTTP/1.1 401"), (headers, answer[:300])
    assert body_buffer_files(api_behind_nginx["nginx_dir"]) == []
    # gunicorn writes its access line after the answer has left: wait for the three checks' lines.
    deadline = time.monotonic() + 30
    while (gunicorn_log := api_behind_nginx["gunicorn"].log_path.read_text()).count("upload-check") < 3:
        assert time.monotonic() < deadline, gunicorn_log[-2000:]
        time.sleep(0.1)
    assert gunicorn_log.count("GET /api/v1/auth/upload-check/") == 3
    assert "POST /api/v1/jobs/" not in gunicorn_log and not Media.objects.exists()


def test_a_token_or_a_signed_in_session_uploads_through_nginx(api_behind_nginx, alice, case, sample_clip_path):
    url = api_behind_nginx["url"]
    headers = {"Authorization": f"Token {api_token_for(alice)}"}
    with open(sample_clip_path, "rb") as clip:
        response = post_job(url, headers, "clip.mp4", clip, case=case.pk, frames=2)
    assert response.status_code == 202, response.text[:300]

    browser = requests.Session()
    browser.get(f"{url}/api/v1/auth/csrf/", timeout=30)
    csrf = {"X-CSRFToken": browser.cookies["csrftoken"]}
    signed_in = browser.post(
        f"{url}/api/v1/auth/login/", json={"username": "alice", "password": PASSWORD}, headers=csrf, timeout=30
    )
    assert signed_in.status_code == 200, signed_in.text[:300]
    csrf = {"X-CSRFToken": browser.cookies["csrftoken"]}
    with open(sample_clip_path, "rb") as clip:
        files = {"file": ("again.mp4", clip, "video/mp4")}
        response = browser.post(f"{url}/api/v1/jobs/", files=files, data={"case": case.pk}, headers=csrf, timeout=60)
    assert response.status_code == 202, response.text[:300]
    assert sorted(Media.objects.filter(case=case).values_list("original_name", flat=True)) == ["again.mp4", "clip.mp4"]
