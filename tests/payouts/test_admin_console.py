"""The admin as an operator's console: filters, search, history with actors, and the action
that enqueues a stuck payout again under the recovery sweep's rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from payouts import admin as payouts_admin
from payouts import services, tasks
from payouts.callers import Caller
from payouts.models import FailureCode, Payout, PayoutStatus
from tests.conftest import payout_payload
from tests.payouts.conftest import age

CHANGELIST = "/admin/payouts/payout/"


def listed(response) -> list:
    assert response.status_code == 200
    return [payout.pk for payout in response.context["cl"].result_list]


def fail(payout: Payout, code: str) -> None:
    Payout.objects.filter(pk=payout.pk).update(
        status=PayoutStatus.FAILED, attempts=1, failure_code=code, failure_reason="refused"
    )


# Filters and search


def test_changelist_filters_by_the_services_own_failure_code(admin_client, make_payout):
    unavailable = make_payout(status=PayoutStatus.FAILED)  # provider_unavailable
    fail(make_payout(), "insufficient_funds")
    make_payout()

    response = admin_client.get(CHANGELIST, {"failure_code": "provider_unavailable"})

    assert listed(response) == [unavailable.pk]


def test_changelist_filters_the_declines_with_the_providers_own_code(admin_client, make_payout):
    declined = make_payout()
    fail(declined, "insufficient_funds")
    make_payout(status=PayoutStatus.FAILED)
    make_payout()

    response = admin_client.get(CHANGELIST, {"failure_code": "declined"})

    assert listed(response) == [declined.pk]


def test_changelist_filters_by_client(admin_client, make_payout, stranger):
    mine = make_payout()
    services.payout_create(stranger.caller, payout_payload())

    response = admin_client.get(CHANGELIST, {"client__id__exact": str(mine.client_id)})

    assert listed(response) == [mine.pk]


def test_changelist_filters_by_creation_date(admin_client, make_payout):
    today = make_payout()
    old = make_payout()
    Payout.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)

    response = admin_client.get(
        CHANGELIST,
        {
            "created_at__gte": midnight.isoformat(sep=" "),
            "created_at__lt": (midnight + timedelta(days=1)).isoformat(sep=" "),
        },
    )

    assert listed(response) == [today.pk]
    assert b"Past 7 days" in response.content


def test_changelist_filters_the_stalled_payouts_the_sweep_would_take(
    admin_client, make_payout, settings
):
    stalled_pending = make_payout()
    age(stalled_pending, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)
    abandoned = make_payout()
    services.payout_start_attempt(abandoned.id, 1)
    age(abandoned, settings.PAYOUT_PROCESSING_LEASE_SECONDS + 1)
    in_flight = make_payout()
    services.payout_start_attempt(in_flight.id, 1)
    age(in_flight, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)  # within its lease
    make_payout()  # fresh

    response = admin_client.get(CHANGELIST, {"stalled": "yes"})

    assert set(listed(response)) == {stalled_pending.pk, abandoned.pk}


def test_changelist_searches_by_client_name(admin_client, make_payout, stranger):
    services.payout_create(stranger.caller, payout_payload())
    mine = make_payout()

    response = admin_client.get(CHANGELIST, {"q": "acme"})

    assert listed(response) == [mine.pk]


def test_changelist_offers_no_bulk_delete(admin_client, pending_payout):
    response = admin_client.get(CHANGELIST)

    actions = [value for value, _ in response.context["action_form"].fields["action"].choices]
    assert actions == ["", "requeue"]


def test_changelist_links_to_the_huey_dashboard(admin_client, db):
    response = admin_client.get(CHANGELIST)

    assert b'href="/admin/hueystats/hueydashboard/"' in response.content


# History


def test_payout_page_shows_its_history_with_who_did_what(
    admin_client, admin_user, owner, make_payout, django_capture_on_commit_callbacks
):
    payout = make_payout()
    services.payout_update(Caller.for_staff(admin_user.username), payout.id, {"amount": "75.50"})
    with django_capture_on_commit_callbacks(execute=True):
        HUEY.execute(tasks.processing_task(payout.id, attempt=1, max_attempts=4))

    response = admin_client.get(f"{CHANGELIST}{payout.pk}/change/")

    html = response.content.decode()
    rows = html[html.index('id="payout-history"') :].split("</tr>")
    assert "Created" in rows[1]
    assert f"Client (API key) {owner.api_key.prefix}" in rows[1]
    assert "Updated" in rows[2]
    assert f"Staff user {admin_user.username}" in rows[2]
    assert '"to": "75.50"' in rows[2].replace("&quot;", '"')
    assert "Attempt started" in rows[3]
    assert "<td>Worker</td>" in rows[3]
    assert "Completed" in rows[4]
    assert "<td>Worker</td>" in rows[4]


# The re-enqueue action


@pytest.fixture
def stuck_payout(pending_payout: Payout, settings) -> Payout:
    """A PENDING payout whose message was lost: untouched past the sweep's threshold."""
    age(pending_payout, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)
    return pending_payout


