"""Webhooks against a real local HTTP receiver: signed with a timestamp, retried with back-off, logged,
disabled after repeated failure, never sent to private targets unless allowed; a real Celery worker
delivers them when a job ends."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
    """An HTTP server on loopback that records each request and answers the next status in line
    (with a Location header when ``location`` is given; over TLS with ``tls``, a server context)."""

    def __init__(
        self,
        statuses: list[int],
        host: str = "127.0.0.1",
        port: int = 0,
        location: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "at": time.monotonic()})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.end_headers()

            def log_message(self, *args):
                return None

        self.server = ThreadingHTTPServer((host, port), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    made: list[Receiver] = []

    def make(*statuses: int, **options) -> Receiver:
        made.append(Receiver(list(statuses) or [200], **options))
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


# --- DNS rebinding: a delivery connects to the address that was checked (issue 28, row 2) -------------------

REBOUND_HOST = "hooks.lab.example"


@pytest.fixture
def rebinding_resolver(monkeypatch):
    """A DNS server the webhook's owner controls (TTL 0): REBOUND_HOST resolves to each address of ``answers``
    in turn, the last one from then on. ``lookups`` lists what each lookup of the name answered."""
    answers: list[str] = []
    lookups: list[str] = []
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host != REBOUND_HOST:
            return real(host, port, *args, **kwargs)
        lookups.append(answers.pop(0) if len(answers) > 1 else answers[0])
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (lookups[-1], int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return answers, lookups


def delivery_to(case, url: str, alice, clip) -> WebhookDelivery:
    endpoint = WebhookEndpoint.objects.create(team=case.team, url=url, events=["job.finished"])
    finish(submit(alice, case, clip))
    return WebhookDelivery.objects.get(endpoint=endpoint)


@pytest.mark.django_db
def test_a_host_that_resolves_elsewhere_after_the_check_is_still_sent_to_the_checked_address(
    alice, case, sample_clip_path, receiver_factory, webhook_settings, rebinding_resolver
):
    checked = receiver_factory(200)
    internal = receiver_factory(200, host="127.0.0.2", port=checked.port)  # what the name points to next
    answers, lookups = rebinding_resolver
    delivery = delivery_to(case, f"http://{REBOUND_HOST}:{checked.port}/hook", alice, sample_clip_path)
    answers[:] = ["127.0.0.1", "127.0.0.2"]
    assert deliver(delivery.pk).status == DeliveryStatus.DELIVERED
    assert internal.requests == [] and len(checked.requests) == 1
    assert lookups == ["127.0.0.1"]  # the check's lookup is the only one
    assert checked.requests[0]["headers"]["Host"] == f"{REBOUND_HOST}:{checked.port}"


@pytest.mark.django_db
def test_a_redirect_is_not_followed(alice, case, sample_clip_path, receiver_factory, webhook_settings):
    internal = receiver_factory(200)
    redirecting = receiver_factory(307, location=internal.url)
    delivery = delivery_to(case, redirecting.url, alice, sample_clip_path)
    assert deliver(delivery.pk).status == DeliveryStatus.RETRYING
    delivery.refresh_from_db()
    assert delivery.last_error == "HTTP 307" and len(redirecting.requests) == 1 and internal.requests == []


def tls_server_for(name: str, tmp_path: Path, names_asked: list) -> tuple[ssl.SSLContext, Path]:
    """A TLS server context with a certificate for ``name`` from a fresh CA (recording the SNI each client
    sends in ``names_asked``), and the CA's certificate file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def certificate(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        )
        if ca:
            usage = {"key_cert_sign": True, "crl_sign": True, "digital_signature": False}
        else:
            usage = {"key_cert_sign": False, "crl_sign": False, "digital_signature": True}
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        builder = builder.add_extension(
            x509.KeyUsage(
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
                **usage,
            ),
            critical=True,
        )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    ca_file.write_bytes(certificate("Lab CA", ca_key, "Lab CA", ca_key, True).public_bytes(serialization.Encoding.PEM))
    server = certificate(name, server_key, "Lab CA", ca_key, False)
    cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, server_name, ctx: names_asked.append(server_name)
    return context, ca_file


@pytest.mark.django_db
def test_an_https_receiver_at_the_checked_address_is_asked_for_and_verified_by_its_name(
    alice, case, sample_clip_path, receiver_factory, webhook_settings, rebinding_resolver, tmp_path
):
    names_asked: list[str] = []
    tls, ca_file = tls_server_for(REBOUND_HOST, tmp_path, names_asked)
    receiver = receiver_factory(200, tls=tls)
    webhook_settings.WEBHOOK_CA_BUNDLE = str(ca_file)
    answers, _ = rebinding_resolver
    delivery = delivery_to(case, f"https://{REBOUND_HOST}:{receiver.port}/hook", alice, sample_clip_path)
    answers[:] = ["127.0.0.1", "127.0.0.2"]
    assert deliver(delivery.pk).status == DeliveryStatus.DELIVERED, WebhookDelivery.objects.get().last_error
    assert names_asked == [REBOUND_HOST]
    assert receiver.requests[0]["headers"]["Host"] == f"{REBOUND_HOST}:{receiver.port}"


@pytest.mark.django_db
def test_a_certificate_for_another_name_is_refused_at_the_checked_address(
    alice, case, sample_clip_path, receiver_factory, webhook_settings, rebinding_resolver, tmp_path
):
    tls, ca_file = tls_server_for("other.example", tmp_path, [])
    receiver = receiver_factory(200, tls=tls)
    webhook_settings.WEBHOOK_CA_BUNDLE = str(ca_file)
    answers, _ = rebinding_resolver
    delivery = delivery_to(case, f"https://{REBOUND_HOST}:{receiver.port}/hook", alice, sample_clip_path)
    answers[:] = ["127.0.0.1"]
    assert deliver(delivery.pk).status == DeliveryStatus.RETRYING
    delivery.refresh_from_db()
    assert "SSLError" in delivery.last_error and "hostname" in delivery.last_error.lower()
    assert receiver.requests == []


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
