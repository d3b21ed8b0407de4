"""Fixtures for the dashboard tests: the live server with a real worker behind it, an analyst."""

import os
import uuid

import pytest

# Playwright's sync API keeps an asyncio loop running in this thread; Django then refuses ORM
# calls from fixtures as "async unsafe". The ORM calls here are plain synchronous test set-up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from accounts.models import Role
from tests.conftest import PASSWORD
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def live_server_url(live_server, celery_worker_process):
    return live_server.url


@pytest.fixture
def analyst_credentials(transactional_db):
    username = f"analyst-{uuid.uuid4().hex[:8]}"
    UserFactory(username=username, team=TeamFactory(), team__role=Role.ANALYST)
    return {"username": username, "password": PASSWORD}
