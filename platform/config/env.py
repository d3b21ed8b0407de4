"""Settings from the environment through one helper that fails loudly on a bad value."""

from __future__ import annotations

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

_env = environ.Env()
_MISSING = object()


def setting(name: str, default: Any = _MISSING, cast: Any = str) -> Any:
    """Read ``name`` from the environment, cast it, or raise ImproperlyConfigured naming it.

    ``cast`` is ``str``, ``int``, ``float``, ``bool``, ``list`` (comma-separated) or ``"db"``
    (a DATABASE_URL); a missing variable without a default is an error, never a silent None.
    """
    try:
        if cast == "db":
            if default is _MISSING:
                return _env.db_url_config(_env.str(name))
            return _env.db_url_config(_env.str(name, default=default))
        reader = {str: _env.str, int: _env.int, float: _env.float, bool: _env.bool, list: _env.list}[cast]
        return reader(name) if default is _MISSING else reader(name, default=default)
    except ImproperlyConfigured:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise ImproperlyConfigured(f"environment variable {name} has a bad value: {exc}") from exc


# Values .env.example ships (and the embedded mode's key): never accepted by the production settings.
PLACEHOLDER_SECRETS = frozenset(
    {"change-me", "changeme", "change-me-to-a-long-random-string", "embedded-development-key-not-for-production"}
)
GENERATE_HINT = "generate fresh secrets with: python3 deploy/scripts/make-env.py HOSTNAME > .env"


def refuse_placeholder(name: str, value: str, min_chars: int = 0) -> str:
    """``value``, or ImproperlyConfigured naming ``name`` if it is a known placeholder or shorter than ``min_chars``."""
    if value.lower() in PLACEHOLDER_SECRETS or "change-me" in value.lower():
        raise ImproperlyConfigured(f"{name} is the placeholder from .env.example; {GENERATE_HINT}")
    if len(value) < min_chars:
        raise ImproperlyConfigured(f"{name} is shorter than {min_chars} characters; {GENERATE_HINT}")
    return value


def check_signing_key_text(name: str, value: str) -> None:
    """ImproperlyConfigured naming ``name`` unless ``value`` is the base64 of 32 bytes (an Ed25519 private key)."""
    import base64
    import binascii

    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except binascii.Error as exc:
        raise ImproperlyConfigured(f"{name} is not base64: {exc}") from exc
    if len(raw) != 32:
        raise ImproperlyConfigured(f"{name} must be the base64 of 32 bytes (an Ed25519 private key), not {len(raw)}")


def require_settings_module() -> None:
    """Production entry points (wsgi, asgi, the Celery app) never fall back to development settings."""
    import os

    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        raise ImproperlyConfigured(
            "DJANGO_SETTINGS_MODULE is not set: config.settings.production for the stack, "
            "config.settings.local for the embedded mode (make demo sets it)."
        )
