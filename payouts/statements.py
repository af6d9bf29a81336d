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

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.utils import timezone

from payouts.models import Payout, PayoutEvent


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def _prepared(db: BaseDatabaseWrapper, model: type[Model], values: Mapping[str, Any]) -> list[Any]:
    return [_field(model, name).get_db_prep_value(value, db) for name, value in values.items()]


# The SQL depends only on the columns named and on the backend's quoting: written once each.
@cache
def _update_sql(vendor: str, changed: tuple[str, ...], expected: tuple[str, ...]) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    assignments = ", ".join(f"{quote(_field(Payout, name).column)} = %s" for name in changed)
    conditions = " AND ".join(f"{quote(_field(Payout, name).column)} = %s" for name in expected)
    returning = ", ".join(quote(field.column) for field in Payout._meta.concrete_fields)
    return (
        f"UPDATE {quote(Payout._meta.db_table)} SET {assignments} WHERE {conditions} "
        f"RETURNING {returning}"
    )


@cache
def _insert_sql(vendor: str, model: type[Model], columns: tuple[str, ...]) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    names = ", ".join(quote(_field(model, name).column) for name in columns)
    placeholders = ", ".join("%s" for _ in columns)
    return f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({placeholders})"


def payout_compare_and_set(
    payout_id: uuid.UUID, *, expected: Mapping[str, Any], changes: Mapping[str, Any]
) -> Payout | None:
    """Apply `changes` only if the payout's columns still hold `expected`; None if they don't.

    The UPDATE locks the row it changes, so of two workers racing for one payout the second
    waits, then finds the first one's values, matches nothing and gets None. `updated_at` is
    set as `auto_now` would. Returns the whole payout as it now stands.
    """
    db = connections[DEFAULT_DB_ALIAS]
    changes = {**changes, "updated_at": timezone.now()}
    expected = {"id": payout_id, **expected}
    sql = _update_sql(db.vendor, tuple(changes), tuple(expected))
    params = _prepared(db, Payout, changes) + _prepared(db, Payout, expected)
    return next(iter(Payout.objects.raw(sql, params)), None)


def payout_event_insert(
    payout_id: uuid.UUID, from_status: str, to_status: str, attempt: int, reason: str = ""
) -> None:
    """Append one row to a payout's history."""
    db = connections[DEFAULT_DB_ALIAS]
    values = {
        "payout": payout_id,
        "from_status": from_status,
        "to_status": to_status,
        "attempt": attempt,
        "reason": reason,
        "created_at": timezone.now(),
    }
    with db.cursor() as cursor:
        cursor.execute(
            _insert_sql(db.vendor, PayoutEvent, tuple(values)), _prepared(db, PayoutEvent, values)
        )
