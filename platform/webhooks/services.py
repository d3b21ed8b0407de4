"""Queueing and delivering webhooks. ``notify`` runs inside the action's transaction; each delivery is
sent by a Celery task (``forensics.deliver_webhook``) after the commit, retried with exponential back-off,
and logged; an endpoint whose deliveries keep failing is disabled.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.signing import SIGNATURE_HEADER, signature_header
from webhooks.targets import UnsafeTarget, check_target
from webhooks.transport import post_to_address

logger = logging.getLogger(__name__)
DELIVER_TASK = "forensics.deliver_webhook"
USER_AGENT = "forensics-webhooks/1"


def notify(team_id: int, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """A delivery for each of the team's enabled endpoints that wants ``event``, sent after commit."""
    deliveries = [
        WebhookDelivery.objects.create(endpoint=endpoint, event=event, payload=payload)
        for endpoint in WebhookEndpoint.objects.filter(team_id=team_id, enabled=True)
        if endpoint.wants(event)
    ]
    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: enqueue(pk))
    return deliveries


def enqueue(delivery_id: int, countdown_s: float = 0) -> None:
    from config.celery_app import app

    app.send_task(DELIVER_TASK, args=[delivery_id], queue=settings.WEBHOOK_QUEUE, countdown=countdown_s or None)


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path if settings.PUBLIC_BASE_URL else path


def job_payload(job, event: str) -> dict[str, Any]:
    """What a receiver learns: the verdict summary, the review, the original's hash, and links."""
    from cases.models import Verdict

    verdict = Verdict.objects.filter(job=job).first()
    return {
        "event": event,
        "job": {
            "id": job.pk,
            "case": job.media.case_id,
            "state": job.state,
            "error_code": job.error_code or None,
            "review_status": job.review_status,
            "media_sha256": job.media.sha256,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "url": _absolute(reverse("job-detail", args=[job.pk])),
            "report_url": _absolute(reverse("job-report", args=[job.pk])),
        },
        "verdict": {
            "label": verdict.label,
            "score": verdict.score,
            "confidence": verdict.confidence,
            "untrained": verdict.untrained,
        }
        if verdict is not None
        else None,
    }


def job_event(job_id: int, event: str) -> None:
    """Notify the job's team of ``event``; call inside the transaction that made the change."""
    from cases.models import AnalysisJob

    job = AnalysisJob.objects.select_related("media", "media__case").get(pk=job_id)
    notify(job.media.case.team_id, event, job_payload(job, event))


def job_finished(job_id: int) -> None:
    job_event(job_id, WebhookEvent.JOB_FINISHED)


def job_reviewed(job_id: int) -> None:
    job_event(job_id, WebhookEvent.JOB_REVIEWED)


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt did; ``retry_in_s`` is set when the task should try again."""

    status: str
    retry_in_s: float | None = None


def backoff_s(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from the base, capped."""
    return min(settings.WEBHOOK_RETRY_BASE_S * 2 ** (attempts - 1), settings.WEBHOOK_RETRY_MAX_S)


def deliver(delivery_id: int) -> Attempt:
    """One attempt at a delivery: sign and POST it, log the outcome, decide whether to retry."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
        return Attempt(delivery.status if delivery else "missing")
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SKIPPED)
        return Attempt(DeliveryStatus.SKIPPED)
    body = json.dumps({**delivery.payload, "delivery": delivery.pk}, separators=(",", ":")).encode("utf-8")
    status_code, error = None, ""
    try:
        # The first address the check resolved and allowed is the one connected to (webhooks.transport).
        address = check_target(endpoint.url)[0]
        response = post_to_address(
            endpoint.url,
            address,
            data=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Forensics-Event": delivery.event,
                "X-Forensics-Delivery": str(delivery.pk),
                SIGNATURE_HEADER: signature_header(endpoint.secret, body),
            },
            timeout=settings.WEBHOOK_TIMEOUT_S,
            verify=settings.WEBHOOK_CA_BUNDLE or True,
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except UnsafeTarget as exc:
        error = f"refused target: {exc}"
    except requests.RequestException as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:300]
    attempts = delivery.attempts + 1
    now = timezone.now()
    if not error:
        with transaction.atomic():
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.DELIVERED,
                attempts=attempts,
                last_status_code=status_code,
                last_error="",
                last_attempt_at=now,
                delivered_at=now,
            )
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        return Attempt(DeliveryStatus.DELIVERED)
    final = attempts >= settings.WEBHOOK_MAX_ATTEMPTS or error.startswith("refused target")
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED if final else DeliveryStatus.RETRYING,
            attempts=attempts,
            last_status_code=status_code,
            last_error=error[:300],
            last_attempt_at=now,
        )
        if final:
            _count_failure(endpoint)
    logger.warning("webhook delivery %s to %s attempt %s: %s", delivery.pk, endpoint.url, attempts, error)
    return Attempt(DeliveryStatus.FAILED) if final else Attempt(DeliveryStatus.RETRYING, backoff_s(attempts))


def _count_failure(endpoint: WebhookEndpoint) -> None:
    """One more delivery given up on; past the limit in a row the endpoint is disabled until an admin re-enables it."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True, consecutive_failures__gte=limit).update(
        enabled=False, disabled_reason=f"disabled after {limit} failed deliveries in a row"
    )
    if disabled:
        logger.warning("webhook endpoint %s (%s) disabled after %s failed deliveries", endpoint.pk, endpoint.url, limit)
