"""Writes: each mutation hands shaped input to a payouts service and reports refusals typed."""

from __future__ import annotations

from typing import cast

import strawberry
import strawberry_django

from graphql_api.errors import domain_errors_as_validation_errors
from graphql_api.inputs import PayoutCreateInput, PayoutUpdateInput, provided_fields
from graphql_api.types import PayoutDeleted, PayoutType, global_id_for, payout_id_from_global_id
from payouts import services


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Store a PENDING payout and queue it for processing.",
    )
    def create_payout(self, data: PayoutCreateInput) -> PayoutType:
        with domain_errors_as_validation_errors():
            payout = services.payout_create(provided_fields(data))
        return cast("PayoutType", payout)

    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Change fields of a payout; only while it is PENDING.",
    )
    def update_payout(self, id: strawberry.ID, data: PayoutUpdateInput) -> PayoutType:
        with domain_errors_as_validation_errors():
            payout = services.payout_update(payout_id_from_global_id(id), provided_fields(data))
        return cast("PayoutType", payout)

    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Delete a payout; only while it is PENDING.",
    )
    def delete_payout(self, id: strawberry.ID) -> PayoutDeleted:
        with domain_errors_as_validation_errors():
            payout_id = payout_id_from_global_id(id)
            services.payout_delete(payout_id)
        return PayoutDeleted(id=global_id_for(payout_id), payout_id=payout_id)
