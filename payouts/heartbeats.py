"""Consumer heartbeats: each running consumer process renews a row, so others can count them."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models.functions import Now

from payouts.models import ConsumerHeartbeat

logger = logging.getLogger(__name__)

# A heartbeat outlives this many beats, so one late beat (a busy database, a long pause of the
# process) does not count a live consumer as gone.
BEATS_PER_LIFETIME = 3


def heartbeat_lifetime() -> timedelta:
    return timedelta(seconds=BEATS_PER_LIFETIME * settings.PAYOUT_WORKER_HEARTBEAT_SECONDS)


def heartbeat_beat(consumer: str) -> None:
    """Say that `consumer` is alive for another lifetime, and forget consumers that stopped
    beating. The database's clock stamps and compares, so machines' clocks may disagree."""
    expires_at = Now() + heartbeat_lifetime()
    if not ConsumerHeartbeat.objects.filter(consumer=consumer).update(expires_at=expires_at):
        ConsumerHeartbeat.objects.create(consumer=consumer, expires_at=expires_at)
    ConsumerHeartbeat.objects.filter(expires_at__lt=Now()).delete()


def heartbeat_forget(consumer: str) -> None:
    """A consumer that stops says so at once, instead of leaving its heartbeat to expire."""
    ConsumerHeartbeat.objects.filter(consumer=consumer).delete()


def consumers_alive() -> int:
    """How many consumer processes have a heartbeat that has not expired."""
    return ConsumerHeartbeat.objects.filter(expires_at__gt=Now()).count()


class HeartbeatThread:
    """Beats for this process while at least one of its Huey workers runs.

    Huey runs startup and shutdown hooks in each worker (thread or greenlet), and restarts a
    worker that died: counting them makes the process's heartbeat start with its first worker
    and stop with its last, whatever the worker type.
    """

    def __init__(self) -> None:
        self.consumer = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()
        self._workers = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def worker_started(self) -> None:
        with self._lock:
            self._workers += 1
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
            self._thread.start()

    def worker_stopped(self) -> None:
        with self._lock:
            self._workers -= 1
            if self._workers > 0 or self._thread is None:
                return
            self._stop.set()
            self._thread.join(timeout=settings.PAYOUT_WORKER_HEARTBEAT_SECONDS)
            self._thread = None
        self._attempt(heartbeat_forget)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._attempt(heartbeat_beat)
            self._stop.wait(settings.PAYOUT_WORKER_HEARTBEAT_SECONDS)

    def _attempt(self, write: Callable[[str], None]) -> None:
        try:
            write(self.consumer)
        except Exception as error:  # a database outage must not end the heartbeat
            logger.warning("Consumer heartbeat not written: %s", error)
        finally:
            # Back to the pool: the thread sleeps between beats.
            connection.close()
