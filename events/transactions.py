"""Which events a reader may see yet, so that reading on from an event never skips one.

Events are numbered (`position`) when inserted, but transactions commit in their own order: a
reader that saw event 101 before the transaction holding event 100 committed would read on
"after 101" and never see 100. On PostgreSQL each event therefore carries the id of the
transaction that wrote it, the stream is ordered by (transaction id, position), and a reader
sees only events of transactions older than every transaction still running (the snapshot's
xmin): whatever commits later sorts after everything it was shown. SQLite runs one writing
transaction at a time, so there position order is commit order already.

The API reads in autocommit, with no transaction of its own. A reader inside a transaction that
has written (a test, a shell) also sees its own events: nothing else could show them to it.
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


class SettledHorizon(Func):
    """The transaction ids below which every transaction has ended (the snapshot's xmin), or
    just past the reader's own transaction if it has written. One value for the statement
    (its functions are stable), so the filter on it is a range of the stream's indexes."""

    output_field = BigIntegerField()
    template = "9223372036854775807"

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        return (
            "GREATEST(pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
            "COALESCE(pg_current_xact_id_if_assigned()::text::bigint + 1, 0))",
            [],
        )


def settled() -> Q:
    """Events no transaction still running can precede: those a reader may be shown."""
    return Q(transaction_id__lt=SettledHorizon())
