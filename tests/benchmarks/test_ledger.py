"""The bench's ledger check: the service's final states against the fake provider's ledger."""

from __future__ import annotations

from benchmarks.ledger import Recorded, check_ledger

PAID_ID = "11111111-0000-4000-8000-000000000001"
OTHER_ID = "11111111-0000-4000-8000-000000000002"
TOTALS = {"requests": 1, "paid": 1}


def completed(payout_id: str = PAID_ID, reference: str = "fp_1") -> Recorded:
    return Recorded(payout_id, "COMPLETED", reference, "", "250.00")


def failed(payout_id: str = OTHER_ID, code: str = "provider_unavailable") -> Recorded:
    return Recorded(payout_id, "FAILED", "", code, "250.00")


def paid(reference: str = "fp_1", paid_count: int = 1, amount: str = "250.00") -> dict:
    return {
        "status": "paid",
        "provider_reference": reference,
        "code": None,
        "amount": amount,
        "currency": "EUR",
        "requests": 1,
        "repeats": 0,
        "paid_count": paid_count,
    }


def declined(code: str = "insufficient_funds") -> dict:
    return {
        **paid(),
        "status": "declined",
        "provider_reference": None,
        "code": code,
        "paid_count": 0,
    }


def ledger(**payouts: dict) -> dict:
    return {"payouts": payouts, "undecided": {}, "totals": TOTALS}


def test_a_payout_completed_under_the_reference_it_was_paid_once_under_agrees():
    check = check_ledger("runs", [completed(), failed()], [ledger(**{PAID_ID: paid()})])

    assert (check.payouts, check.completed, check.failed, check.unfinished) == (2, 1, 1, 0)
    assert (check.mismatches, check.examples) == (0, [])
    assert check.provider_totals == TOTALS


def test_a_completed_payout_the_provider_never_paid_is_a_mismatch():
    check = check_ledger("runs", [completed()], [ledger()])

    assert check.examples == [f"{PAID_ID}: COMPLETED, paid 0 times"]


def test_a_payout_paid_twice_is_a_mismatch():
    check = check_ledger("runs", [completed()], [ledger(**{PAID_ID: paid(paid_count=2)})])

    assert check.examples == [f"{PAID_ID}: COMPLETED, paid 2 times"]


def test_a_key_paid_by_two_providers_counts_both_payments():
    check = check_ledger(
        "runs", [completed()], [ledger(**{PAID_ID: paid()}), ledger(**{PAID_ID: paid("fp_2")})]
    )

    assert check.mismatches == 1
    assert check.provider_totals == {"requests": 2, "paid": 2}


def test_a_completed_payout_under_another_reference_is_a_mismatch():
    check = check_ledger("runs", [completed(reference="fp_9")], [ledger(**{PAID_ID: paid()})])

    assert check.examples == [f"{PAID_ID}: COMPLETED under 'fp_9', paid under 'fp_1'"]


def test_a_payment_of_another_amount_is_a_mismatch():
    check = check_ledger("runs", [completed()], [ledger(**{PAID_ID: paid(amount="25.00")})])

    assert check.examples == [f"{PAID_ID}: 250.00 recorded, 25.00 paid"]


def test_a_failed_payout_the_provider_paid_is_a_mismatch():
    check = check_ledger("runs", [failed(PAID_ID)], [ledger(**{PAID_ID: paid()})])

    assert check.examples == [f"{PAID_ID}: FAILED (provider_unavailable), paid once"]


def test_a_decline_must_be_failed_with_the_providers_code():
    closed = ledger(**{OTHER_ID: declined("account_closed")})

    agrees = check_ledger("runs", [failed(code="account_closed")], [closed])
    differs = check_ledger("runs", [failed()], [ledger(**{OTHER_ID: declined()})])

    assert agrees.mismatches == 0
    assert differs.examples == [
        f"{OTHER_ID}: declined insufficient_funds, FAILED as provider_unavailable"
    ]


def test_a_payout_left_pending_or_processing_is_unfinished_and_a_mismatch():
    records = [Recorded(PAID_ID, "PROCESSING", "", "", "250.00"), failed()]

    check = check_ledger("runs", records, [ledger()])

    assert (check.unfinished, check.mismatches) == (1, 1)
    assert check.examples == [f"{PAID_ID}: left PROCESSING"]


def test_a_payment_the_service_has_no_payout_for_is_a_mismatch():
    check = check_ledger("runs", [failed()], [ledger(**{PAID_ID: paid()})])

    assert check.examples == [f"{PAID_ID}: paid once, no such payout in the service"]


def test_examples_stop_at_ten_while_every_mismatch_is_counted():
    records = [completed(f"{n:08d}-0000-4000-8000-000000000000") for n in range(12)]

    check = check_ledger("runs", records, [ledger()])

    assert (check.mismatches, len(check.examples)) == (12, 10)
