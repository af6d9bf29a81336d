"""REST errors: one JSON envelope under /api/, only canonical ids, slash optional."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection
from django.http import Http404
from rest_framework import exceptions
from rest_framework.test import APIClient

from payouts import errors, selectors
from payouts.errors import MSG_SERVER_ERROR, MSG_UNAVAILABLE
from payouts.models import Payout
from rest_api.errors import MSG_NOT_FOUND
from tests.conftest import api_error, payout_payload, run_in_fresh_process

URL = "/api/payouts/"
SECRET = "connection refused to db.internal:5432 password=hunter2"

NON_CANONICAL_IDS: dict[str, Callable[[uuid.UUID], str]] = {
    "upper-case": lambda payout_id: str(payout_id).upper(),
    "no-hyphens": lambda payout_id: payout_id.hex,
    "braces": lambda payout_id: f"{{{payout_id}}}",
    "urn": lambda payout_id: f"urn:uuid:{payout_id}",
}


def assert_envelope(response, status: int, code: str) -> None:
    """The envelope for an error whose wording is the library's: check its shape and code."""
    body = response.json()
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert body == api_error(code, body["detail"])


# Non-canonical ids


@pytest.mark.parametrize("spell", NON_CANONICAL_IDS.values(), ids=NON_CANONICAL_IDS.keys())
def test_get_with_a_non_canonical_id_is_404(api_client, pending_payout, spell):
    response = api_client.get(f"{URL}{spell(pending_payout.id)}/")

    assert response.status_code == 404
    assert response.json() == api_error("not_found", errors.MSG_NOT_FOUND)


@pytest.mark.parametrize("spell", NON_CANONICAL_IDS.values(), ids=NON_CANONICAL_IDS.keys())
def test_patch_with_a_non_canonical_id_is_404_and_changes_nothing(
    api_client, pending_payout, spell
):
    response = api_client.patch(
        f"{URL}{spell(pending_payout.id)}/", {"amount": "1.00"}, format="json"
    )

    assert response.status_code == 404
    assert response.json() == api_error("not_found", errors.MSG_NOT_FOUND)
    pending_payout.refresh_from_db()
    assert str(pending_payout.amount) == "100.00"
    assert list(pending_payout.events.values_list("kind", flat=True)) == ["created"]


@pytest.mark.parametrize("spell", NON_CANONICAL_IDS.values(), ids=NON_CANONICAL_IDS.keys())
def test_delete_with_a_non_canonical_id_is_404_and_deletes_nothing(
    api_client, pending_payout, spell
):
    response = api_client.delete(f"{URL}{spell(pending_payout.id)}/")

    assert response.status_code == 404
    assert response.json() == api_error("not_found", errors.MSG_NOT_FOUND)
    pending_payout.refresh_from_db()
    assert pending_payout.deleted_at is None
    assert list(pending_payout.events.values_list("kind", flat=True)) == ["created"]


# Without the trailing slash


def test_post_without_trailing_slash_creates_the_payout(
    api_client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post("/api/payouts", payout_payload(), format="json")

    assert response.status_code == 201
    assert Payout.objects.get().id == uuid.UUID(response.json()["id"])
    assert len(callbacks) == 2  # processing enqueued, payout.created announced


def test_get_list_without_trailing_slash_lists_payouts(api_client, pending_payout):
    response = api_client.get("/api/payouts")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(pending_payout.id)]


def test_get_without_trailing_slash_returns_the_payout(api_client, pending_payout):
    response = api_client.get(f"{URL}{pending_payout.id}")

    assert response.status_code == 200
    assert response.json()["id"] == str(pending_payout.id)


def test_patch_without_trailing_slash_updates_the_payout(api_client, pending_payout):
    response = api_client.patch(f"{URL}{pending_payout.id}", {"amount": "75.50"}, format="json")

    assert response.status_code == 200
    assert response.json()["amount"] == "75.50"
    pending_payout.refresh_from_db()
    assert str(pending_payout.amount) == "75.50"


def test_delete_without_trailing_slash_deletes_the_payout(api_client, pending_payout):
    response = api_client.delete(f"{URL}{pending_payout.id}")

    assert response.status_code == 204
    pending_payout.refresh_from_db()
    assert pending_payout.deleted_at is not None


# Errors outside the payout rules


@pytest.mark.parametrize(
    "path", ["/api/nope/", "/api/nope", "/api/payouts/{id}/nope", "/api/payouts/{id}/nope/"]
)
def test_an_unknown_path_under_api_is_the_json_404(api_client, pending_payout, path):
    response = api_client.get(path.format(id=pending_payout.id))

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == api_error("not_found", MSG_NOT_FOUND)


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_path_under_api_is_the_json_404_with_debug_on_too(
    api_client, db, settings, method
):
    settings.DEBUG = True

    response = getattr(api_client, method)("/api/nope/")

    assert response.status_code == 404
    assert response.json() == api_error("not_found", MSG_NOT_FOUND)


def test_an_unknown_path_outside_api_keeps_djangos_page(api_client, db):
    response = api_client.get("/nope/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "path",
    [
        "/api/payouts/?format=xml",
        "/api/payouts.xml",
        "/api/payouts/{id}/?format=xml",
    ],
)
def test_a_format_the_api_does_not_render_is_the_json_404(api_client, pending_payout, path):
    response = api_client.get(path.format(id=pending_payout.id))

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == api_error("not_found", MSG_NOT_FOUND)


