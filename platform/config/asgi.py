"""ASGI entry point. DJANGO_SETTINGS_MODULE must be set: no fallback to development settings."""

from django.core.asgi import get_asgi_application

from config.env import require_settings_module

require_settings_module()
application = get_asgi_application()
