"""Mutation inputs: they only shape input; every payout rule is checked by the domain."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from graphql_api.types import CurrencyEnum


@strawberry.input(description='A new payout; amounts are best sent as strings, e.g. "250.00".')
class PayoutCreateInput:
    amount: Decimal
    currency: CurrencyEnum
    recipient_details: JSON
    description: str | None = strawberry.UNSET


@strawberry.input(description="Fields to change on a PENDING payout; omitted fields stay.")
class PayoutUpdateInput:
    amount: Decimal | None = strawberry.UNSET
    currency: CurrencyEnum | None = strawberry.UNSET
    recipient_details: JSON | None = strawberry.UNSET
    description: str | None = strawberry.UNSET


def provided_fields(data: PayoutCreateInput | PayoutUpdateInput) -> dict[str, Any]:
    """The fields the client sent, by their domain names; omitted ones are left out."""
    return {
        field.name: getattr(data, field.name)
        for field in dataclasses.fields(data)
        if getattr(data, field.name) is not strawberry.UNSET
    }
