"""GraphQL object types: Payout as a Relay node, its connection and the enums it exposes."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self

import strawberry
import strawberry_django
from django.db.models import F, OrderBy, QuerySet
from strawberry import relay
from strawberry.relay.types import PREFIX as CURSOR_PREFIX
from strawberry.relay.types import NodeIterableType
from strawberry.relay.utils import from_base64, to_base64
from strawberry.scalars import JSON
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.utils.await_maybe import AwaitableOrValue
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.relay import DjangoListConnection

from graphql_api.errors import bad_user_input
from payouts.errors import PayoutNotFound
from payouts.models import Currency, Payout, PayoutStatus
from payouts.selectors import (
    PAYOUT_PAGE_MAX,
    parse_payout_id,
    payout_count,
    payout_ordering_tie_breakers,
)
from payouts.validation import utc_timestamp

# Offsets whose page still fits the databases' 64-bit LIMIT/OFFSET; no real cursor comes close.
CURSOR_MAX_OFFSET = 2**62

MSG_INVALID_CURSOR = "Argument '{argument}' is not a valid cursor."
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


class ColumnField(StrawberryDjangoField):
    """A payout column, read straight off the loaded row.

    strawberry-django marks every field as needing its full resolver machinery (an Info
    object, argument parsing, the extension chain), which is most of the cost of a 100-row
    page. A column with no resolver, no extension and no relation needs none of it, so it is
    declared basic and strawberry takes its fast path. The optimizer still selects the columns.
    """

    @property
    def is_basic_field(self) -> bool:
        return self.base_resolver is None and not self.extensions and not self.is_relation


@strawberry_django.type(
    Payout,
    name=PAYOUT_TYPE_NAME,
    description="A request to pay a recipient.",
    field_cls=ColumnField,
)
class PayoutType(relay.Node):
    # Named up front: otherwise strawberry looks for a NodeID annotation by evaluating every
    # annotation of the class again for each node it resolves (most of a 100-row page's time).
    _id_attr = "pk"

    payout_id: uuid.UUID = strawberry_django.field(
        field_name="id",
        description="The id REST uses in /api/payouts/{id}/.",
        field_cls=ColumnField,
    )
    amount: Decimal = strawberry_django.field(
        description="Always two decimal places.", field_cls=ColumnField
    )
    currency: CurrencyEnum
    recipient_details: JSON = strawberry_django.field(
        description="JSON object holding at least a non-empty account_number.",
        field_cls=ColumnField,
    )
    status: PayoutStatusEnum
    description: str
    failure_reason: str = strawberry_django.field(
        description="Why a FAILED payout failed.", field_cls=ColumnField
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
    parsed = parse(value)
    assert isinstance(parsed, datetime)
    return utc_timestamp(parsed)


# Strawberry's DateTime, except that an input is converted to UTC (see utc_timestamp): a
# createdAt filter bound at +21:35 would otherwise reach PostgreSQL, which refuses it.
UTC_DATETIME = dataclasses.replace(DateTimeDefinition, parse_value=_parse_utc_datetime)


def _ordered_fields(queryset: QuerySet[Any]) -> set[str]:
    names: set[str] = set()
    for item in queryset.query.order_by:
        if isinstance(item, str):
            names.add(item.lstrip("-"))
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            names.add(item.expression.name)
    return names


def with_stable_order(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Append the default order as tie-breaker, so equal amounts page deterministically."""
    tie_breakers = payout_ordering_tie_breakers(_ordered_fields(queryset))
    if not tie_breakers:
        return queryset
    return queryset.order_by(*queryset.query.order_by, *tie_breakers)


def _check_cursor(argument: str, cursor: str | None) -> None:
    if not cursor:  # strawberry reads an empty cursor as none
        return
    try:
        prefix, offset = from_base64(cursor)
    except ValueError:
        raise bad_user_input(MSG_INVALID_CURSOR.format(argument=argument)) from None
    valid = prefix == CURSOR_PREFIX and offset.isascii() and offset.isdigit()
    if not valid or int(offset) >= CURSOR_MAX_OFFSET:
        raise bad_user_input(MSG_INVALID_CURSOR.format(argument=argument))


def _check_page_size(argument: str, size: int | None) -> None:
    if size is None:
        return
    if size < 0:
        raise bad_user_input(MSG_PAGE_SIZE_NEGATIVE.format(argument=argument))
    if size > PAYOUT_PAGE_MAX:
        raise bad_user_input(
            MSG_PAGE_SIZE_TOO_LARGE.format(argument=argument, maximum=PAYOUT_PAGE_MAX)
        )


@strawberry.type(name="PayoutConnection", description="A page of payouts.")
class PayoutConnection(DjangoListConnection[PayoutType]):
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
        # Checked here rather than left to strawberry, whose errors for a malformed cursor are
        # whatever decoding raised ("Incorrect padding", a database overflow) and unlabelled.
        _check_cursor("after", after)
        _check_cursor("before", before)
        _check_page_size("first", first)
        _check_page_size("last", last)
        if not isinstance(nodes, QuerySet):
            return super().resolve_connection(
                nodes, info=info, before=before, after=after, first=first, last=last, **kwargs
            )
        # Offset cursors only page correctly over a total order; the client's ordering may
        # leave ties (equal amounts), so the default order breaks them.
        nodes = with_stable_order(nodes)
        if last and before is None:
            # Offset cursors need the position of the end to count back from it.
            before = to_base64(CURSOR_PREFIX, nodes.count())
        # Straight to strawberry's slicing, past strawberry-django's: it would add a
        # COUNT(*) OVER () window to the page query, which reads every matching row.
        conn = super(DjangoListConnection, cls).resolve_connection(
            nodes, info=info, before=before, after=after, first=first, last=last, **kwargs
        )
        assert isinstance(conn, cls)
        conn.nodes = nodes
        return conn

    @strawberry.field(
        description=(
            "How many payouts match: exact up to PAYOUT_LIST_EXACT_COUNT_LIMIT (10,000 by "
            "default), PostgreSQL's estimate above it."
        )
    )
    def total_count(self) -> int:
        assert isinstance(self.nodes, QuerySet)
        return payout_count(self.nodes)


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
