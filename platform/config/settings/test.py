"""Test settings: the real Postgres and Redis on loopback (each overridable by environment)."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import DATA_DIR

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/forensics")
from config.env import setting

DATABASES = {"default": setting("DATABASE_URL", cast="db")}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Redis database index for this test run's broker; workers started by tests use the same URL.
CELERY_BROKER_URL = setting("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/11")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
MEDIA_ROOT = setting("FORENSICS_MEDIA_ROOT", default=str(DATA_DIR / "test-media"))
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {**REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "submit": "10000/minute"},  # noqa: F405
}
# Tests that start several server processes give them one cache, so the sign-in limits hold across them
# (tests/integration/test_sign_in_limits.py); otherwise each process has its own memory cache.
if setting("DJANGO_CACHE_URL", default=""):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": setting("DJANGO_CACHE_URL")}
    }
# workers.faults hooks (poison pills for the chaos tests) are honoured in test processes only.
FAULT_INJECTION = True
