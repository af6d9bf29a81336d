"""Huey's dashboard on the production pair: the queue in Redis, task events in PostgreSQL."""

from __future__ import annotations

from django.db import connection
from huey.contrib.djhuey import HUEY
from peewee import PostgresqlDatabase

from payouts import tasks

DASHBOARD = "/admin/hueystats/hueydashboard/"
PAYOUT_ID = "00000000-0000-4000-8000-000000000003"


def test_dashboard_counts_the_messages_waiting_in_redis(admin_client, queue):
    tasks.enqueue_processing(PAYOUT_ID, attempt=1, max_attempts=4)

    response = admin_client.get(DASHBOARD)

    assert response.status_code == 200
    assert response.context["enabled"] is True
    assert response.context["live"] == {"pending": 1, "scheduled": 0, "results": 0}


def test_task_events_are_recorded_in_postgresql_for_every_web_process(admin_client, queue):
    task = tasks.processing_task(PAYOUT_ID, attempt=1, max_attempts=4)
    HUEY.enqueue(task)
    HUEY._stats._flush()  # the recorder's writer thread does this every half second

    response = admin_client.get(f"{DASHBOARD}events/", {"q": task.id})

    assert isinstance(HUEY._stats.db, PostgresqlDatabase)
    assert response.status_code == 200
    assert [event["signal"] for event in response.context["events"]] == ["enqueued"]


def test_the_dashboard_reads_events_again_after_postgresql_ended_the_recorders_connection(
    admin_client, queue
):
    task = tasks.processing_task(PAYOUT_ID, attempt=1, max_attempts=4)
    HUEY.enqueue(task)
    HUEY._stats._flush()
    recorder = HUEY._stats.db.connection().info.backend_pid
    with connection.cursor() as cursor:  # as a PostgreSQL restart or an idle timeout would
        cursor.execute("SELECT pg_terminate_backend(%s)", [recorder])

    response = admin_client.get(f"{DASHBOARD}events/", {"q": task.id})

    assert response.status_code == 200
    assert [event["signal"] for event in response.context["events"]] == ["enqueued"]
