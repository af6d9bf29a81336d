"""What a resolver knows of its request: above all, the caller it acts for."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from strawberry.django.context import StrawberryDjangoContext

from payouts.callers import Caller


@dataclass
class PayoutContext(StrawberryDjangoContext):
    # The view authenticates every request before it runs, so a resolver always has one.
    caller: Caller


def caller_of(info: strawberry.Info) -> Caller:
    context: PayoutContext = info.context
    return context.caller
