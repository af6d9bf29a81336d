"""The simulated provider: a delay and a failure rate, for running the service without one."""

from __future__ import annotations

import logging
import random
import time
import uuid

from django.conf import settings

from payouts.providers.base import Instruction, Outcome, Paid, Retryable

logger = logging.getLogger(__name__)


class SimulatedProvider:
    """Waits PAYOUT_PROCESSING_DELAY_SECONDS, then fails at PAYOUT_FAILURE_RATE (a failure that
    is retried, as an outage would be) or pays with a made-up reference."""

    def send(self, instruction: Instruction) -> Outcome:
        delay: float = settings.PAYOUT_PROCESSING_DELAY_SECONDS
        if delay > 0:
            time.sleep(delay)
        if random.random() < settings.PAYOUT_FAILURE_RATE:  # a simulation, not cryptography
            return Retryable("The simulated provider failed the request (PAYOUT_FAILURE_RATE).")
        logger.info(
            "Simulated provider paid %s %s for payout %s",
            instruction.amount,
            instruction.currency,
            instruction.payout_id,
        )
        return Paid(provider_reference=f"sim_{uuid.uuid4().hex[:20]}")
