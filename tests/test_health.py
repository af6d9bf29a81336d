"""The health probes over HTTP: /healthz always, /readyz naming the dependency that is down."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connections

MSG_DATABASE_DOWN = 'connection to server at "127.0.0.1", port 1 failed: Connection refused'


def test_healthz_answers_ok_without_touching_dependencies(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_database_and_queue_answer(client, db):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "queue": "ok"}}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_refuse_writes(client, db, path):
    response = client.post(path)

    assert response.status_code == 405


def test_readyz_names_the_database_when_it_cannot_connect(client, db, monkeypatch):
    def refuse(self) -> None:
        raise OperationalError(MSG_DATABASE_DOWN)

    # The connection layer itself fails, as when the server is gone; the query never runs.
    # Every connection to the database, since the probe opens one of its own.
    with monkeypatch.context() as patch:
        patch.setattr(type(connections["default"]), "ensure_connection", refuse)
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": f"unavailable: {MSG_DATABASE_DOWN}", "queue": "ok"},
    }
