"""The webhooks' own queue and consumer: payout processing never waits behind a receiver."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from huey.contrib.djhuey import HUEY

from events.models import Event
from tests.conftest import ROOT, fresh_environment, payout_payload, run_in_fresh_process
from tests.webhooks.deliveries import allow_loopback, endpoint_for
from webhooks import receivers
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.queue import WEBHOOK_HUEY
from webhooks.tasks import deliver, fan_out, sweep_deliveries

SETTINGS = {"DJANGO_SETTINGS_MODULE": "project.settings"}
QUEUE_OF = """
import json, django
django.setup()
from django.conf import settings
from webhooks.queue import WEBHOOK_HUEY
print(json.dumps({
    "class": type(WEBHOOK_HUEY).__name__,
    "name": WEBHOOK_HUEY.name,
    "filename": getattr(WEBHOOK_HUEY.storage, "filename", None),
    "shares_the_pool": WEBHOOK_HUEY.storage.pool is settings.HUEY.get("connection_pool")
        if hasattr(WEBHOOK_HUEY.storage, "pool") else None,
}))
"""


def test_webhook_tasks_are_on_their_own_queue_never_the_payouts():
    assert WEBHOOK_HUEY is not HUEY
    assert {fan_out.huey, deliver.huey, sweep_deliveries.huey} == {WEBHOOK_HUEY}
    payout_tasks = set(HUEY._registry._registry)
    assert not any(name.startswith("webhooks.") for name in payout_tasks)


def test_without_redis_the_queue_is_a_sqlite_file_in_the_data_directory(tmp_path):
    result = run_in_fresh_process(QUEUE_OF, DATA_DIR=str(tmp_path), **SETTINGS)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "class": "SqliteHuey",
        "name": "webhooks",
        "filename": str(tmp_path / "webhooks-huey.sqlite3"),
        "shares_the_pool": None,
    }


def test_with_redis_the_queue_shares_the_payouts_connection_pool(tmp_path):
    result = run_in_fresh_process(
        QUEUE_OF, DATA_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:6379/11", **SETTINGS
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "class": "RedisHuey",
        "name": "webhooks",
        "filename": None,
        "shares_the_pool": True,
    }


def test_a_payout_created_through_the_api_is_delivered_to_its_clients_endpoint(
    api_client, owner, httpserver, settings, django_capture_on_commit_callbacks
):
    allow_loopback(settings)
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = endpoint_for(owner.client, httpserver.url_for("/hook"))

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/payouts/", payout_payload(), format="json")

    assert response.status_code == 201
    event = Event.objects.get(payout_id=response.json()["id"], type="payout.created")
    delivery = WebhookDelivery.objects.get(event=event, endpoint=endpoint)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    (request, _), *_ = httpserver.log
    assert request.headers["webhook-id"] == event.public_id


def test_a_queue_that_cannot_take_the_fan_out_never_fails_the_change(
    api_client, owner, monkeypatch, log_lines, django_capture_on_commit_callbacks
):
    def queue_down(event_position: int) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(receivers, "enqueue_fan_out", queue_down)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/payouts/", payout_payload(), format="json")

    assert response.status_code == 201
    events = Event.objects.filter(payout_id=response.json()["id"])
    assert events.exists()
    assert not events.filter(dispatched_at__isnull=False).exists()
    errors = [line for line in log_lines() if line["level"] == "error"]
    assert any("the webhooks sweep will deliver it" in line["event"] for line in errors), errors


def start_consumer(tmp_path, *args: str, **env: str) -> str:
    """Start `manage.py run_webhooks`, wait for its start-up line, stop it; its output."""
    environment = fresh_environment(DATA_DIR=str(tmp_path), LOG_LEVEL="INFO", **env)
    log = tmp_path / "webhooks.log"
    with log.open("wb") as out:
        consumer = subprocess.Popen(
            [sys.executable, "manage.py", "run_webhooks", *args],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while "Huey consumer started" not in log.read_text() and consumer.poll() is None:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        finally:
            consumer.send_signal(signal.SIGINT)
            consumer.wait(timeout=30)
    return log.read_text()


def test_run_webhooks_starts_webhook_workers_threads(tmp_path):
    output = start_consumer(tmp_path, WEBHOOK_WORKERS="3")

    assert "Huey consumer started with 3 thread" in output
    assert "webhooks.tasks.deliver" in output
    assert "webhooks.tasks.sweep_deliveries" in output
    assert "payouts.tasks" not in output


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--workers", "2", "-k", "greenlet"), {}), ((), {"WEBHOOK_WORKER_TYPE": "greenlet"})],
)
def test_run_webhooks_with_greenlets_is_patched_before_it_starts(tmp_path, args, env):
    output = start_consumer(tmp_path, *args, WEBHOOK_WORKERS="2", **env)

    assert "Huey consumer started with 2 greenlet" in output
    assert "monkey-patch has not been applied" not in output
