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
