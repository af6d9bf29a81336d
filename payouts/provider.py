"""The simulated payment provider: a delay, a configurable failure rate, an idempotency key."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from payouts.models import Payout

logger = logging.getLogger(__name__)


class ProviderError(Exception):
    """The provider refused or failed the call; the payout may be retried."""


@dataclass(frozen=True)
class ProviderRequest:
    idempotency_key: str
    amount: Decimal
    currency: str
    account_number: str


def provider_request_for(payout: Payout) -> ProviderRequest:
    # One key per payout, not per attempt: a real provider pays a repeated key only once.
    return ProviderRequest(
        idempotency_key=f"payout-{payout.id}",
        amount=payout.amount,
        currency=payout.currency,
        account_number=str(payout.recipient_details["account_number"]),
    )


def provider_send(request: ProviderRequest) -> None:
    """Pretend to call the provider: wait, then fail with the configured probability."""
    delay: float = settings.PAYOUT_PROCESSING_DELAY_SECONDS
    if delay > 0:
        time.sleep(delay)
    if random.random() < settings.PAYOUT_FAILURE_RATE:  # a simulation, not cryptography
        raise ProviderError("The payment provider declined the request (simulated failure).")
    logger.info(
        "Provider accepted %s for %s %s", request.idempotency_key, request.amount, request.currency
    )