def requeue(client, *payouts: Payout, capture):
    with capture(execute=True):
        response = client.post(
            CHANGELIST,
            {"action": "requeue", "_selected_action": [str(p.pk) for p in payouts]},
            follow=True,
        )
    assert response.status_code == 200
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_requeue_enqueues_a_stuck_pending_payout_once_and_records_the_staff_user(
    admin_client, admin_user, stuck_payout, enqueued, django_capture_on_commit_callbacks
):
    shown = requeue(admin_client, stuck_payout, capture=django_capture_on_commit_callbacks)

    message = services.MSG_REQUEUE_REQUEUED.format(attempt=1)
    assert shown == [("success", f"Payout {stuck_payout.pk}: {message}")]
    [task] = enqueued
    assert (task.kwargs["payout_id"], tasks.attempt_number(task)) == (str(stuck_payout.pk), 1)
    event = stuck_payout.events.get(kind="requeued")
    assert (event.actor_kind, event.actor, event.reason) == (
        "staff",
        admin_user.username,
        services.MSG_REQUEUED_LOST,
    )


def test_requeue_twice_enqueues_once(
    admin_client, stuck_payout, settings, enqueued, django_capture_on_commit_callbacks
):
    requeue(admin_client, stuck_payout, capture=django_capture_on_commit_callbacks)

    shown = requeue(admin_client, stuck_payout, capture=django_capture_on_commit_callbacks)

    message = services.MSG_REQUEUE_TOO_RECENT.format(
        seconds=settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS
    )
    assert shown == [("warning", f"Payout {stuck_payout.pk}: {message}")]
    assert len(enqueued) == 1


def test_requeue_refuses_a_fresh_pending_payout(
    admin_client, pending_payout, settings, enqueued, django_capture_on_commit_callbacks
):
    age(pending_payout, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS - 5)

    shown = requeue(admin_client, pending_payout, capture=django_capture_on_commit_callbacks)

    message = services.MSG_REQUEUE_TOO_RECENT.format(
        seconds=settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS
    )
    assert shown == [("warning", f"Payout {pending_payout.pk}: {message}")]
    assert enqueued == []
    assert not pending_payout.events.filter(kind="requeued").exists()


def test_requeue_refuses_a_payout_whose_message_still_waits_in_the_queue(
    admin_client,
    stuck_payout,
    monkeypatch,
    enqueued,
    django_capture_on_commit_callbacks,
):
    monkeypatch.setattr(tasks, "payout_ids_with_queued_work", lambda: {stuck_payout.pk})

    shown = requeue(admin_client, stuck_payout, capture=django_capture_on_commit_callbacks)

    message = services.MSG_REQUEUE_STILL_QUEUED
    assert shown == [("warning", f"Payout {stuck_payout.pk}: {message}")]
    assert enqueued == []


