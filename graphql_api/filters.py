"""Filters of the payouts connection: status, currency, amount and createdAt, with AND/OR/NOT."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
import strawberry_django
from strawberry_django import BaseFilterLookup, ComparisonFilterLookup

from graphql_api.types import CurrencyEnum, PayoutStatusEnum
from payouts.models import Payout


@strawberry_django.filter_type(Payout, name="PayoutFilter")
class PayoutFilter:
    status: BaseFilterLookup[PayoutStatusEnum] | None = strawberry.UNSET
    currency: BaseFilterLookup[CurrencyEnum] | None = strawberry.UNSET
    amount: ComparisonFilterLookup[Decimal] | None = strawberry.UNSET
    created_at: ComparisonFilterLookup[datetime] | None = strawberry.UNSET
