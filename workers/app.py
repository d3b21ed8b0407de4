"""Worker entry point: ``celery -A workers.app worker -Q gpu,cpu``.

Django is set up before the task modules import its models; the Celery app itself lives
with the settings (config.celery_app) so the web process can publish without torch.
"""

import django

from config.env import require_settings_module

require_settings_module()
django.setup()

from config.celery_app import app  # noqa: E402
from workers import tasks  # noqa: E402, F401  (registers the tasks)

__all__ = ["app"]
