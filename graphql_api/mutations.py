"""Writes: each mutation hands shaped input to a payouts service and answers the payout or
the domain's refusal as PayoutErrors."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api.context import caller_of
from graphql_api.errors import PayoutErrors, payout_errors
from graphql_api.inputs import PayoutCreateInput, PayoutUpdateInput, provided_fields
from graphql_api.types import PayoutDeleted, PayoutType, global_id_for, payout_id_from_global_id
from payouts import services
from payouts.errors import PayoutError

CreatePayoutResult = Annotated[PayoutType | PayoutErrors, strawberry.union("CreatePayoutResult")]
UpdatePayoutResult = Annotated[PayoutType | PayoutErrors, strawberry.union("UpdatePayoutResult")]
DeletePayoutResult = Annotated[PayoutDeleted | PayoutErrors, strawberry.union("DeletePayoutResult")]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Store a PENDING payout and queue it for processing.")
    def create_payout(self, info: strawberry.Info, data: PayoutCreateInput) -> CreatePayoutResult:
        try:
            return services.payout_create(caller_of(info), provided_fields(data))  # type: ignore[return-value]
        except PayoutError as error:
            return payout_errors(error)

    @strawberry.mutation(description="Change fields of a payout; only while it is PENDING.")
    def update_payout(
        self, info: strawberry.Info, id: strawberry.ID, data: PayoutUpdateInput
    ) -> UpdatePayoutResult:
        try:
            payout_id = payout_id_from_global_id(id)
            return services.payout_update(caller_of(info), payout_id, provided_fields(data))  # type: ignore[return-value]
        except PayoutError as error:
            return payout_errors(error)

    @strawberry.mutation(description="Delete a payout; only while it is PENDING.")
    def delete_payout(self, info: strawberry.Info, id: strawberry.ID) -> DeletePayoutResult:
        try:
            payout_id = payout_id_from_global_id(id)
            services.payout_delete(caller_of(info), payout_id)
        except PayoutError as error:
            return payout_errors(error)
        return PayoutDeleted(id=global_id_for(payout_id), payout_id=payout_id)
