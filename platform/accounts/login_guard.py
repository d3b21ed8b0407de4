"""Password guessing: sign-ins refused after too many recent failures, per account and per address.

Each attempt reserves a slot of both limits atomically (a cache counter, ``cache.add`` then ``incr``:
Redis INCR in production) before any password is checked, and gives it back when the sign-in succeeds,
so only failures use a limit up and no burst of concurrent attempts gets more passwords checked than
the limit allows (a check-then-count would let every attempt in flight through). Counters are kept
per period of the rate (an hour for ``10/hour``); an attempt is admitted while the slots taken in the
current and the previous period leave one free, so at most the limit's number of failures fall within
any one period's length.

Both sign-in doors share the counters: the API's login view reserves first and refuses with 429 and
Retry-After; the Django admin's form goes through ``authenticate``, where :class:`LoginThrottleBackend`
reserves (django-axes' design). Every failure is written to the custody log by the ``user_login_failed``
receiver; a refused attempt is not (the log cannot be flooded through the sign-in form).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.services import primary_team
from audit.models import AuditAction
from audit.services import client_ip, record

logger = logging.getLogger(__name__)
# Marks a request whose sign-in this module refused, so the failure signal does not audit it.
REFUSED_ATTR = "_login_refused"
# The slots a request's sign-in attempt holds (given back if it succeeds).
SLOTS_ATTR = "_login_slots"


@dataclass(frozen=True)
class Slot:
    """One taken slot: the counter it was taken from."""

    key: str


class FailedLoginThrottle(SimpleRateThrottle):
    """Sign-in attempts of one identity (an account or an address) that may fail within the rate's period."""

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

    def _counter(self, period: int) -> str:
        return f"{self.get_cache_key()}:{period}"

    def reserve(self) -> Slot | float | None:
        """Take a slot for an attempt about to check a password: the slot, the seconds to wait when none is
        free, or None when this identity has no limit."""
        if self.rate is None or self.get_cache_key() is None:
            return None
        now = self.timer()
        period = int(now // self.duration)
        key = self._counter(period)
        # Kept through the next period too, where it is the previous one.
        self.cache.add(key, 0, timeout=2 * self.duration)
        try:
            taken = self.cache.incr(key)
        except ValueError:  # expired between add and incr (a period boundary): start it again
            self.cache.add(key, 1, timeout=2 * self.duration)
            taken = 1
        previous = self.cache.get(self._counter(period - 1), 0)
        if taken + previous <= self.num_requests:
            return Slot(key)
        self.release(Slot(key))
        # Free once this period's slots are the previous period's and leave one; a full period waits two.
        next_period_s = (period + 1) * self.duration - now
        return max(1.0, next_period_s + (self.duration if taken - 1 >= self.num_requests else 0))

    def release(self, slot: Slot) -> None:
        # A counter that expired with its periods has nothing to give back.
        with contextlib.suppress(ValueError):
            self.cache.decr(slot.key)


def _throttles(username: str | None, address: str | None) -> list[FailedLoginThrottle]:
    account = (username or "").strip().lower()[:150]
    return [FailedLoginThrottle("login_account", account), FailedLoginThrottle("login_address", address)]


def reserve_attempt(request: HttpRequest, username: str | None) -> float | None:
    """Reserve this sign-in attempt's slots (account and address) before its password is checked: None when
    it may go on (the slots are held on the request), else the seconds until it may try again."""
    taken: list[tuple[FailedLoginThrottle, Slot]] = []
    waits: list[float] = []
    for throttle in _throttles(username, client_ip(request)):
        outcome = throttle.reserve()
        if isinstance(outcome, Slot):
            taken.append((throttle, outcome))
        elif outcome is not None:
            waits.append(outcome)
    if waits:
        for throttle, slot in taken:
            throttle.release(slot)
        return max(waits)
    setattr(request, SLOTS_ATTR, taken)
    return None


class LoginThrottleBackend(ModelBackend):
    """First in AUTHENTICATION_BACKENDS: reserves the attempt's slots before any password is checked, and
    refuses a sign-in that gets none.

    It never authenticates anyone itself (ModelBackend, next in the list, does); it inherits
    ModelBackend's ``get_user`` so that a session naming it (``force_login`` picks the first
    backend) still finds its user.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, **credentials):
        if request is None or hasattr(request, SLOTS_ATTR):
            return None  # no client to count, or the API's login view reserved already
        if reserve_attempt(request, username) is not None:
            setattr(request, REFUSED_ATTR, True)
            raise PermissionDenied("too many failed sign-ins")
        return None


@receiver(user_logged_in, dispatch_uid="accounts.login_guard.succeeded")
def give_back_slots(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """A right password: its attempt's slots are free again (only failures use a limit up)."""
    for throttle, slot in getattr(request, SLOTS_ATTR, None) or []:
        throttle.release(slot)
    if request is not None:
        setattr(request, SLOTS_ATTR, [])


@receiver(user_login_failed, dispatch_uid="accounts.login_guard.failed")
def audit_failure(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    """A wrong password (from the API or the admin), already counted by its slots: audited."""
    if request is None or getattr(request, REFUSED_ATTR, False):
        return
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or "")
    address = client_ip(request)
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
