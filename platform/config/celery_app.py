"""The Celery application. The web process only publishes by task name; workers/ holds the tasks."""

from celery import Celery
from kombu import Queue

from config.env import require_settings_module, setting

# Workers, beat and flower are production processes: no fallback to the development settings.
require_settings_module()

app = Celery("forensics")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A job is acknowledged only after it finished; if the worker process dies mid-job the
    # broker redelivers it, and the claim in cases.lease decides whether it may run again.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_default_queue="gpu",
    task_queues=[Queue("gpu"), Queue("cpu")],
    task_routes={
        "forensics.analyze_job": {"queue": "gpu"},
        "forensics.reap_stale_jobs": {"queue": "cpu"},
        "forensics.clean_up_storage": {"queue": "cpu"},
        "forensics.deliver_webhook": {"queue": "cpu"},
    },
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    worker_send_task_events=True,
)

# `celery beat` publishes these; the cpu workers run them. A message expires after one interval so
# a stopped cpu worker does not come back to a pile of identical reaper runs.
REAPER_INTERVAL_S = setting("FORENSICS_REAPER_INTERVAL_S", default=60.0, cast=float)
CLEANUP_INTERVAL_S = setting("FORENSICS_CLEANUP_INTERVAL_S", default=3600.0, cast=float)
app.conf.beat_schedule = {
    "reap-stale-jobs": {
        "task": "forensics.reap_stale_jobs",
        "schedule": REAPER_INTERVAL_S,
        "options": {"queue": "cpu", "expires": REAPER_INTERVAL_S},
    },
    "clean-up-storage": {
        "task": "forensics.clean_up_storage",
        "schedule": CLEANUP_INTERVAL_S,
        "options": {"queue": "cpu", "expires": CLEANUP_INTERVAL_S},
    },
}
