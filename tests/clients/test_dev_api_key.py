"""`make run`'s first start: a development key and a curl line, once, and only with DEBUG on."""

from __future__ import annotations

import re
from io import StringIO

from django.core.management import call_command
from rest_framework.test import APIClient

from clients.models import ApiKey


def dev_api_key() -> str:
    out = StringIO()
    call_command("dev_api_key", "--base-url", "http://127.0.0.1:8000", stdout=out)
    return out.getvalue()


def test_the_first_run_prints_a_curl_line_whose_key_works(db, settings):
    settings.DEBUG = True

    printed = dev_api_key()

    match = re.search(
        r"curl -H 'Authorization: Bearer (\S+)' http://127\.0\.0\.1:8000/api/payouts/", printed
    )
    assert match is not None, printed
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {match[1]}")
    assert client.get("/api/payouts/").status_code == 200
    assert ApiKey.objects.get().client.name == "development"


def test_later_runs_create_no_key(db, settings):
    settings.DEBUG = True
    dev_api_key()

    printed = dev_api_key()

    assert "Bearer" not in printed
    assert "make api-key CLIENT=<name>" in printed
    assert ApiKey.objects.count() == 1


def test_nothing_is_created_without_debug(db, settings):
    settings.DEBUG = False

    assert dev_api_key() == ""
    assert not ApiKey.objects.exists()
