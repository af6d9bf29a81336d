"""The ledger check: each payout's final state in the service against what the provider paid."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Enough to say what went wrong; the counts say how often.
MAX_EXAMPLES = 10


@dataclass(frozen=True)
class LedgerCheck:
    """The service's record of a set of payouts against the fake provider's ledger of them; a
    mismatch is any payout that does not agree (see `_problem`) or a payment of no payout."""

    name: str
    payouts: int
    completed: int
    failed: int
    unfinished: int
    mismatches: int
    examples: list[str]
    provider_totals: dict[str, int]


@dataclass(frozen=True)
class Recorded:
    """What the service recorded of one payout: its row, as the check reads it."""

    id: str
    status: str
    provider_reference: str
    failure_code: str
    amount: str


def _paid(times: int) -> str:
    return "paid once" if times == 1 else f"paid {times} times"


def _problem(payout: Recorded, entries: list[dict[str, Any]]) -> str | None:
    """What is wrong with this payout's record next to its ledger entries, if anything."""
    times_paid = sum(int(entry["paid_count"]) for entry in entries)
    paid = [entry for entry in entries if entry["status"] == "paid"]
    declined = [entry for entry in entries if entry["status"] == "declined"]
    if payout.status == "COMPLETED":
        if times_paid != 1 or len(paid) != 1:
            return f"{payout.id}: COMPLETED, {_paid(times_paid)}"
        if paid[0]["provider_reference"] != payout.provider_reference:
            return (
                f"{payout.id}: COMPLETED under {payout.provider_reference!r}, "
                f"paid under {paid[0]['provider_reference']!r}"
            )
        if paid[0]["amount"] != payout.amount:
            return f"{payout.id}: {payout.amount} recorded, {paid[0]['amount']} paid"
        return None
    if payout.status != "FAILED":
        return f"{payout.id}: left {payout.status}"
    if times_paid:
        return f"{payout.id}: FAILED ({payout.failure_code}), {_paid(times_paid)}"
    if declined and declined[0]["code"] != payout.failure_code:
        return f"{payout.id}: declined {declined[0]['code']}, FAILED as {payout.failure_code}"
    return None


def check_ledger(
    name: str, records: Iterable[Recorded], ledgers: Iterable[dict[str, Any]]
) -> LedgerCheck:
    """Compare the service's records with one or more providers' ledgers (GET /ledger).

    A key in several ledgers counts its payments in each, so a payout paid by two providers
    is paid twice.
    """
    entries: dict[str, list[dict[str, Any]]] = {}
    totals: Counter[str] = Counter()
    for ledger in ledgers:
        for key, entry in ledger["payouts"].items():
            entries.setdefault(key, []).append(entry)
        totals.update(ledger["totals"])
    statuses: Counter[str] = Counter()
    problems: list[str] = []
    for payout in records:
        statuses[payout.status] += 1
        problem = _problem(payout, entries.pop(payout.id, []))
        if problem is not None:
            problems.append(problem)
    for key, left in entries.items():
        times_paid = sum(int(entry["paid_count"]) for entry in left)
        if times_paid:
            problems.append(f"{key}: {_paid(times_paid)}, no such payout in the service")
    return LedgerCheck(
        name=name,
        payouts=statuses.total(),
        completed=statuses["COMPLETED"],
        failed=statuses["FAILED"],
        unfinished=statuses.total() - statuses["COMPLETED"] - statuses["FAILED"],
        mismatches=len(problems),
        examples=problems[:MAX_EXAMPLES],
        provider_totals=dict(totals),
    )