def _list_raising(monkeypatch, error: Exception) -> None:
    def raising(caller) -> None:
        raise error

    monkeypatch.setattr(selectors, "payout_list", raising)


def test_djangos_http404_in_a_view_is_the_json_404_without_its_text(api_client, db, monkeypatch):
    _list_raising(monkeypatch, Http404("No Payout matches the given query."))

    response = api_client.get(URL)

    assert response.status_code == 404
    assert response.json() == api_error("not_found", MSG_NOT_FOUND)


def test_djangos_permission_denied_in_a_view_is_a_403_in_the_envelope(api_client, db, monkeypatch):
    _list_raising(monkeypatch, PermissionDenied("internal reason"))

    response = api_client.get(URL)

    assert response.status_code == 403
    assert response.json() == api_error(
        "permission_denied", str(exceptions.PermissionDenied.default_detail)
    )


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (exceptions.NotFound(code="invalid_page"), 404, "not_found"),
        (exceptions.ParseError(code="odd"), 400, "invalid"),
        (exceptions.APIException(), 500, "server_error"),
    ],
    ids=["404", "400", "500"],
)
def test_a_drf_code_the_table_lacks_is_the_code_of_its_status(
    api_client, db, monkeypatch, error, status, code
):
    _list_raising(monkeypatch, error)

    response = api_client.get(URL)

    assert response.status_code == status
    assert response.json() == api_error(code, str(error.detail))


def test_put_on_the_list_is_405_method_not_allowed(
    api_client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.put(URL, payout_payload(), format="json")

    assert_envelope(response, 405, "method_not_allowed")
    assert "PUT" in response.json()["detail"]
    assert Payout.objects.count() == 0
    assert callbacks == []


@pytest.mark.parametrize("format_", ["multipart", None], ids=["multipart", "urlencoded"])
def test_post_with_form_encoding_is_415_unsupported_media_type(
    api_client, db, django_capture_on_commit_callbacks, format_
):
    with django_capture_on_commit_callbacks() as callbacks:
        if format_ is None:
            response = api_client.post(
                URL,
                data="amount=1.00&currency=EUR",
                content_type="application/x-www-form-urlencoded",
            )
        else:
            response = api_client.post(URL, {"amount": "1.00", "currency": "EUR"}, format=format_)

    assert_envelope(response, 415, "unsupported_media_type")
    assert Payout.objects.count() == 0
    assert callbacks == []


def test_an_accept_header_the_api_cannot_satisfy_is_406_in_json(api_client, pending_payout):
    # text/html would be met by DRF's browsable API, so an unrenderable type stands in for it.
    response = api_client.get(URL, HTTP_ACCEPT="application/xml")

    assert_envelope(response, 406, "not_acceptable")


def test_an_unexpected_exception_is_the_json_500_without_its_text(owner, monkeypatch):
    def broken(caller) -> None:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(selectors, "payout_list", broken)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=owner.authorization)

    response = client.get(URL)

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == api_error("server_error", MSG_SERVER_ERROR)
    assert b"hunter2" not in response.content


def _database_down(execute, sql, params, many, context):
    raise OperationalError(SECRET)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", URL, None),
        ("get", URL + "{id}/", None),
        ("post", URL, payout_payload()),
        ("patch", URL + "{id}/", {"amount": "1.00"}),
        ("delete", URL + "{id}/", None),
    ],
    ids=["list", "retrieve", "create", "update", "delete"],
)
def test_a_database_that_is_down_is_503_without_the_error_text(
    api_client, pending_payout, django_capture_on_commit_callbacks, method, path, body
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        connection.execute_wrapper(_database_down),
    ):
        response = getattr(api_client, method)(
            path.format(id=pending_payout.id), body, format="json"
        )

    assert response.status_code == 503
    assert response.json() == api_error("service_unavailable", MSG_UNAVAILABLE)
    assert b"hunter2" not in response.content
    assert b"refused" not in response.content
    assert callbacks == []
    pending_payout.refresh_from_db()
    assert (pending_payout.amount, pending_payout.deleted_at) == (100, None)
    assert Payout.objects.count() == 1


# Logging


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("[" * 1_000, 400),
        (json.dumps(payout_payload(description="\ud800")), 400),
        ('{"amount": "1.00", "amount": "2.00"}', 400),
        (json.dumps(payout_payload(description="x" * 256 * 1024)), 413),
        (json.dumps(payout_payload(amount="0")), 400),
    ],
    ids=["deep-nesting", "lone-surrogate", "duplicate-key", "too-large", "invalid-field"],
)
def test_a_refused_body_is_logged_once_as_a_warning_without_traceback(
    api_client, db, caplog, body, status
):
    caplog.set_level(logging.INFO)

    response = api_client.post(URL, data=body, content_type="application/json")

    assert response.status_code == status
    [record] = caplog.records
    assert (record.name, record.levelno) == ("django.request", logging.WARNING)
    assert record.exc_info is None


# Import order


@pytest.mark.parametrize("module", ["rest_api.errors", "rest_api.parsers"])
def test_the_error_and_parser_modules_import_first_in_a_fresh_process(module):
    # DRF reads DEFAULT_PARSER_CLASSES while it defines APIView, so a cycle between the two
    # modules broke whichever was imported first (a shell, a script, a test).
    started = run_in_fresh_process(
        f"import django; django.setup(); import {module}; print('imported')",
        DJANGO_SETTINGS_MODULE="project.settings",
    )

    assert (started.returncode, started.stdout.strip()) == (0, "imported"), started.stderr
