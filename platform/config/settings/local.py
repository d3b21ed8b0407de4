"""The embedded default on one machine: SQLite file, filesystem broker, DEBUG on."""

from config.env import setting
from config.settings.base import *  # noqa: F403

DEBUG = setting("DJANGO_DEBUG", default=True, cast=bool)

# gunicorn serves static files through whitenoise straight from the app and frontend folders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
