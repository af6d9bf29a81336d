"""Run payout processing in the test's process, as the Huey consumer would."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from huey.api import Task
from huey.contrib.djhuey import HUEY

from payouts import tasks
from payouts.models import Payout


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def run_task(payout: Payout) -> Task:
    """Execute the payout's first attempt through Huey, signals included."""
    task = tasks.processing_task(payout.id, attempt=1, max_attempts=payout.max_attempts)
    HUEY.execute(task)
    return task


def run_scheduled(*, wait: bool = False) -> list[Task]:
    """Run every scheduled message: at once, or (`wait`) each when it falls due."""
    due = HUEY.read_schedule(now() + timedelta(days=1))
    for task in sorted(due, key=lambda task: task.eta):
        if wait:
            time.sleep(max((task.eta - now()).total_seconds(), 0))
        task.eta = None
        HUEY.execute(task)
    return due


def run_to_the_end(payout: Payout, *, wait: bool = False) -> Payout:
    """Run the payout's attempts until no message for it is left."""
    run_task(payout)
    while run_scheduled(wait=wait):
        pass
    payout.refresh_from_db()
    return payout


def kinds(payout: Payout) -> list[str]:
    return list(payout.events.values_list("kind", flat=True))
