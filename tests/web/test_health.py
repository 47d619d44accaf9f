"""GET /healthz against the real database and the real Redis, and with the broker unreachable."""

import socket

import pytest
from django.test import Client

from tests.support.services import require_redis
from tests.support.worker import broker, redis_test_url

pytestmark = pytest.mark.django_db


def test_healthy_with_database_and_broker():
    with broker(redis_test_url(require_redis())):
        r = Client().get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in r["Cache-Control"]


def test_broker_down_is_degraded_not_down():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with broker(f"redis://127.0.0.1:{port}/0"):
        r = Client().get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "degraded", "database": "ok", "broker": "down"}


def test_only_get():
    assert Client().post("/healthz").status_code == 405


def test_database_down_is_503(monkeypatch):
    """The database is the edge of the world here: a connection that refuses every query."""
    from django.db import OperationalError

    from annotations.web import health

    class Refusing:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", Refusing())
    with broker(redis_test_url(require_redis())):
        r = Client().get("/healthz")
    assert r.status_code == 503 and r.json()["status"] == "down" and r.json()["database"] == "down"