def test_requeue_refuses_a_processing_payout_whose_lease_is_live(
    admin_client, pending_payout, settings, enqueued, django_capture_on_commit_callbacks
):
    services.payout_start_attempt(pending_payout.id, 1)
    age(pending_payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS - 5)

    shown = requeue(admin_client, pending_payout, capture=django_capture_on_commit_callbacks)

    [(level, message)] = shown
    assert level == "warning"
    assert message.startswith(f"Payout {pending_payout.pk}: It is PROCESSING and its consumer")
    assert enqueued == []
    payout = Payout.objects.get(pk=pending_payout.pk)
    assert (payout.status, payout.attempts) == (PayoutStatus.PROCESSING, 1)
    assert not payout.events.filter(kind__in=["requeued", "attempt_unknown"]).exists()


def test_requeue_recovers_a_processing_payout_past_its_lease_as_the_sweep_does(
    admin_client, admin_user, pending_payout, settings, enqueued, django_capture_on_commit_callbacks
):
    services.payout_start_attempt(pending_payout.id, 1)
    age(pending_payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS + 1)

    shown = requeue(admin_client, pending_payout, capture=django_capture_on_commit_callbacks)

    payout = Payout.objects.get(pk=pending_payout.pk)
    message = services.MSG_REQUEUE_RETRIED.format(attempt=2, max_attempts=payout.max_attempts)
    assert shown == [("success", f"Payout {payout.pk}: {message}")]
    [task] = enqueued
    assert tasks.attempt_number(task) == 2
    assert [
        (e.kind, e.actor_kind, e.actor, e.reason) for e in payout.events.filter(attempt__gte=1)
    ][-2:] == [
        ("attempt_unknown", "staff", admin_user.username, services.MSG_ABANDONED),
        ("requeued", "staff", admin_user.username, services.MSG_REQUEUED_ABANDONED),
    ]


def test_requeue_fails_an_abandoned_payout_with_no_attempts_left_as_the_sweep_does(
    admin_client, admin_user, pending_payout, settings, enqueued, django_capture_on_commit_callbacks
):
    settings.PAYOUT_UNKNOWN_OUTCOME_RETRIES = 0
    services.payout_start_attempt(pending_payout.id, 1)
    Payout.objects.filter(pk=pending_payout.pk).update(attempts=pending_payout.max_attempts)
    age(pending_payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS + 1)

    shown = requeue(admin_client, pending_payout, capture=django_capture_on_commit_callbacks)

    payout = Payout.objects.get(pk=pending_payout.pk)
    assert (payout.status, payout.failure_code) == (
        PayoutStatus.FAILED,
        FailureCode.PROVIDER_UNKNOWN_OUTCOME,
    )
    message = services.MSG_REQUEUE_FAILED.format(
        failure_code=payout.failure_code, reason=payout.failure_reason
    )
    assert shown == [("success", f"Payout {payout.pk}: {message}")]
    assert enqueued == []
    assert payout.events.get(kind="failed").actor == admin_user.username


@pytest.mark.parametrize("status", [PayoutStatus.COMPLETED, PayoutStatus.FAILED])
def test_requeue_refuses_a_finished_payout(
    admin_client, make_payout, status, settings, enqueued, django_capture_on_commit_callbacks
):
    payout = make_payout(status=status)
    age(payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS + 1)

    shown = requeue(admin_client, payout, capture=django_capture_on_commit_callbacks)

    message = services.MSG_REQUEUE_FINISHED.format(status=status)
    assert shown == [("warning", f"Payout {payout.pk}: {message}")]
    assert enqueued == []
    assert Payout.objects.get(pk=payout.pk).status == status


def test_requeue_refuses_a_deleted_payout(
    admin_client, owner, stuck_payout, enqueued, django_capture_on_commit_callbacks
):
    services.payout_delete(owner.caller, stuck_payout.id)

    shown = requeue(admin_client, stuck_payout, capture=django_capture_on_commit_callbacks)

    assert shown == [("warning", f"Payout {stuck_payout.pk}: {services.MSG_REQUEUE_NOT_FOUND}")]
    assert enqueued == []


