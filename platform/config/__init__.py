"""Django project configuration: settings, URLs, WSGI/ASGI and the Celery app."""
