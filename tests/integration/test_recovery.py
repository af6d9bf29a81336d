"""Recovery against the real queue and database: what is lost is found, what waits is left alone."""

from __future__ import annotations

import signal
import textwrap
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from payouts import services, tasks
from payouts.models import Payout, PayoutStatus
from tests.conftest import run_in_fresh_process
from tests.integration.conftest import wait_until
from tests.integration.test_processing import create_payouts, statuses


def age_all(seconds: float) -> None:
    Payout.objects.update(updated_at=timezone.now() - timedelta(seconds=seconds))


def database_url() -> str:
    database = connection.settings_dict
    return (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )


def test_a_backlog_in_the_queue_is_not_taken_for_lost_messages(
    api_client, queue, transactional_db, settings
):
    create_payouts(api_client, 5)  # no consumer runs: the messages wait in Redis
    age_all(settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 60)

    report = services.payouts_recover_stalled()

    assert report == services.RecoveryReport(still_queued=5)
    assert queue.pending_count() == 5


def test_messages_the_queue_lost_are_enqueued_again(api_client, queue, transactional_db, settings):
    ids = create_payouts(api_client, 3)
    queue.storage.flush_queue()  # Redis restarted without persistence
    age_all(settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 60)

    report = services.payouts_recover_stalled()

    assert report.requeued_pending == 3
    assert sorted(task.kwargs["payout_id"] for task in queue.pending()) == sorted(ids)


SWEEP_KILLED_MIDWAY = textwrap.dedent(
    """
    import os, signal
    import django
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    django.setup()
    from huey.contrib.djhuey import HUEY
    from payouts import services, tasks

    def die(**_):
        os.kill(os.getpid(), signal.SIGKILL)

    services.payouts_recover_stalled = die
    HUEY.execute(tasks.recover_stalled_payouts.s())
    """
)


def test_a_consumer_killed_mid_sweep_does_not_stop_later_sweeps(
    api_client, queue, transactional_db, settings, monkeypatch
):
    [payout_id] = create_payouts(api_client, 1)
    queue.storage.flush_queue()
    age_all(settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 60)

    killed = run_in_fresh_process(
        SWEEP_KILLED_MIDWAY, DATABASE_URL=database_url(), REDIS_URL=str(settings.REDIS_URL)
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    later = timezone.now() + timedelta(minutes=10)
    monkeypatch.setattr(timezone, "now", lambda: later)
    HUEY.execute(tasks.recover_stalled_payouts.s())

    assert [task.kwargs["payout_id"] for task in queue.pending()] == [payout_id]


def test_a_paid_payout_whose_connection_drops_is_completed_without_a_second_call(
    api_client, start_consumer
):
    consumer = start_consumer(workers=1, PAYOUT_PROCESSING_DELAY_SECONDS="2")
    [payout_id] = create_payouts(api_client, 1)
    assert wait_until(lambda: statuses([payout_id])[payout_id] == "PROCESSING", timeout=20), (
        consumer.output()[-3000:]
    )

    with connection.cursor() as cursor:  # every connection but this one: the consumer's
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    done = wait_until(
        lambda: statuses([payout_id])[payout_id] == PayoutStatus.COMPLETED, timeout=30
    )
    payout = Payout.objects.get(pk=payout_id)
    assert done, f"{payout.status}\n{consumer.output()[-3000:]}"
    assert payout.attempts == 1
    assert list(payout.events.values_list("kind", flat=True)) == [
        "created",
        "processing",
        "completed",
    ]
    assert consumer.output().count("Simulated provider paid") == 1