def test_requeue_reports_each_selected_payout(
    admin_client, make_payout, settings, enqueued, django_capture_on_commit_callbacks
):
    stuck = make_payout()
    age(stuck, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)
    done = make_payout(status=PayoutStatus.COMPLETED)

    shown = requeue(admin_client, stuck, done, capture=django_capture_on_commit_callbacks)

    assert sorted(shown) == sorted(
        [
            ("success", f"Payout {stuck.pk}: {services.MSG_REQUEUE_REQUEUED.format(attempt=1)}"),
            (
                "warning",
                f"Payout {done.pk}: "
                + services.MSG_REQUEUE_FINISHED.format(status=PayoutStatus.COMPLETED),
            ),
        ]
    )
    assert len(enqueued) == 1


def test_requeue_refuses_more_payouts_than_a_sweep_batch(
    admin_client, make_payout, settings, monkeypatch, enqueued, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "REQUEUE_MAX_PAYOUTS", 1)
    payouts = [make_payout(), make_payout()]
    for payout in payouts:
        age(payout, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)

    shown = requeue(admin_client, *payouts, capture=django_capture_on_commit_callbacks)

    assert shown == [("error", payouts_admin.MSG_REQUEUE_TOO_MANY.format(limit=1))]
    assert enqueued == []


def test_requeue_needs_the_change_permission(
    client, stuck_payout, enqueued, django_capture_on_commit_callbacks
):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_payout"))
    client.force_login(viewer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST, {"action": "requeue", "_selected_action": [str(stuck_payout.pk)]}
        )

    assert response.status_code == 200  # the list again, with "No action selected."
    assert enqueued == []
    assert not stuck_payout.events.filter(kind="requeued").exists()


def test_event_list_searches_by_payout_and_by_actor(admin_client, admin_user, make_payout):
    edited = make_payout()
    make_payout()
    services.payout_update(Caller.for_staff(admin_user.username), edited.id, {"amount": "75.50"})

    by_payout = admin_client.get("/admin/payouts/payoutevent/", {"q": str(edited.pk)})
    by_actor = admin_client.get("/admin/payouts/payoutevent/", {"q": admin_user.username})

    assert {e.kind for e in by_payout.context["cl"].result_list} == {"created", "updated"}
    assert [(e.payout_id, e.kind) for e in by_actor.context["cl"].result_list] == [
        (edited.pk, "updated")
    ]


def test_requeue_refuses_while_the_queue_is_too_long_to_check(
    admin_client,
    stuck_payout,
    monkeypatch,
    enqueued,
    django_capture_on_commit_callbacks,
):
    monkeypatch.setattr(tasks, "QUEUE_SCAN_LIMIT", 0)
    monkeypatch.setattr(HUEY, "pending_count", lambda: 1)

    shown = requeue(admin_client, stuck_payout, capture=django_capture_on_commit_callbacks)

    message = services.MSG_REQUEUE_QUEUE_UNREADABLE
    assert shown == [("warning", f"Payout {stuck_payout.pk}: {message}")]
    assert enqueued == []


def test_requeue_refuses_while_the_queue_cannot_be_read(
    admin_client,
    stuck_payout,
    monkeypatch,
    enqueued,
    django_capture_on_commit_callbacks,
):
    def unreachable() -> int:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(HUEY, "pending_count", unreachable)

    shown = requeue(admin_client, stuck_payout, capture=django_capture_on_commit_callbacks)

    message = services.MSG_REQUEUE_QUEUE_UNREACHABLE
    assert shown == [("warning", f"Payout {stuck_payout.pk}: {message}")]
    assert enqueued == []
    assert not stuck_payout.events.filter(kind="requeued").exists()


def test_requeue_logs_the_recovery_as_the_sweep_does_naming_the_staff_user(
    admin_client, admin_user, stuck_payout, enqueued, log_lines, django_capture_on_commit_callbacks
):
    requeue(admin_client, stuck_payout, capture=django_capture_on_commit_callbacks)

    [line] = [line for line in log_lines() if "recovery" in line]
    assert (line["recovery"], line["payout_id"], line["level"]) == (
        "requeued_pending",
        str(stuck_payout.pk),
        "warning",
    )
    assert line["event"].startswith(f"Re-enqueued by {admin_user.username}: payout ")
