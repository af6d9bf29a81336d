"""Payouts for list tests where both the order of sort keys and a set of statuses show."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from payouts.models import Payout, PayoutStatus
from tests.conftest import payout_payload

# Oldest first. Sorted by -amount then created_at they read c, d, e, a, b; by created_at alone
# a, b, c, d, e, so a server that kept only the last sort key would show it.
SORTABLE = {
    "a": ("10.00", "USD", PayoutStatus.PENDING),
    "b": ("10.00", "EUR", PayoutStatus.FAILED),
    "c": ("50.00", "EUR", PayoutStatus.PENDING),
    "d": ("50.00", "GBP", PayoutStatus.COMPLETED),
    "e": ("50.00", "USD", PayoutStatus.FAILED),
}


@pytest.fixture
def sortable_payouts(owner) -> dict[str, Payout]:
    """The SORTABLE payouts, an hour apart, stored as they are: no processing is queued, so they
    keep their statuses under a live server too."""
    now = timezone.now()
    payouts: dict[str, Payout] = {}
    for hours_ago, (name, (amount, currency, status)) in zip(
        range(len(SORTABLE), 0, -1), SORTABLE.items(), strict=True
    ):
        fields = payout_payload(amount=Decimal(amount), currency=currency)
        if status == PayoutStatus.FAILED:
            fields["failure_code"] = "provider_unavailable"
            fields["failure_reason"] = "Failed after 1 attempt(s): declined"
        payout = Payout.objects.create(
            client=owner.client,
            status=status,
            attempts=0 if status == PayoutStatus.PENDING else 1,
            max_attempts=4,
            **fields,
        )
        Payout.objects.filter(pk=payout.pk).update(created_at=now - timedelta(hours=hours_ago))
        payouts[name] = Payout.objects.get(pk=payout.pk)
    return payouts


def names(response, payouts: dict[str, Payout]) -> list[str]:
    """The SORTABLE names of a list response's rows, in the order returned."""
    by_id = {str(payout.id): name for name, payout in payouts.items()}
    return [by_id[row["id"]] for row in response.json()["results"]]


@pytest.fixture
def client(keyed_client):
    """Here every request is a client's: Django's test client with the owner's key."""
    return keyed_client
