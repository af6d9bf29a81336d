"""Mutation inputs: they only shape input; every payout rule is checked by the domain."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from graphql_api.types import CurrencyEnum
from payouts.models import REFERENCE_MAX_LENGTH
from payouts.validators import (
    METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX_LENGTH,
)

REFERENCE_HELP = (
    f"Your own id for the payout, 1 to {REFERENCE_MAX_LENGTH} characters, not blank, no "
    "control characters: a reference one of your payouts holds is refused with "
    "REFERENCE_IN_USE and that payout as existingPayout. Set at creation only; deleting the "
    "payout frees it."
)
METADATA_HELP = (
    f"Your own keys and values: a JSON object of at most {METADATA_MAX_KEYS} keys, each 1 to "
    f"{METADATA_KEY_MAX_LENGTH} characters, whose values are strings of at most "
    f"{METADATA_VALUE_MAX_LENGTH} characters. Never used by processing."
)


@strawberry.input(description='A new payout; amounts are best sent as strings, e.g. "250.00".')
class PayoutCreateInput:
    amount: Decimal
    currency: CurrencyEnum
    recipient_details: JSON
    description: str | None = strawberry.UNSET
    reference: str | None = strawberry.field(default=strawberry.UNSET, description=REFERENCE_HELP)
    metadata: JSON | None = strawberry.field(default=strawberry.UNSET, description=METADATA_HELP)


@strawberry.input(description="Fields to change on a PENDING payout; omitted fields stay.")
class PayoutUpdateInput:
    amount: Decimal | None = strawberry.UNSET
    currency: CurrencyEnum | None = strawberry.UNSET
    recipient_details: JSON | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    metadata: JSON | None = strawberry.field(
        default=strawberry.UNSET, description=f"{METADATA_HELP} Replaces the whole map."
    )


def provided_fields(data: PayoutCreateInput | PayoutUpdateInput) -> dict[str, Any]:
    """The fields the client sent, by their domain names; omitted ones are left out."""
    return {
        field.name: getattr(data, field.name)
        for field in dataclasses.fields(data)
        if getattr(data, field.name) is not strawberry.UNSET
    }
