"""What a provider is asked and what it can answer, independent of any adapter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from payouts.models import Payout


@dataclass(frozen=True)
class Instruction:
    """One attempt to pay a payout. Every attempt of a payout carries the same idempotency key,
    so a provider pays a payout once however often it is asked."""

    payout_id: uuid.UUID
    amount: Decimal
    currency: str
    recipient: dict[str, Any]
    attempt: int

    @property
    def idempotency_key(self) -> str:
        return str(self.payout_id)

    @classmethod
    def for_attempt(cls, payout: Payout, attempt: int) -> Instruction:
        return cls(
            payout_id=payout.id,
            amount=payout.amount,
            currency=payout.currency,
            recipient=dict(payout.recipient_details),
            attempt=attempt,
        )


@dataclass(frozen=True)
class Paid:
    """The provider paid: final."""

    provider_reference: str


@dataclass(frozen=True)
class Declined:
    """The provider refused to pay, for good: final, never retried."""

    code: str
    message: str


@dataclass(frozen=True)
class Rejected:
    """The provider refused this request (a 4xx that is no decline): final, unless an earlier
    attempt may have paid, which a refusal of this one says nothing about."""

    message: str


@dataclass(frozen=True)
class Retryable:
    """This attempt certainly did not pay (the provider was unreachable, busy or failing):
    retry later, after `retry_after` seconds if the provider said so."""

    reason: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Unknown:
    """This attempt may have paid (the answer was lost after the request went out): only
    asking again under the same idempotency key can tell."""

    reason: str
    retry_after: float | None = None


Outcome = Paid | Declined | Rejected | Retryable | Unknown


class Provider(Protocol):
    def send(self, instruction: Instruction) -> Outcome:
        """Ask the provider to pay; never raises for anything the provider or network does."""
        ...
