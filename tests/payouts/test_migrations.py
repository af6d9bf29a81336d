"""Migrations keep up with the models: a model change without its migration fails here."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clients.models import Client


def test_every_model_change_has_a_migration(db):
    out = StringIO()

    try:
        call_command("makemigrations", "--check", "--dry-run", "--verbosity=3", stdout=out)
    except SystemExit:
        pytest.fail(f"A model change has no migration:\n{out.getvalue()}")

    assert out.getvalue().strip() == "No changes detected"


def _migrate(*targets: tuple[str, str | None]) -> Any:
    """Migrate to `targets` and return the app registry of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    executor.loader.build_graph()
    reached = [(app, name) for app, name in targets if name is not None]
    return executor.loader.project_state(reached).apps


def test_payouts_from_before_clients_belong_to_the_legacy_client(transactional_db):
    before = _migrate(("payouts", "0005_field_rules"), ("clients", None))
    Payout = before.get_model("payouts", "Payout")
    PayoutEvent = before.get_model("payouts", "PayoutEvent")
    payout = Payout.objects.create(
        amount="10.00", currency="EUR", recipient_details={"account_number": "X1"}, max_attempts=4
    )
    for kind in ("created", "processing", "completed"):
        PayoutEvent.objects.create(payout=payout, kind=kind, to_status="PENDING")

    try:
        after = _migrate(("payouts", "0008_payout_client_required"))
        migrated = after.get_model("payouts", "Payout").objects.get(pk=payout.pk)
        events = after.get_model("payouts", "PayoutEvent").objects.filter(payout_id=payout.pk)

        assert migrated.client.name == "legacy"
        assert dict(events.values_list("kind", "actor_kind")) == {
            "created": "client",
            "processing": "worker",
            "completed": "worker",
        }
    finally:
        # Leave the schema as every other test expects it.
        call_command("migrate", verbosity=0)


def test_a_database_without_payouts_gets_no_legacy_client(db):
    assert not Client.objects.filter(name="legacy").exists()


def test_payouts_that_failed_before_failure_codes_get_provider_unavailable(transactional_db):
    owner = Client.objects.create(name="before-codes")
    before = _migrate(("payouts", "0009_reference_metadata"))
    Payout = before.get_model("payouts", "Payout")
    common = {"currency": "EUR", "recipient_details": {"account_number": "X1"}, "max_attempts": 4}
    failed = Payout.objects.create(
        client_id=owner.pk, amount="10.00", status="FAILED", failure_reason="Failed", **common
    )
    paid = Payout.objects.create(client_id=owner.pk, amount="11.00", status="COMPLETED", **common)

    try:
        after = _migrate(("payouts", "0010_provider_outcomes"))
        migrated = after.get_model("payouts", "Payout").objects

        assert migrated.get(pk=failed.pk).failure_code == "provider_unavailable"
        assert migrated.get(pk=paid.pk).failure_code == ""
    finally:
        call_command("migrate", verbosity=0)
