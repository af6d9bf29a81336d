"""Which events a reader may see yet, so that reading on from an event never skips one.

Events are numbered (`position`) when inserted, but transactions commit in their own order: a
reader that saw event 101 before the transaction holding event 100 committed would read on
"after 101" and never see 100. On PostgreSQL each event therefore carries the id of the
transaction that wrote it, the stream is ordered by (transaction id, position), and a reader
sees only events of transactions older than every transaction still running (the snapshot's
xmin), besides its own: whatever commits later sorts after everything it was shown. SQLite runs
one writing transaction at a time, so there position order is commit order already.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BigIntegerField, Func, Q
from django.db.models.sql.compiler import SQLCompiler


class CurrentTransaction(Func):
    """The id of the transaction running the statement (given one if it has none yet)."""

    output_field = BigIntegerField()
    template = "0"

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        return "pg_current_xact_id()::text::bigint", []


class OwnTransaction(Func):
    """The running transaction's id if it has written anything, else NULL."""

    output_field = BigIntegerField()
    template = "NULL"

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        return "pg_current_xact_id_if_assigned()::text::bigint", []


class OldestRunningTransaction(Func):
    """The oldest transaction still running when the statement's snapshot was taken: every
    transaction below it has committed or rolled back."""

    output_field = BigIntegerField()
    template = "9223372036854775807"

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        return "pg_snapshot_xmin(pg_current_snapshot())::text::bigint", []


def settled() -> Q:
    """Events no transaction still running can precede: those a reader may be shown."""
    return Q(transaction_id__lt=OldestRunningTransaction()) | Q(transaction_id=OwnTransaction())
