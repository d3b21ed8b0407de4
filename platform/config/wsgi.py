"""WSGI entry point (gunicorn). DJANGO_SETTINGS_MODULE must be set: no fallback to development settings."""

from django.core.wsgi import get_wsgi_application

from config.env import require_settings_module

require_settings_module()
application = get_wsgi_application()
