"""Migrations keep up with the models: a model change without its migration fails here."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


def test_every_model_change_has_a_migration(db):
    out = StringIO()

    try:
        call_command("makemigrations", "--check", "--dry-run", "--verbosity=3", stdout=out)
    except SystemExit:
        pytest.fail(f"A model change has no migration:\n{out.getvalue()}")

    assert out.getvalue().strip() == "No changes detected"
