"""Read-only entry points: node(id:), payout(id:) and the filtered, ordered payouts connection."""

from __future__ import annotations

from typing import cast

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay

from graphql_api.context import caller_of
from graphql_api.filters import PayoutFilter
from graphql_api.orders import PayoutOrder
from graphql_api.types import (
    PayoutConnection,
    PayoutType,
    payout_id_from_global_id,
)
from payouts import selectors
from payouts.errors import PayoutNotFound
from payouts.models import Payout
from payouts.selectors import PAYOUT_PAGE_MAX


def _payout_or_none(info: strawberry.Info, global_id: str) -> Payout | None:
    """The payout a global id names, if the caller may see it: another client's is null."""
    try:
        return selectors.payout_get_or_none(caller_of(info), payout_id_from_global_id(global_id))
    except PayoutNotFound:
        return None


@strawberry.type
class Query:
    # Payout is the only node type; resolving it here keeps a malformed id a null, not an error.
    @strawberry_django.field(description="Any object by its global id; null when there is none.")
    def node(self, info: strawberry.Info, id: strawberry.ID) -> relay.Node | None:
        return cast("relay.Node | None", _payout_or_none(info, id))

    @strawberry_django.field(description="A payout by its global id; null when there is none.")
    def payout(self, info: strawberry.Info, id: strawberry.ID) -> PayoutType | None:
        return cast("PayoutType | None", _payout_or_none(info, id))

    @strawberry_django.connection(
        PayoutConnection,
        filters=PayoutFilter,
        ordering=PayoutOrder,
        max_results=PAYOUT_PAGE_MAX,
        description=f"Payouts, newest first unless ordered; at most {PAYOUT_PAGE_MAX} a page.",
    )
    def payouts(self, info: strawberry.Info) -> QuerySet[Payout]:
        return selectors.payout_list(caller_of(info))
