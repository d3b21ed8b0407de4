"""Production: everything comes from the environment; secrets have no defaults."""

from config.env import check_signing_key_text, refuse_placeholder, setting
from config.settings.base import *  # noqa: F403

# Django's own deploy check asks for at least 50 characters; a placeholder or short key is refused outright.
SECRET_KEY = refuse_placeholder("DJANGO_SECRET_KEY", setting("DJANGO_SECRET_KEY"), min_chars=50)
DEBUG = False
ALLOWED_HOSTS = setting("DJANGO_ALLOWED_HOSTS", cast=list)
DATABASES = {"default": setting("DATABASE_URL", cast="db")}
# The stack's DATABASE_URL carries POSTGRES_APP_PASSWORD (the app role), migrate's POSTGRES_PASSWORD (the owner).
refuse_placeholder(
    "the database password in DATABASE_URL (POSTGRES_APP_PASSWORD; migrate: POSTGRES_PASSWORD)",
    str(DATABASES["default"].get("PASSWORD") or ""),
)
# Flower reads its basic auth itself; it loads these settings first (celery -A config.celery_app flower).
for _credentials in setting("FLOWER_BASIC_AUTH", default=[], cast=list):
    refuse_placeholder("FLOWER_BASIC_AUTH", _credentials.partition(":")[2], min_chars=12)
# The report signing key comes from the environment only (compose gives it to the api alone; the other
# processes run without it and sign nothing): a placeholder or a value that is not 32 bytes is refused.
REPORT_SIGNING_KEY_FALLBACK_FILE = None
if REPORT_SIGNING_KEY:  # noqa: F405
    refuse_placeholder("FORENSICS_REPORT_SIGNING_KEY", REPORT_SIGNING_KEY)  # noqa: F405
    check_signing_key_text("FORENSICS_REPORT_SIGNING_KEY", REPORT_SIGNING_KEY)  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
CELERY_BROKER_URL = setting("CELERY_BROKER_URL")
# Shared by every web process, so the per-user submission rate limit holds across gunicorn workers.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": setting("DJANGO_CACHE_URL", default=CELERY_BROKER_URL),
    }
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = setting("DJANGO_SECURE_SSL_REDIRECT", default=True, cast=bool)
# Probes (compose healthchecks, load balancers) ask over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = setting("DJANGO_SECURE_HSTS_SECONDS", default=31536000, cast=int)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
