"""Single-statement writes for the processing path, on PostgreSQL and SQLite alike.

A worker moves each payout twice (claim, then finish). Through the ORM each move was a locking
SELECT, a model save and an event create: about 1 ms of Python per move, most of a worker's
time. Here a move is one conditional `UPDATE … RETURNING` and the event one `INSERT`, with the
SQL written from the models' metadata and every value prepared and read back by its model
field, so the columns, types and conversions stay the ORM's. Which moves are allowed is not
decided here: services pass the expected status from the status machine in `payouts.states`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field
from django.utils import timezone

from payouts.models import Payout, PayoutEvent


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _field(model: type[Payout] | type[PayoutEvent], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def _column(model: type[Payout] | type[PayoutEvent], name: str) -> str:
    return _quote(str(_field(model, name).column))


def _prepared(model: type[Payout] | type[PayoutEvent], values: Mapping[str, Any]) -> list[Any]:
    return [
        _field(model, name).get_db_prep_value(value, connection) for name, value in values.items()
    ]


@cache
def _returning_columns() -> str:
    return ", ".join(_quote(field.column) for field in Payout._meta.concrete_fields)


def payout_compare_and_set(
    payout_id: uuid.UUID, *, expected: Mapping[str, Any], changes: Mapping[str, Any]
) -> Payout | None:
    """Apply `changes` only if the payout's columns still hold `expected`; None if they don't.

    The UPDATE locks the row it changes, so of two workers racing for one payout the second
    waits, then finds the first one's values, matches nothing and gets None. `updated_at` is
    set as `auto_now` would. Returns the whole payout as it now stands.
    """
    changes = {**changes, "updated_at": timezone.now()}
    assignments = ", ".join(f"{_column(Payout, name)} = %s" for name in changes)
    conditions = " AND ".join(f"{_column(Payout, name)} = %s" for name in ("id", *expected))
    sql = (
        f"UPDATE {_quote(Payout._meta.db_table)} SET {assignments} WHERE {conditions} "
        f"RETURNING {_returning_columns()}"
    )
    params = _prepared(Payout, changes) + _prepared(Payout, {"id": payout_id, **expected})
    return next(iter(Payout.objects.raw(sql, params)), None)


def payout_event_insert(
    payout_id: uuid.UUID, from_status: str, to_status: str, attempt: int, reason: str = ""
) -> None:
    """Append one row to a payout's history."""
    values = {
        "payout": payout_id,
        "from_status": from_status,
        "to_status": to_status,
        "attempt": attempt,
        "reason": reason,
        "created_at": timezone.now(),
    }
    columns = ", ".join(_column(PayoutEvent, name) for name in values)
    placeholders = ", ".join("%s" for _ in values)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_quote(PayoutEvent._meta.db_table)} ({columns}) VALUES ({placeholders})",
            _prepared(PayoutEvent, values),
        )
