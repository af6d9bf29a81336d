"""The idempotency layer itself: fingerprints, the lost races of a claim, and the purge."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from idempotency import services, tasks
from idempotency.errors import IdempotencyKeyInUse
from idempotency.models import IdempotencyKey
from idempotency.services import Outcome, RequestIdentity, canonical_json, run_once
from tests.idempotency.conftest import KEY, expire_keys

IDENTITY = RequestIdentity("POST", "/api/payouts/", {"amount": "1.00"})


def never_run() -> Outcome:
    raise AssertionError("the work ran twice")


def test_canonical_json_sorts_keys_and_drops_spacing():
    assert canonical_json({"b": [1, {"d": True, "c": None}], "a": "x"}) == (
        '{"a":"x","b":[1e0,{"c":null,"d":true}]}'
    )


@pytest.mark.parametrize(
    "spellings",
    [
        (Decimal("10.5"), Decimal("10.50"), Decimal("1.05E1"), 10.5),
        (Decimal("100"), Decimal("1E2"), 100, Decimal("100.00")),
        (Decimal("0"), Decimal("0.00"), 0),
    ],
)
def test_equal_numbers_have_one_spelling(spellings):
    assert len({canonical_json(number) for number in spellings}) == 1


def test_a_number_and_its_text_differ():
    assert canonical_json(Decimal("10.5")) != canonical_json("10.5")


def test_numbers_are_never_rounded():
    close = (Decimal("0.1000000000000000000000000000001"), Decimal("0.1"))
    assert canonical_json(close[0]) != canonical_json(close[1])


def test_a_huge_exponent_is_spelled_briefly():
    assert canonical_json(Decimal("1E+999999999")) == "1e999999999"


def test_fingerprint_ignores_the_trailing_slash_but_not_the_method():
    body = {"amount": "1.00"}
    slash = RequestIdentity("POST", "/api/payouts/", body).fingerprint
    assert RequestIdentity("POST", "/api/payouts", body).fingerprint == slash
    assert RequestIdentity("PUT", "/api/payouts/", body).fingerprint != slash


def test_a_server_failure_outcome_is_rolled_back_with_its_work(owner):
    def fail() -> Outcome:
        IdempotencyKey.objects.create(client=owner.client, key="written-by-the-work")
        return Outcome(503, {"code": "service_unavailable"})

    outcome = run_once(owner.client, KEY, IDENTITY, fail)

    assert outcome.status == 503
    assert not IdempotencyKey.objects.exists()


def test_a_row_without_its_answer_is_a_request_in_progress(owner):
    def retry_inside() -> Outcome:
        return run_once(owner.client, KEY, IDENTITY, never_run)

    with pytest.raises(IdempotencyKeyInUse):
        run_once(owner.client, KEY, IDENTITY, retry_inside)


def test_purge_deletes_only_expired_keys_in_batches(owner, settings, monkeypatch):
    monkeypatch.setattr(services, "PURGE_BATCH_SIZE", 2)
    for index in range(5):
        IdempotencyKey.objects.create(client=owner.client, key=f"old-{index}", method="POST")
    expire_keys(settings)
    IdempotencyKey.objects.create(client=owner.client, key="fresh", method="POST")

    assert services.purge_expired() == 5
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


def test_purge_stops_after_its_batch_budget(owner, settings, monkeypatch):
    monkeypatch.setattr(services, "PURGE_BATCH_SIZE", 2)
    monkeypatch.setattr(services, "PURGE_MAX_BATCHES", 2)
    for index in range(5):
        IdempotencyKey.objects.create(client=owner.client, key=f"old-{index}", method="POST")
    expire_keys(settings)

    assert services.purge_expired() == 4
    assert IdempotencyKey.objects.count() == 1


def test_the_purge_is_a_periodic_task_of_the_consumer(owner, settings):
    IdempotencyKey.objects.create(client=owner.client, key="old", method="POST")
    expire_keys(settings)

    periodic = {type(task).__name__ for task in HUEY.read_periodic(timezone.now())}
    tasks.purge_expired_idempotency_keys()

    assert "purge_expired_idempotency_keys" in periodic
    assert not IdempotencyKey.objects.exists()
