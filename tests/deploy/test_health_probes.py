"""/healthz answers while the process lives; /readyz only while Postgres and the broker both answer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_readyz_is_ok_with_the_database_and_the_broker_up(client, redis_broker_url):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_refuses_with_503_and_names_the_broker_when_it_is_unreachable(client, monkeypatch):
    from config.celery_app import app

    # A real kombu connection to a Redis URL where nothing listens (port 1): refused at once.
    connect = app.connection_for_write
    monkeypatch.setattr(app, "connection_for_write", lambda *args, **kwargs: connect("redis://127.0.0.1:1/0"))
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error: ")
    # Liveness does not depend on the broker: a restart would not bring it back.
    assert client.get("/healthz").status_code == 200
