"""/readyz against the real PostgreSQL and Redis, and against each of them really unreachable."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from huey.storage import RedisStorage

DEAD_PORT = 1


# These fixtures restore what they break themselves: the queue and database fixtures tear down
# through the very storage and connection, before a monkeypatch would be undone.
@pytest.fixture
def dead_redis(queue):
    """The queue's storage pointed at a port where nothing listens."""
    live = queue.storage
    queue.storage = RedisStorage(url=f"redis://127.0.0.1:{DEAD_PORT}/0")
    yield
    queue.storage = live


@pytest.fixture
def dead_database(transactional_db):
    """The default connection, and its pool, pointed at a port where nothing listens."""
    live_port = connection.settings_dict["PORT"]
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]  # PostgreSQL's wrapper has a pool
    connection.settings_dict["PORT"] = DEAD_PORT
    yield
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]
    connection.settings_dict["PORT"] = live_port


def test_readyz_is_ok_on_real_postgresql_and_redis(client, queue, transactional_db):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "queue": "ok"}}


def test_readyz_names_the_queue_when_redis_is_unreachable(client, transactional_db, dead_redis):
    started = time.monotonic()
    response = client.get("/readyz")

    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "database": "ok",
            "queue": "unavailable: Error 111 connecting to 127.0.0.1:1. Connection refused.",
        },
    }


def test_readyz_names_the_database_when_postgresql_is_unreachable(client, queue, dead_database):
    started = time.monotonic()
    response = client.get("/readyz")

    # Not the pool's timeout: the probe's own connection is refused at once.
    assert time.monotonic() - started < 2

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["queue"] == "ok"
    assert body["checks"]["database"].startswith("unavailable: connection failed: ")
    assert "port 1 failed: Connection refused" in body["checks"]["database"]


def test_database_connections_probe_a_silent_peer_within_a_minute(db):
    connection.ensure_connection()

    parameters = connection.connection.info.get_parameters()

    probing = {key: parameters.get(key) for key in ("keepalives", "keepalives_idle")}
    assert probing == {"keepalives": "1", "keepalives_idle": "30"}
    assert int(parameters["keepalives_interval"]) * int(parameters["keepalives_count"]) == 30
