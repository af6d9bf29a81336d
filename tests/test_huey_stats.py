"""Huey's own dashboard in the admin: staff only, and it reads the configured queue."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from huey.contrib.djhuey import HUEY
from huey.storage import SqliteStorage

from payouts import tasks
from tests.conftest import run_in_fresh_process

DASHBOARD = "/admin/hueystats/hueydashboard/"
EVENTS = "/admin/hueystats/hueydashboard/events/"


@pytest.fixture
def sqlite_queue(tmp_path, monkeypatch):
    """Huey on SQLite storage, as a service without REDIS_URL runs it, in a file of the test's."""
    monkeypatch.setattr(HUEY, "immediate", False)
    monkeypatch.setattr(HUEY, "storage", SqliteStorage(HUEY.name, filename=str(tmp_path / "q.db")))
    yield HUEY
    HUEY.storage.close()


def staff_user(*codenames: str) -> User:
    user = User.objects.create_user("operator", password="pw", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def test_dashboard_shows_the_recorder_running_and_the_queue_depth(admin_client, sqlite_queue):
    tasks.enqueue_processing("00000000-0000-4000-8000-000000000001", attempt=1, max_attempts=4)

    response = admin_client.get(DASHBOARD)

    assert response.status_code == 200
    assert response.context["enabled"] is True
    assert response.context["live"] == {"pending": 1, "scheduled": 0, "results": 0}
    assert b"Throughput" in response.content


def test_dashboard_lists_the_payout_tasks(admin_client, sqlite_queue):
    response = admin_client.get(DASHBOARD)

    names = {row["task"] for row in response.context["known"]}
    assert {"process_payout", "record_paid_later", "recover_stalled_payouts"} <= names


def test_events_page_lists_the_events_this_process_recorded(admin_client, sqlite_queue):
    task = tasks.processing_task("00000000-0000-4000-8000-000000000002", attempt=1, max_attempts=4)
    HUEY.enqueue(task)
    HUEY._stats._flush()  # the recorder's writer thread does this every half second

    response = admin_client.get(EVENTS, {"q": task.id})

    assert response.status_code == 200
    assert [event["signal"] for event in response.context["events"]] == ["enqueued"]


def test_dashboard_redirects_an_anonymous_visitor_to_the_login(client, db):
    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_dashboard_redirects_a_user_who_is_not_staff_to_the_login(client, db):
    client.force_login(User.objects.create_user("client-user", password="pw"))

    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_dashboard_is_forbidden_to_staff_without_its_permission(client, db):
    client.force_login(staff_user("view_payout"))

    response = client.get(DASHBOARD)

    assert response.status_code == 403


def test_dashboard_is_shown_to_staff_with_its_view_permission_without_controls(client, db):
    client.force_login(staff_user("view_hueydashboard"))

    response = client.get(DASHBOARD)

    assert response.status_code == 200
    assert response.context["can_act"] is False
    assert b"Danger zone" not in response.content


def test_dashboard_controls_need_the_change_permission(client, db):
    client.force_login(staff_user("view_hueydashboard"))

    response = client.post(f"{DASHBOARD}action/", {"op": "flush_queue"})

    assert response.status_code == 403


def test_a_web_process_registers_the_tasks_the_dashboard_lists(tmp_path):
    """run_huey imports the tasks itself; a web process must too, or the dashboard would list
    only the tasks that happen to have run."""
    result = run_in_fresh_process(
        "import django; django.setup(); "
        "from huey.contrib.djhuey import HUEY; from huey.contrib.stats import known_tasks; "
        "print(sorted(task['task'] for task in known_tasks(HUEY)))",
        DJANGO_SETTINGS_MODULE="project.settings",
        DATA_DIR=str(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        [
            "process_payout",
            "purge_expired_idempotency_keys",
            "record_paid_later",
            "recover_stalled_payouts",
        ]
    )
