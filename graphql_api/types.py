"""GraphQL object types: Payout as a Relay node, its connection and the enums it exposes."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self, cast

import strawberry
import strawberry_django
from django.core.exceptions import ValidationError
from django.db.models import F, Field, OrderBy, Q, QuerySet
from strawberry import relay
from strawberry.relay.types import NodeIterableType
from strawberry.relay.utils import from_base64, to_base64
from strawberry.scalars import JSON
from strawberry.schema.types.base_scalars import DateTimeDefinition, DecimalDefinition
from strawberry.utils.await_maybe import AwaitableOrValue
from strawberry_django.relay import DjangoCursorConnection, DjangoCursorEdge

from graphql_api.errors import bad_user_input
from payouts.errors import PayoutNotFound
from payouts.models import Currency, Payout, PayoutStatus
from payouts.selectors import (
    PAYOUT_PAGE_MAX,
    parse_payout_id,
    payout_count,
    payout_ordering_tie_breakers,
)
from payouts.validation import MSG_TIMESTAMP_OUT_OF_RANGE, utc_timestamp
from payouts.validators import METADATA_MAX_KEYS

MSG_INVALID_CURSOR = "Argument '{argument}' is not a valid cursor."
MSG_CURSOR_MISMATCH = "The cursor does not belong to a list in this order."
MSG_FIRST_AND_LAST = "Pass either 'first' or 'last', not both."
MSG_PAGE_SIZE_NEGATIVE = "Argument '{argument}' must be a non-negative integer."
MSG_PAGE_SIZE_TOO_LARGE = "Argument '{argument}' cannot be higher than {maximum}."

PAYOUT_TYPE_NAME = "Payout"

if TYPE_CHECKING:
    CurrencyEnum = Currency
    PayoutStatusEnum = PayoutStatus
else:
    # strawberry.enum marks the domain's choices in place and returns them, so to mypy these
    # stay the model enums while GraphQL sees enums of the same names and values.
    CurrencyEnum = strawberry.enum(Currency, name="Currency", description="Supported currencies.")
    PayoutStatusEnum = strawberry.enum(
        PayoutStatus,
        name="PayoutStatus",
        description="PENDING → PROCESSING → COMPLETED | FAILED; set by the worker, not clients.",
    )


@strawberry_django.type(
    Payout,
    name=PAYOUT_TYPE_NAME,
    description="A request to pay a recipient.",
)
class PayoutType(relay.Node):
    # The global id is built from the primary key. Declared with NodeID, strawberry finds it
    # once; without it strawberry looks for a NodeID again for every node it resolves, by
    # evaluating each annotation of the class (three quarters of a 100-payout page's time).
    pk: relay.NodeID[uuid.UUID]

    payout_id: uuid.UUID = strawberry_django.field(
        field_name="id", description="The id REST uses in /api/payouts/{id}/."
    )
    amount: Decimal = strawberry_django.field(description="Always two decimal places.")
    currency: CurrencyEnum
    recipient_details: JSON = strawberry_django.field(
        description="JSON object holding at least a non-empty account_number."
    )
    status: PayoutStatusEnum
    description: str
    reference: str | None = strawberry_django.field(
        description="Your own id for this payout, unique among your payouts; null for none."
    )
    metadata: JSON = strawberry_django.field(
        description=(
            "Your own keys and values, as sent: a JSON object of strings (at most "
            f"{METADATA_MAX_KEYS} keys). "
            "Never used by processing."
        )
    )
    failure_code: str = strawberry_django.field(
        description=(
            "Why a FAILED payout failed, for programs: the provider's decline code as it sent it "
            "(e.g. insufficient_funds), or provider_rejected, provider_unavailable or "
            "provider_unknown_outcome. Empty unless FAILED."
        )
    )
    failure_reason: str = strawberry_django.field(
        description="Why a FAILED payout failed, for people. Empty unless FAILED."
    )
    provider_reference: str = strawberry_django.field(
        description="The payment provider's id for the payment. Empty unless COMPLETED."
    )
    created_at: datetime
    updated_at: datetime


@strawberry.type(description="What a deleted payout leaves behind: the ids it had.")
class PayoutDeleted:
    id: relay.GlobalID
    payout_id: uuid.UUID


def _parse_utc_datetime(value: object) -> datetime:
    parse = DateTimeDefinition.parse_value
    assert parse is not None  # strawberry's DateTime always has its parser
    try:
        parsed = parse(value)
    except OverflowError:  # dateutil's, for a date past year 9999 ("9999-12-31T24:00:00")
        raise ValueError(MSG_TIMESTAMP_OUT_OF_RANGE) from None
    assert isinstance(parsed, datetime)
    return utc_timestamp(parsed)


def _serialize_datetime(value: datetime) -> str:
    """ISO 8601 with `Z` for UTC, as REST writes it (DRF's DateTimeField)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# Strawberry's DateTime, except that an input is converted to UTC (see utc_timestamp): a
# createdAt filter bound at +21:35 would otherwise reach PostgreSQL, which refuses it.
UTC_DATETIME = dataclasses.replace(
    DateTimeDefinition, parse_value=_parse_utc_datetime, serialize=_serialize_datetime
)


def _amount_as_sent(value: object) -> object:
    """Hand an amount on as the client wrote it: the domain reads it (parse_amount), so a
    mutation refuses it with the same code as REST, and the amount filter checks its bounds."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"Decimal cannot represent {type(value).__name__} values.")
    return value


# Strawberry's Decimal turns "1e309", "10_000" or 30 digits into a Decimal before the domain
# sees them; this one leaves them to the domain's one reading of an amount.
AMOUNT = dataclasses.replace(
    DecimalDefinition,
    description='An amount: ASCII digits, at most 2 decimal places, sent as a string ("250.00").',
    parse_value=_amount_as_sent,
)


def _order_keys(queryset: QuerySet[Any]) -> list[tuple[str, bool]]:
    """The queryset's ordering as (field name, descending) pairs."""
    keys: list[tuple[str, bool]] = []
    for item in queryset.query.order_by:
        if isinstance(item, str):
            keys.append((item.lstrip("-"), item.startswith("-")))
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            keys.append((item.expression.name, item.descending))
    return keys


def with_stable_order(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Append the default order as tie-breaker, so equal amounts page deterministically."""
    tie_breakers = payout_ordering_tie_breakers({name for name, _ in _order_keys(queryset)})
    if not tie_breakers:
        return queryset
    return queryset.order_by(*queryset.query.order_by, *tie_breakers)


def _sort_fields(queryset: QuerySet[Any]) -> list[Field[Any, Any]]:
    fields = [Payout._meta.get_field(name) for name, _ in _order_keys(queryset)]
    assert all(isinstance(field, Field) for field in fields)
    return cast("list[Field[Any, Any]]", fields)


def _cursor_values(argument: str, cursor: str | None, fields: list[Field[Any, Any]]) -> list[Any]:
    """The sort-key values a cursor holds, parsed for this ordering, times in UTC.

    Checked here, before any query: strawberry-django's own parsing would turn a bad cursor into
    a server error, or a time PostgreSQL cannot store (an offset past ±15:59) into a database
    error. An empty list means no cursor.
    """
    if not cursor:  # strawberry reads an empty cursor as none
        return []
    try:
        prefix, payload = from_base64(cursor)
        strings = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: a payload nested thousands deep
        raise bad_user_input(MSG_INVALID_CURSOR.format(argument=argument)) from None
    if prefix != DjangoCursorEdge.CURSOR_PREFIX or not isinstance(strings, list) or not strings:
        raise bad_user_input(MSG_INVALID_CURSOR.format(argument=argument))
    if len(strings) != len(fields) or not all(isinstance(value, str) for value in strings):
        raise bad_user_input(MSG_CURSOR_MISMATCH)
    try:
        values = [field.to_python(value) for field, value in zip(fields, strings, strict=True)]
        return [utc_timestamp(value) if isinstance(value, datetime) else value for value in values]
    except (ValidationError, ValueError):
        raise bad_user_input(MSG_CURSOR_MISMATCH) from None


def _cursor(values: list[Any]) -> str:
    """A cursor holding `values`, written as strawberry-django writes its own."""
    strings = [value.isoformat() if isinstance(value, datetime) else str(value) for value in values]
    return to_base64(DjangoCursorEdge.CURSOR_PREFIX, json.dumps(strings, separators=(",", ":")))


def _cursor_bound(name: str, descending: bool, value: Any, *, before: bool) -> Q:
    """A plain bound on the leading sort key, e.g. `created_at <= X` after a cursor at X.

    strawberry-django selects the rows past a cursor with `a < X OR (a = X AND id < Y)`, which
    PostgreSQL cannot use to start an index scan: a cursor 100,000 payouts deep read all of
    them first (146 ms at a million rows). This bound, true of every row past the cursor (the
    sort keys are never null), lets the scan start at the cursor (0.4 ms).
    """
    return Q(**{f"{name}__{'lte' if descending != before else 'gte'}": value})


def _check_page_size(argument: str, size: int | None) -> None:
    if size is None:
        return
    if size < 0:
        raise bad_user_input(MSG_PAGE_SIZE_NEGATIVE.format(argument=argument))
    if size > PAYOUT_PAGE_MAX:
        raise bad_user_input(
            MSG_PAGE_SIZE_TOO_LARGE.format(argument=argument, maximum=PAYOUT_PAGE_MAX)
        )


@strawberry.type(name="PayoutEdge", description="An edge in a connection.")
class PayoutEdge(DjangoCursorEdge[PayoutType]):
    pass


@strawberry.type(name="PayoutConnection", description="A page of payouts.")
class PayoutConnection(DjangoCursorConnection[PayoutType]):
    """strawberry-django's keyset connection: a cursor names the last row seen, not a position,
    so a payout created between two pages never makes the next one repeat a row."""

    # Named PayoutEdge as before (strawberry-django would call it PayoutCursorEdge); mypy sees
    # a narrower list than the base class declares, which strawberry resolves the same way.
    edges: list[PayoutEdge] = strawberry.field(  # type: ignore[assignment]
        description="Contains the nodes in this connection"
    )

    @classmethod
    def resolve_connection(
        cls,
        nodes: NodeIterableType[PayoutType],
        *,
        info: strawberry.Info,
        before: str | None = None,
        after: str | None = None,
        first: int | None = None,
        last: int | None = None,
        **kwargs: Any,
    ) -> AwaitableOrValue[Self]:
        _check_page_size("first", first)
        _check_page_size("last", last)
        if first is not None and last is not None:
            # Both at once need a row number over every matching payout: refused, not scanned.
            raise bad_user_input(MSG_FIRST_AND_LAST)
        if first is None and last is None:
            first = PAYOUT_PAGE_MAX
        assert isinstance(nodes, QuerySet)
        nodes = with_stable_order(nodes)
        fields = _sort_fields(nodes)
        after_values = _cursor_values("after", after, fields)
        before_values = _cursor_values("before", before, fields)
        [(leading, descending), *_] = _order_keys(nodes)
        page = nodes
        if after_values:
            page = page.filter(_cursor_bound(leading, descending, after_values[0], before=False))
            after = _cursor(after_values)
        if before_values:
            page = page.filter(_cursor_bound(leading, descending, before_values[0], before=True))
            before = _cursor(before_values)
        conn = super().resolve_connection(
            page, info=info, before=before, after=after, first=first, last=last, **kwargs
        )
        assert isinstance(conn, cls)
        # totalCount counts the whole list, not only the part past the cursor.
        conn.total_count_qs = nodes
        return conn

    @strawberry.field(
        description=(
            "How many payouts match: exact up to PAYOUT_LIST_EXACT_COUNT_LIMIT (10,000 by "
            "default), PostgreSQL's estimate above it."
        )
    )
    def total_count(self) -> int:
        assert self.total_count_qs is not None
        return payout_count(self.total_count_qs)


def payout_id_from_global_id(global_id: str) -> uuid.UUID:
    """The payout id a global id names; raise PayoutNotFound for a malformed or foreign id."""
    try:
        parsed = relay.GlobalID.from_id(global_id)
    except relay.GlobalIDValueError:
        raise PayoutNotFound() from None
    if parsed.type_name != PAYOUT_TYPE_NAME:
        raise PayoutNotFound()
    return parse_payout_id(parsed.node_id)


def global_id_for(payout_id: uuid.UUID) -> relay.GlobalID:
    return relay.GlobalID(PAYOUT_TYPE_NAME, str(payout_id))
