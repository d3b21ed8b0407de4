"""Webhooks against a real local HTTP receiver: signed with a timestamp, retried with back-off, logged,
disabled after repeated failure, never sent to private targets unless allowed; a real Celery worker
delivers them when a job ends."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Role
from cases import lease, results, services
from cases.models import AnalysisJob
from tests.conftest import client_for
from tests.factories import UserFactory, fake_result
from webhooks import signing
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services import backoff_s, deliver
from webhooks.targets import UnsafeTarget, check_target
from workers import processes


class Receiver:
    """An HTTP server on loopback that records each request and answers the next status in line."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "at": time.monotonic()})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    made: list[Receiver] = []

    def make(*statuses: int) -> Receiver:
        made.append(Receiver(list(statuses) or [200]))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def webhook_settings(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver is on loopback
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_RETRY_BASE_S = 0.1
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    return settings


def finish(job) -> None:
    lease.claim_job(job.pk, "w")
    results.record_results(job.pk, "w", fake_result())


def submit(user, case, clip) -> object:
    return services.submit_job(user, SimpleUploadedFile("clip.mp4", clip.read_bytes()), case=case)


# --- targets ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/hook",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://192.168.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "ftp://203.0.113.1/",
        "http://user:pw@93.184.216.34/",
    ],
)
def test_private_loopback_and_odd_targets_are_refused(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(UnsafeTarget):
        check_target(url)


def test_a_public_address_is_allowed_and_private_ones_only_when_settings_say_so(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    assert check_target("https://93.184.216.34/hook") == ["93.184.216.34"]
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert check_target("http://127.0.0.1:9/") == ["127.0.0.1"]


@pytest.mark.django_db
def test_an_endpoint_with_a_private_url_does_not_validate(team, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    endpoint = WebhookEndpoint(team=team, url="http://10.0.0.7/hook", events=["job.finished"])
    with pytest.raises(ValidationError, match="private"):
        endpoint.full_clean()


# --- signing ------------------------------------------------------------------------------------


def test_a_signature_verifies_only_for_its_body_secret_and_time_window():
    body = b'{"event":"job.finished"}'
    header = signing.signature_header("s3cret", body, timestamp=1_000_000)
    assert signing.verify("s3cret", header, body, now=1_000_100)
    assert not signing.verify("other", header, body, now=1_000_100)
    assert not signing.verify("s3cret", header, body + b" ", now=1_000_100)
    assert not signing.verify("s3cret", header, body, now=1_000_000 + signing.REPLAY_WINDOW_S + 1)  # a replay
    assert not signing.verify("s3cret", "v1=abc", body, now=1_000_000)


# --- deliveries (the service, attempt by attempt) -----------------------------------------------------


@pytest.mark.django_db
def test_a_finished_job_is_delivered_signed_to_the_receiver(
    alice, case, sample_clip_path, receiver_factory, webhook_settings, django_capture_on_commit_callbacks
):
    receiver = receiver_factory(200)
    endpoint = WebhookEndpoint.objects.create(team=case.team, url=receiver.url, events=["job.finished"])
    job = submit(alice, case, sample_clip_path)
    with django_capture_on_commit_callbacks() as callbacks:
        finish(job)
    assert len(callbacks) == 1  # one delivery queued, after the results' commit
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert deliver(delivery.pk).status == DeliveryStatus.DELIVERED

    (request,) = receiver.requests
    headers = request["headers"]
    assert signing.verify(endpoint.secret, headers[signing.SIGNATURE_HEADER], request["body"])
    assert headers["X-Forensics-Event"] == "job.finished" and headers["X-Forensics-Delivery"] == str(delivery.pk)
    body = json.loads(request["body"])
    assert body["job"]["id"] == job.pk and body["job"]["state"] == "succeeded"
    assert body["job"]["media_sha256"] == job.media.sha256 and body["job"]["report_url"].endswith("/report/")
    assert body["verdict"]["label"] == "manipulated" and body["verdict"]["score"] == 0.8
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_status_code == 200 and delivery.delivered_at is not None


@pytest.mark.django_db
def test_failures_are_retried_with_doubling_back_off_then_given_up_and_the_endpoint_disabled(
    alice, case, sample_clip_path, receiver_factory, webhook_settings, rita
):
    receiver = receiver_factory(500)
    endpoint = WebhookEndpoint.objects.create(team=case.team, url=receiver.url)  # every event
    job = submit(alice, case, sample_clip_path)
    finish(job)
    services.review_job(job, rita, status="confirmed")
    first, second = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id")
    assert (first.event, second.event) == ("job.finished", "job.reviewed")

    attempts = [deliver(first.pk) for _ in range(3)]
    assert [a.status for a in attempts] == ["retrying", "retrying", "failed"]
    assert [a.retry_in_s for a in attempts] == [backoff_s(1), backoff_s(2), None] == [0.1, 0.2, None]
    first.refresh_from_db()
    assert first.attempts == 3 and first.last_status_code == 500 and first.last_error == "HTTP 500"
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 1

    while deliver(second.pk).retry_in_s is not None:
        pass
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "2 failed deliveries in a row" in endpoint.disabled_reason
    assert len(receiver.requests) == 6
    # A disabled endpoint gets nothing more.
    submit_again = submit(alice, case, sample_clip_path)
    finish(submit_again)
    assert not WebhookDelivery.objects.filter(payload__job__id=submit_again.pk).exists()


@pytest.mark.django_db
def test_a_target_that_turned_private_is_refused_at_delivery(alice, case, sample_clip_path, receiver_factory, settings):
    receiver = receiver_factory(200)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    endpoint = WebhookEndpoint.objects.create(team=case.team, url=receiver.url)
    finish(submit(alice, case, sample_clip_path))
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    attempt = deliver(WebhookDelivery.objects.get(endpoint=endpoint).pk)
    assert attempt.status == DeliveryStatus.FAILED and not receiver.requests


@pytest.mark.django_db
def test_team_admins_read_their_delivery_log_and_analysts_cannot(
    alice, case, sample_clip_path, receiver_factory, webhook_settings, bob
):
    receiver = receiver_factory(200)
    WebhookEndpoint.objects.create(team=case.team, url=receiver.url)
    finish(submit(alice, case, sample_clip_path))
    adam = UserFactory(username="adam", team=case.team, team__role=Role.ADMIN)
    log = client_for(adam).get("/api/v1/webhooks/deliveries/").json()["results"]
    assert [(d["event"], d["status"], d["url"]) for d in log] == [("job.finished", "pending", receiver.url)]
    assert client_for(alice).get("/api/v1/webhooks/deliveries/").status_code == 403
    other_admin = UserFactory(username="olga", team=bob.memberships.first().team, team__role=Role.ADMIN)
    assert client_for(other_admin).get("/api/v1/webhooks/deliveries/").json()["results"] == []


@pytest.mark.django_db
def test_jobs_the_reaper_or_a_claim_ends_are_announced_too(alice, case, sample_clip_path, webhook_settings):
    """Jobs ended without their worker: stale with no attempts left (reaper), cancelled while their
    worker was dead (reaper), used up when claimed again (claim); a requeued job is not announced."""
    endpoint = WebhookEndpoint.objects.create(team=case.team, url="https://93.184.216.34/hook")
    stale = timezone.now() - timedelta(minutes=10)
    exhausted, cancelled, requeued, used_up = (submit(alice, case, sample_clip_path) for _ in range(4))
    for job in (exhausted, cancelled, requeued, used_up):
        lease.claim_job(job.pk, "dead")
    AnalysisJob.objects.filter(pk__in=[exhausted.pk, cancelled.pk, requeued.pk]).update(heartbeat_at=stale)
    AnalysisJob.objects.filter(pk=exhausted.pk).update(attempts=3, max_attempts=3)
    AnalysisJob.objects.filter(pk=cancelled.pk).update(cancel_requested=True)
    AnalysisJob.objects.filter(pk=used_up.pk).update(attempts=3, max_attempts=3, heartbeat_at=stale)
    assert lease.claim_job(used_up.pk, "another") is None
    assert lease.reap_stale_jobs() == {"failed": 1, "requeued": 1, "republished": 0, "cancelled": 1}
    announced = {
        d.payload["job"]["id"]: d.payload["job"]["state"]
        for d in WebhookDelivery.objects.filter(endpoint=endpoint, event="job.finished")
    }
    assert announced == {exhausted.pk: "failed", cancelled.pk: "cancelled", used_up.pk: "failed"}


@pytest.fixture
def rita(team):
    return UserFactory(username="rita", team=team, team__role=Role.REVIEWER)


# --- a real worker ----------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_a_failed_delivery_until_the_receiver_takes_it(
    alice, case, sample_clip_path, receiver_factory, worker_env, tmp_path, webhook_settings
):
    receiver = receiver_factory(503, 200)
    endpoint = WebhookEndpoint.objects.create(team=case.team, url=receiver.url, events=["job.finished"])
    env = {
        **worker_env,
        "FORENSICS_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "FORENSICS_WEBHOOK_RETRY_BASE_S": "1",
    }
    worker = processes.start_worker(env, tmp_path / "worker.log", queues="cpu", name="webhooks")
    try:
        processes.wait_for_log(worker, "ready.", timeout_s=180)
        job = submit(alice, case, sample_clip_path)
        finish(job)  # commits: the delivery task is published to the cpu queue
        deadline = time.monotonic() + 60
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        while delivery.status != DeliveryStatus.DELIVERED and time.monotonic() < deadline:
            time.sleep(0.2)
            delivery.refresh_from_db()
    finally:
        processes.stop(worker)
    assert delivery.status == DeliveryStatus.DELIVERED, (delivery.status, delivery.last_error)
    assert delivery.attempts == 2 and len(receiver.requests) == 2
    # The retry waited for the back-off (1 s after the first attempt), not at once.
    assert receiver.requests[1]["at"] - receiver.requests[0]["at"] >= 0.9
    assert all(
        signing.verify(endpoint.secret, r["headers"][signing.SIGNATURE_HEADER], r["body"]) for r in receiver.requests
    )
