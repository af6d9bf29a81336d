"""Services: every write goes through the status machine and records its event."""

from __future__ import annotations

import pytest

from payouts import services
from payouts.errors import (
    PayoutInvalid,
    PayoutNotEditable,
    PayoutTransitionNotAllowed,
    ReferenceInUse,
)
from payouts.models import Payout, PayoutEvent, PayoutStatus
from tests.conftest import payout_payload


def events(payout) -> list[tuple[str, str, int]]:
    return list(
        PayoutEvent.objects.filter(payout=payout)
        .order_by("id")
        .values_list("from_status", "to_status", "attempt")
    )


def test_create_rejects_invalid_input_without_writing(owner, db):
    with pytest.raises(PayoutInvalid) as raised:
        services.payout_create(owner.caller, payout_payload(amount="0"))

    assert [(e.field, e.code.value) for e in raised.value.errors] == [("amount", "min_value")]
    assert Payout.objects.count() == 0
    assert PayoutEvent.objects.count() == 0


def test_create_with_a_reference_the_client_holds_names_the_payout_holding_it(
    owner, make_payout, django_capture_on_commit_callbacks
):
    holder = make_payout(reference="INV-1")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ReferenceInUse) as raised:
        services.payout_create(owner.caller, payout_payload(reference="INV-1"))

    assert (raised.value.payout_id, raised.value.field) == (holder.id, "reference")
    assert Payout.objects.count() == 1
    assert callbacks == []


def test_a_create_that_loses_the_race_for_its_reference_names_the_winner(owner, db, monkeypatch):
    """The check before the insert misses a payout created meanwhile: the unique constraint
    refuses the insert, and the winner is named rather than a database error raised. (Here the
    winner shares the test's transaction; tests/integration races real ones.)"""
    check = services._refuse_reference_in_use
    winners: list[Payout] = []

    def created_meanwhile(client, reference):
        check(client, reference)
        if not winners:
            winners.append(
                Payout.objects.create(
                    client=client, max_attempts=1, **payout_payload(reference=reference)
                )
            )

    monkeypatch.setattr(services, "_refuse_reference_in_use", created_meanwhile)

    with pytest.raises(ReferenceInUse) as raised:
        services.payout_create(owner.caller, payout_payload(reference="INV-1"))

    assert raised.value.payout_id == winners[0].id


def test_first_attempt_moves_pending_to_processing(pending_payout):
    payout = services.payout_start_attempt(pending_payout.id, attempt=1)

    assert payout is not None
    assert payout.status == PayoutStatus.PROCESSING
    assert payout.attempts == 1
    assert events(pending_payout)[-1] == ("PENDING", "PROCESSING", 1)


def test_a_claimed_payout_comes_back_whole_as_stored(pending_payout):
    claimed = services.payout_start_attempt(pending_payout.id, attempt=1)

    stored = Payout.objects.get(pk=pending_payout.id)
    assert claimed is not None
    fields = [field.attname for field in Payout._meta.concrete_fields]
    assert {name: getattr(claimed, name) for name in fields} == {
        name: getattr(stored, name) for name in fields
    }
    assert claimed.updated_at > pending_payout.updated_at


def test_a_duplicate_first_attempt_is_skipped(pending_payout):
    services.payout_start_attempt(pending_payout.id, attempt=1)

    assert services.payout_start_attempt(pending_payout.id, attempt=1) is None
    assert Payout.objects.get(pk=pending_payout.id).attempts == 1


def test_a_retry_continues_a_processing_payout(pending_payout):
    services.payout_start_attempt(pending_payout.id, attempt=1)

    payout = services.payout_start_attempt(pending_payout.id, attempt=2)

    assert payout is not None
    assert (payout.status, payout.attempts) == (PayoutStatus.PROCESSING, 2)


@pytest.mark.parametrize("status", [PayoutStatus.COMPLETED, PayoutStatus.FAILED])
def test_a_finished_payout_is_not_started_again(make_payout, status):
    payout = make_payout(status=status)

    assert services.payout_start_attempt(payout.id, attempt=2) is None
    assert Payout.objects.get(pk=payout.id).status == status


def test_complete_is_refused_for_a_pending_payout(pending_payout):
    with pytest.raises(
        PayoutTransitionNotAllowed, match="A PENDING payout cannot move to COMPLETED"
    ):
        services.payout_complete(pending_payout.id, 1, "pr_1")

    assert Payout.objects.get(pk=pending_payout.id).status == PayoutStatus.PENDING


def test_fail_records_the_code_the_reason_and_event(pending_payout):
    services.payout_start_attempt(pending_payout.id, attempt=1)

    assert services.payout_fail(pending_payout.id, 1, "account_closed", "Closed.") is True

    payout = Payout.objects.get(pk=pending_payout.id)
    assert (payout.status, payout.failure_code, payout.failure_reason) == (
        PayoutStatus.FAILED,
        "account_closed",
        "Closed.",
    )
    assert events(pending_payout)[-1] == ("PROCESSING", "FAILED", 1)


def test_a_claim_beyond_the_payouts_budget_is_skipped(make_payout, settings):
    settings.PAYOUT_MAX_RETRIES = 0
    payout = make_payout()
    services.payout_start_attempt(payout.id, attempt=1)

    assert services.payout_start_attempt(payout.id, attempt=2) is None
    assert Payout.objects.get(pk=payout.id).attempts == 1


def test_a_deleted_payout_is_never_claimed(owner, pending_payout):
    services.payout_delete(owner.caller, pending_payout.id)

    assert services.payout_start_attempt(pending_payout.id, attempt=1) is None
    assert Payout.objects.get(pk=pending_payout.id).status == PayoutStatus.PENDING


def test_a_failure_from_an_attempt_the_payout_moved_past_is_ignored(pending_payout):
    services.payout_start_attempt(pending_payout.id, attempt=1)
    services.payout_start_attempt(pending_payout.id, attempt=2)

    assert services.payout_fail(pending_payout.id, 1, "provider_unavailable", "stale") is False
    assert Payout.objects.get(pk=pending_payout.id).status == PayoutStatus.PROCESSING


def test_a_payment_recorded_on_a_failed_payout_is_reported_as_critical(pending_payout, caplog):
    services.payout_start_attempt(pending_payout.id, attempt=1)
    services.payout_fail(pending_payout.id, 1, "provider_unavailable", "interrupted")

    assert services.payout_complete(pending_payout.id, 1, "pr_1") is False

    [record] = [r for r in caplog.records if r.levelname == "CRITICAL"]
    assert "reconcile" in record.getMessage()


def test_update_is_refused_once_processing(owner, pending_payout):
    services.payout_start_attempt(pending_payout.id, attempt=1)

    with pytest.raises(PayoutNotEditable):
        services.payout_update(owner.caller, pending_payout.id, {"amount": "1.00"})


def test_update_checks_the_status_before_the_input(owner, make_payout):
    payout = make_payout(status=PayoutStatus.COMPLETED)

    with pytest.raises(PayoutNotEditable):
        services.payout_update(owner.caller, payout.id, {"amount": "-1"})
