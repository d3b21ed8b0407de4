"""Password guessing: sign-ins refused after too many recent failures, per account and per address.

Only failures count (DRF's throttle history, kept in the cache), so people who sign in correctly
never use up a limit. Both sign-in doors share the counters: the API's login view refuses with
429 and Retry-After before checking a password; the Django admin's form goes through
``authenticate``, where :class:`LoginThrottleBackend` refuses (django-axes' design). Every
failure is counted and written to the custody log by the ``user_login_failed`` receiver; a
refused attempt is neither (the log cannot be flooded through the sign-in form).
"""

from __future__ import annotations

import hashlib
import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.services import primary_team
from audit.models import AuditAction
from audit.services import client_ip, record

logger = logging.getLogger(__name__)
# Marks a request whose sign-in this module refused, so the failure signal does not count it again.
REFUSED_ATTR = "_login_refused"


class FailedLoginThrottle(SimpleRateThrottle):
    """Failed sign-ins of one identity (an account or an address) within the rate's period."""

    def __init__(self, scope: str, ident: str | None) -> None:
        self.scope = scope
        # Hashed: a cache key never holds what a client typed.
        self.ident = hashlib.sha256(ident.encode()).hexdigest()[:32] if ident else None
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_rate(self) -> str | None:
        # Read per request, not at import (see config.throttling.LiveScopedRateThrottle).
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request=None, view=None) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.ident} if self.ident else None

    def throttle_success(self) -> bool:
        return True  # an attempt is counted only once it has failed (record_failure)

    def record_failure(self) -> None:
        key = self.get_cache_key()
        if self.rate is None or key is None:
            return
        now = self.timer()
        history = [t for t in self.cache.get(key, []) if t > now - self.duration]
        self.cache.set(key, [now, *history], self.duration)


def _throttles(username: str | None, address: str | None) -> list[FailedLoginThrottle]:
    account = (username or "").strip().lower()[:150]
    return [FailedLoginThrottle("login_account", account), FailedLoginThrottle("login_address", address)]


def refused_for_s(request: HttpRequest, username: str | None) -> float | None:
    """Seconds until ``username`` may try again from this request's address; None: it may now."""
    waits = [t.wait() or 1.0 for t in _throttles(username, client_ip(request)) if not t.allow_request(None, None)]
    return max(waits) if waits else None


class LoginThrottleBackend(ModelBackend):
    """First in AUTHENTICATION_BACKENDS: refuses a throttled sign-in before any password is checked.

    It never authenticates anyone itself (ModelBackend, next in the list, does); it inherits
    ModelBackend's ``get_user`` so that a session naming it (``force_login`` picks the first
    backend) still finds its user.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, **credentials):
        if request is not None and refused_for_s(request, username) is not None:
            setattr(request, REFUSED_ATTR, True)
            raise PermissionDenied("too many failed sign-ins")
        return None


@receiver(user_login_failed, dispatch_uid="accounts.login_guard.failed")
def count_and_audit_failure(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    """A wrong password (from the API or the admin): counted against the account and the address, audited."""
    if request is None or getattr(request, REFUSED_ATTR, False):
        return
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or "")
    address = client_ip(request)
    for throttle in _throttles(username, address):
        throttle.record_failure()
    account = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
    logger.warning("failed sign-in for %r from %s", username[:64], address)
    record(
        AuditAction.LOGIN_FAILED,
        actor=None,
        team=primary_team(account) if account is not None else None,
        object_type="user",
        object_id=username[:64],
        ip=address,
        detail={"path": request.path[:200], "known_account": account is not None},
    )
