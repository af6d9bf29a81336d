"""Ordering of the payouts connection: createdAt and amount, newest first when none is given."""

from __future__ import annotations

import strawberry_django
from strawberry import auto

from payouts.models import Payout


@strawberry_django.order_type(Payout, name="PayoutOrder")
class PayoutOrder:
    created_at: auto
    amount: auto
