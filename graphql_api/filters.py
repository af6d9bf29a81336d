"""Filters of the payouts connection: status, currency, amount, createdAt and reference, with
AND/OR/NOT."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
import strawberry_django
from django.db.models import Q, QuerySet
from strawberry_django import BaseFilterLookup, ComparisonFilterLookup, process_filters

from graphql_api.types import CurrencyEnum, PayoutStatusEnum
from payouts.models import Payout
from payouts.validation import parse_amount, parse_reference


def _amount_bounds(lookup: ComparisonFilterLookup[Decimal]) -> Iterator[object]:
    for name in ("exact", "gt", "gte", "lt", "lte"):
        yield getattr(lookup, name)
    yield from lookup.in_list or ()
    if lookup.range:
        yield from (lookup.range.start, lookup.range.end)


@strawberry_django.filter_type(Payout, name="PayoutFilter")
class PayoutFilter:
    status: BaseFilterLookup[PayoutStatusEnum] | None = strawberry.UNSET
    currency: BaseFilterLookup[CurrencyEnum] | None = strawberry.UNSET
    created_at: ComparisonFilterLookup[datetime] | None = strawberry.UNSET

    @strawberry_django.filter_field
    def amount(
        self,
        info: strawberry.Info,
        queryset: QuerySet[Payout],
        value: ComparisonFilterLookup[Decimal],
        prefix: str,
    ) -> tuple[QuerySet[Payout], Q]:
        """Every bound is read as REST reads min_amount and max_amount (parse_amount)."""
        for bound in _amount_bounds(value):
            if bound is not None and bound is not strawberry.UNSET:
                parse_amount(bound)
        # The lookup is a strawberry input type, which process_filters' annotation does not name.
        lookup: Any = value
        filtered: tuple[QuerySet[Payout], Q] = process_filters(
            lookup, queryset, info, prefix=f"{prefix}amount__"
        )
        return filtered

    @strawberry_django.filter_field
    def reference(self, value: str, prefix: str) -> Q:
        """The payout with this reference, exactly; read as REST reads ?reference=."""
        return Q(**{f"{prefix}reference": parse_reference(value)})
