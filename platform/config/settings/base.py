"""Settings shared by every environment; defaults run the embedded mode (SQLite + filesystem broker)."""

from __future__ import annotations

from pathlib import Path

from config.env import setting
from detector import contract

REPO_DIR = Path(__file__).resolve().parents[3]
DATA_DIR = Path(setting("FORENSICS_DATA_DIR", default=str(REPO_DIR / "var"))).resolve()
FRONTEND_DIST_DIR = REPO_DIR / "frontend" / "dist"

SECRET_KEY = setting("DJANGO_SECRET_KEY", default="embedded-development-key-not-for-production")
DEBUG = setting("DJANGO_DEBUG", default=False, cast=bool)
ALLOWED_HOSTS = setting("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"], cast=list)
CSRF_TRUSTED_ORIGINS = setting("DJANGO_CSRF_TRUSTED_ORIGINS", default=[], cast=list)
# Addresses or networks of the reverse proxies in front of the app (nginx): only from them is
# X-Forwarded-For believed (audit.services.client_ip, for the custody log and sign-in limits).
TRUSTED_PROXIES = setting("FORENSICS_TRUSTED_PROXIES", default=[], cast=list)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "audit",
    "cases",
    "webhooks",
]

# The sign-in guard refuses throttled attempts (API and admin) before any password is checked.
AUTHENTICATION_BACKENDS = ["accounts.login_guard.LoginThrottleBackend", "django.contrib.auth.backends.ModelBackend"]

MIDDLEWARE = [
    # First: an oversized body is refused before any other middleware or view can read it.
    "config.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before whitenoise, so static files get the same headers as every other response.
    "config.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETag on every GET so pollers get 304 Not Modified while a job is unchanged.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def _database() -> dict:
    url = setting("DATABASE_URL", default="")
    if url:
        db = setting("DATABASE_URL", cast="db")
        if db["ENGINE"] == "django.db.backends.postgresql":
            db.setdefault("CONN_MAX_AGE", 60)
            db["CONN_HEALTH_CHECKS"] = True
        return db
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # The embedded web process and worker share this file: WAL lets readers run beside the
    # writer, IMMEDIATE transactions take the write lock up front, and the busy timeout waits
    # instead of failing with "database is locked".
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "db.sqlite3",
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The dashboard's Vite bundle is built with base "/static/" into frontend/dist.
STATICFILES_DIRS = [FRONTEND_DIST_DIR] if FRONTEND_DIST_DIR.is_dir() else []
MEDIA_ROOT = Path(setting("FORENSICS_MEDIA_ROOT", default=str(DATA_DIR / "media"))).resolve()
MEDIA_URL = "/media/"

# Uploads stream to disk past 2.5 MB; the hard cap is enforced while streaming (cases.uploads).
MAX_UPLOAD_BYTES = setting("FORENSICS_MAX_UPLOAD_BYTES", default=2 * 1024**3, cast=int)
# Bytes of originals one team may hold (uploads past it answer 507); 0: no quota.
TEAM_STORAGE_QUOTA_BYTES = setting("FORENSICS_TEAM_STORAGE_QUOTA_BYTES", default=1024**4, cast=int)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Every request body except an upload's (config.middleware.RequestBodyLimitMiddleware; nginx's cap
# outside the upload location is the same): JSON and forms here are a few kilobytes.
MAX_REQUEST_BODY_BYTES = setting("FORENSICS_MAX_REQUEST_BODY_BYTES", default=1024 * 1024, cast=int)
# The routes that take a file (POST only), by URL name.
LARGE_BODY_URL_NAMES = frozenset({"job-list"})
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# A submission carries one file; the form fields around it are few.
DATA_UPLOAD_MAX_NUMBER_FILES = 1
DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
FILE_UPLOAD_TEMP_DIR = None
FILE_UPLOAD_HANDLERS = [
    "cases.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["config.throttling.LiveScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "submit": setting("FORENSICS_SUBMIT_RATE", default="120/minute"),
        # Failed sign-ins (accounts.login_guard): per account, and per client address (a NAT may hold many users).
        "login_account": setting("FORENSICS_LOGIN_FAILURES_PER_ACCOUNT", default="10/hour"),
        "login_address": setting("FORENSICS_LOGIN_FAILURES_PER_ADDRESS", default="30/hour"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Video forensics API",
    "DESCRIPTION": "Submit videos and images, poll analysis jobs, read per-frame, per-face and per-detector "
    "scores and the verdict.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets are served locally: no CDN is reachable from an evidence network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation's error responses (400/401/403/404/405, and 413/429 on submissions) are documented.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.document_error_responses",
    ],
    # One name per choice set, the contract's (the dashboard's generated types use these names).
    "ENUM_NAME_OVERRIDES": {
        "VerdictLabelEnum": "cases.models.VerdictLabel",
        "ReviewStatusEnum": "cases.models.ReviewStatus",
        "JobStageEnum": "cases.models.JobStage",
        "JobStateEnum": "cases.models.JobState",
    },
}

# Celery. Embedded default: kombu's filesystem transport (no server); full stack: Redis.
CELERY_BROKER_URL = setting("CELERY_BROKER_URL", default="filesystem://")
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Without this kombu writes its exchange files into the current directory.
        "control_folder": str(BROKER_DIR / "control"),
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
else:
    # A job can run for many minutes on a slow CPU: the visibility timeout must exceed the
    # longest job or Redis hands the same unacknowledged job to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": setting("CELERY_VISIBILITY_TIMEOUT_S", default=4 * 3600, cast=int)
    }
