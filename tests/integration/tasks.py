"""Tasks only the integration tests' consumers run: the shape of a payout, without the payout.

A consumer started with DJANGO_SETTINGS_MODULE=tests.integration.consumer_settings loads them.
"""

from __future__ import annotations

import os
import time

from django.db import connection, transaction
from huey.contrib.djhuey import db_task


def _own_connections() -> int:
    """Connections to PostgreSQL open in this process now, busy or idle in its pool: each
    consumer the tests start names its connections with a PGAPPNAME of its own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = current_setting('application_name')"
        )
        (count,) = cursor.fetchone()
    return int(count)


@db_task()
def call_like_a_payout(seconds: float) -> dict[str, float | int]:
    """A short transaction, the connection handed back, a wait holding none (the provider
    call), another short transaction: what processing a payout does.

    Returns what it saw: the consumer's connections at each transaction, how long the first
    one waited for a connection, and which consumer ran it.
    """
    asked = time.monotonic()
    with transaction.atomic():
        before = _own_connections()
    waited = time.monotonic() - asked
    connection.close()
    time.sleep(seconds)
    with transaction.atomic():
        after = _own_connections()
    return {"connections": max(before, after), "waited": waited, "pid": os.getpid()}


@db_task()
def sleep_in_the_database(seconds: float) -> int:
    """Wait inside PostgreSQL: other greenlets run meanwhile only if psycopg waits for the
    answer cooperatively."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])
    return os.getpid()