ANALYSIS_QUEUE = setting("FORENSICS_ANALYSIS_QUEUE", default="gpu")
JOB_TIME_LIMIT_S = setting("FORENSICS_JOB_TIME_LIMIT_S", default=3600, cast=int)
JOB_MAX_ATTEMPTS = setting("FORENSICS_JOB_MAX_ATTEMPTS", default=3, cast=int)
# A running job whose worker has not renewed its lease (heartbeat) for this long may be claimed again.
JOB_LEASE_S = setting("FORENSICS_JOB_LEASE_S", default=120, cast=int)
# Test-only fault hooks in workers.faults (e.g. a poison-pill file that kills its worker); never in production.
FAULT_INJECTION = False
DEFAULT_SAMPLE_FRAMES = setting("FORENSICS_DEFAULT_FRAMES", default=32, cast=int)
MAX_SAMPLE_FRAMES = 300
# The detectors a job may name: those shipped with trained weights. A deployment that ships its own
# checkpoints (FORENSICS_WEIGHTS_DIR) lists them here; a name outside this list is refused at submission.
ANALYSIS_DETECTORS = tuple(setting("FORENSICS_DETECTORS", default=list(contract.SHIPPED_DETECTORS), cast=list))
# Distinct detectors one job may run: each is a model held in the worker's memory while it runs.
MAX_DETECTORS_PER_JOB = setting("FORENSICS_MAX_DETECTORS_PER_JOB", default=4, cast=int)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": setting("DJANGO_LOG_LEVEL", default="INFO")},
    # WeasyPrint (the PDF report) logs every layout step at INFO.
    "loggers": {"django.request": {"level": "ERROR"}, "weasyprint": {"level": "WARNING"}},
}

# Webhooks (webhooks.services): deliveries go out on the cpu workers' queue and are retried with
# doubling back-off (base, base*2, ... capped) up to the attempt limit; an endpoint is disabled after
# that many deliveries in a row were given up on. Private and loopback targets are refused unless
# allowed (a development receiver on localhost; the tests' receiver).
WEBHOOK_QUEUE = "cpu"
WEBHOOK_TIMEOUT_S = setting("FORENSICS_WEBHOOK_TIMEOUT_S", default=10.0, cast=float)
WEBHOOK_MAX_ATTEMPTS = setting("FORENSICS_WEBHOOK_MAX_ATTEMPTS", default=6, cast=int)
WEBHOOK_RETRY_BASE_S = setting("FORENSICS_WEBHOOK_RETRY_BASE_S", default=30.0, cast=float)
WEBHOOK_RETRY_MAX_S = setting("FORENSICS_WEBHOOK_RETRY_MAX_S", default=3600.0, cast=float)
WEBHOOK_DISABLE_AFTER_FAILURES = setting("FORENSICS_WEBHOOK_DISABLE_AFTER_FAILURES", default=5, cast=int)
WEBHOOK_ALLOW_PRIVATE_TARGETS = setting("FORENSICS_WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False, cast=bool)
# CA bundle (PEM file) that webhook receivers' certificates are checked against; empty: certifi's public CAs.
WEBHOOK_CA_BUNDLE = setting("FORENSICS_WEBHOOK_CA_BUNDLE", default="")
# The dashboard's public origin (e.g. https://forensics.example.org), for absolute links in webhook bodies.
PUBLIC_BASE_URL = setting("FORENSICS_PUBLIC_BASE_URL", default="")

# PDF reports are signed (audit.report_signing) with this Ed25519 key: the base64 of its 32 private bytes
# (manage.py report_signing_key --new prints one). Without it a development machine keeps one in the data
# directory, made on first use; production has no such fallback and serves no PDF until it is set.
REPORT_SIGNING_KEY = setting("FORENSICS_REPORT_SIGNING_KEY", default="")
REPORT_SIGNING_KEY_FALLBACK_FILE: Path | None = DATA_DIR / "report-signing.key"
