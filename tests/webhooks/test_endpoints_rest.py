"""/api/webhook-endpoints/: a client manages its own endpoints; the secret is shown only when
it is made; another client's endpoint is not found; bad input is a 400 naming field and code."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from events.models import Event, EventType
from payouts.errors import MSG_READ_ONLY_FIELD, MSG_UNKNOWN_FIELD
from payouts.selectors import PAYOUT_PAGE_MAX
from rest_api.pagination import MSG_PAGE_SIZE_TOO_LARGE
from tests.conftest import api_error, field_codes, field_errors
from tests.webhooks.conftest import RECEIVER, RECEIVER_URL
from webhooks import errors
from webhooks.models import ENDPOINTS_PER_CLIENT_MAX, WebhookDelivery, WebhookEndpoint
from webhooks.signing import PREVIOUS_SECRET_VALIDITY, signed_headers

LIST = "/api/webhook-endpoints/"
REPRESENTATION = {
    "id",
    "url",
    "description",
    "event_types",
    "enabled",
    "disabled_at",
    "disabled_reason",
    "created_at",
    "updated_at",
}


def detail(endpoint: WebhookEndpoint) -> str:
    return f"{LIST}{endpoint.pk}/"


def rotate(endpoint: WebhookEndpoint) -> str:
    return f"{LIST}{endpoint.pk}/rotate-secret/"


def verifies(secret: str, endpoint: WebhookEndpoint) -> bool:
    """Whether a receiver holding `secret` verifies a message the endpoint is sent now."""
    body = b'{"id": "evt_1"}'
    endpoint.refresh_from_db()
    headers = signed_headers(endpoint, "evt_1", body, timezone.now())
    try:
        Webhook(secret).verify(body, headers)
    except Exception:
        return False
    return True


def expire_earlier_secrets(endpoint: WebhookEndpoint) -> None:
    """Move the endpoint past the expiry of every secret its rotations replaced."""
    endpoint.refresh_from_db()
    past = (timezone.now() - timedelta(seconds=1)).isoformat()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secrets=[{**entry, "expires_at": past} for entry in endpoint.previous_secrets]
    )


def endpoint_rows():
    return list(WebhookEndpoint.objects.order_by("pk").values())


def test_create_returns_the_endpoint_and_its_secret_once(api_client, owner):
    response = api_client.post(
        LIST,
        {"url": RECEIVER_URL, "description": "Ledger", "event_types": ["payout.failed"]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {*REPRESENTATION, "secret"}
    stored = WebhookEndpoint.objects.get(pk=body["id"])
    assert stored.client == owner.client
    assert body["secret"] == stored.secret
    assert body["secret"].startswith("whsec_")
    assert (body["url"], body["description"], body["event_types"], body["enabled"]) == (
        RECEIVER_URL,
        "Ledger",
        ["payout.failed"],
        True,
    )
    assert (body["disabled_at"], body["disabled_reason"]) == (None, "")


def test_a_created_endpoint_defaults_to_every_event_type_enabled(api_client):
    response = api_client.post(LIST, {"url": RECEIVER_URL}, format="json")

    assert response.status_code == 201
    assert (response.json()["event_types"], response.json()["enabled"]) == ([], True)
    assert response.json()["description"] == ""


def test_the_url_is_stored_normalised(api_client):
    response = api_client.post(LIST, {"url": f"HTTPS://{RECEIVER.upper()}/A"}, format="json")

    assert response.status_code == 201
    assert response.json()["url"] == f"https://{RECEIVER}/A"


def test_event_types_are_stored_in_the_catalogues_order(api_client):
    sent = ["payout.failed", "payout.created", "payout.completed"]

    response = api_client.post(LIST, {"url": RECEIVER_URL, "event_types": sent}, format="json")

    assert response.json()["event_types"] == ["payout.created", "payout.completed", "payout.failed"]


def test_no_read_shows_the_secret(api_client, endpoint):
    listed = api_client.get(LIST).json()["results"]
    retrieved = api_client.get(detail(endpoint)).json()
    patched = api_client.patch(detail(endpoint), {"description": "x"}, format="json").json()

    for shown in (*listed, retrieved, patched):
        assert set(shown) == REPRESENTATION
        assert endpoint.secret not in json.dumps(shown)


def test_list_holds_only_own_endpoints_newest_first_paginated(api_client, make_endpoint, stranger):
    first, _ = make_endpoint(description="first")
    second, _ = make_endpoint(description="second")
    make_endpoint(holder=stranger)

    response = api_client.get(LIST, {"page_size": 1})

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["previous"]) == (2, None)
    assert [row["id"] for row in body["results"]] == [str(second.pk)]
    assert "page=2" in body["next"]
    assert [row["id"] for row in api_client.get(body["next"]).json()["results"]] == [str(first.pk)]


def test_retrieve_shows_the_endpoint(api_client, endpoint):
    response = api_client.get(detail(endpoint))

    assert response.status_code == 200
    assert response.json()["id"] == str(endpoint.pk)
    assert response.json()["url"] == RECEIVER_URL


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE", "POST rotate-secret"])
def test_another_clients_endpoint_is_not_found(api_client, make_endpoint, stranger, method):
    theirs, _ = make_endpoint(holder=stranger)
    before = endpoint_rows()

    if method == "GET":
        response = api_client.get(detail(theirs))
    elif method == "PATCH":
        response = api_client.patch(detail(theirs), {"enabled": False}, format="json")
    elif method == "DELETE":
        response = api_client.delete(detail(theirs))
    else:
        response = api_client.post(rotate(theirs))

    assert response.status_code == 404
    assert response.json() == api_error("not_found", errors.MSG_NOT_FOUND)
    assert endpoint_rows() == before


@pytest.mark.parametrize("endpoint_id", ["nope", str(uuid.uuid4()), str(uuid.uuid4()).upper()])
def test_an_unknown_or_malformed_id_is_not_found(api_client, endpoint_id):
    response = api_client.get(f"{LIST}{endpoint_id}/")

    assert response.status_code == 404
    assert response.json() == api_error("not_found", errors.MSG_NOT_FOUND)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("not a url", "webhook_url_invalid"),
        ("ftp://hooks.example.com/", "webhook_url_invalid"),
        ("https://bücher-.example/", "webhook_url_invalid"),
        ("https://user:pw@hooks.example.com/", "webhook_url_credentials"),
        ("https://nowhere.example/", "webhook_url_unresolvable"),
        ("https://127.0.0.1/", "webhook_url_private_address"),
        ("https://[::ffff:169.254.169.254]/", "webhook_url_private_address"),
        ("https://example.com/" + "a" * 2048, "max_length"),
        ("", "blank"),
        (42, "invalid"),
    ],
)
def test_an_invalid_url_is_400_with_its_code(api_client, url, code):
    response = api_client.post(LIST, {"url": url}, format="json")

    assert response.status_code == 400
    assert field_codes(response) == {"url": [code]}
    assert not WebhookEndpoint.objects.exists()


def test_http_is_refused_by_default(api_client):
    response = api_client.post(LIST, {"url": f"http://{RECEIVER}/hook"}, format="json")

    assert response.status_code == 400
    assert field_errors(response) == {"url": [errors.MSG_URL_NOT_HTTPS]}
    assert field_codes(response) == {"url": ["webhook_url_not_https"]}


def test_http_is_taken_where_webhook_allow_http_is_on(api_client, settings):
    settings.WEBHOOK_ALLOW_HTTP = True

    response = api_client.post(LIST, {"url": f"http://{RECEIVER}/hook"}, format="json")

    assert response.status_code == 201
    assert response.json()["url"] == f"http://{RECEIVER}/hook"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "192.168.0.10",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "::ffff:127.0.0.1",
    ],
)
def test_a_host_resolving_to_a_private_address_is_refused(api_client, dns, address):
    dns["intranet.example"] = [address]

    response = api_client.post(LIST, {"url": "https://intranet.example/hook"}, format="json")

    assert response.status_code == 400
    assert field_errors(response) == {
        "url": [errors.MSG_URL_PRIVATE_ADDRESS.format(host="intranet.example")]
    }
    assert field_codes(response) == {"url": ["webhook_url_private_address"]}
    assert not WebhookEndpoint.objects.exists()


def test_private_targets_are_taken_where_the_setting_allows_them(api_client, dns, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    dns["intranet.example"] = ["10.0.0.5"]

    response = api_client.post(LIST, {"url": "https://intranet.example/hook"}, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"url": RECEIVER_URL, "event_types": ["payout.paid"]},
            {
                "event_types": [
                    errors.MSG_EVENT_TYPE_UNKNOWN.format(
                        value="payout.paid", choices=", ".join(EventType.values)
                    )
                ]
            },
        ),
        (
            {"url": RECEIVER_URL, "event_types": ["payout.failed", "payout.failed"]},
            {"event_types": [errors.MSG_EVENT_TYPE_REPEATED.format(value="payout.failed")]},
        ),
        (
            {"url": RECEIVER_URL, "event_types": "payout.failed"},
            {"event_types": [errors.MSG_EVENT_TYPES_NOT_LIST]},
        ),
        (
            {"url": RECEIVER_URL, "event_types": [1]},
            {"event_types": [errors.MSG_EVENT_TYPE_NOT_TEXT]},
        ),
        ({"url": RECEIVER_URL, "enabled": "yes"}, {"enabled": [errors.MSG_ENABLED_NOT_BOOLEAN]}),
        (
            {"url": RECEIVER_URL, "description": "x" * 501},
            {"description": ["Description must be at most 500 characters."]},
        ),
        (
            {"url": RECEIVER_URL, "description": None},
            {"description": ["This field may not be null."]},
        ),
        ({"url": RECEIVER_URL, "secret": "whsec_x"}, {"secret": [errors.MSG_SECRET_READ_ONLY]}),
        ({"url": RECEIVER_URL, "disabled_at": None}, {"disabled_at": [MSG_READ_ONLY_FIELD]}),
        ({"url": RECEIVER_URL, "events": []}, {"events": [MSG_UNKNOWN_FIELD]}),
        ({}, {"url": ["This field is required."]}),
    ],
)
def test_invalid_input_is_refused_by_field(api_client, body, expected):
    response = api_client.post(LIST, body, format="json")

    assert response.status_code == 400
    assert field_errors(response) == expected
    assert not WebhookEndpoint.objects.exists()


def test_a_body_that_is_not_an_object_is_refused(api_client):
    response = api_client.post(LIST, [RECEIVER_URL], format="json")

    assert response.status_code == 400
    assert field_codes(response) == {None: ["not_an_object"]}


def test_create_past_the_limit_is_refused(api_client, make_endpoint):
    for _ in range(ENDPOINTS_PER_CLIENT_MAX):
        make_endpoint()

    response = api_client.post(LIST, {"url": RECEIVER_URL}, format="json")

    assert response.status_code == 400
    message = errors.MSG_LIMIT.format(limit=ENDPOINTS_PER_CLIENT_MAX)
    assert field_errors(response) == {None: [message]}
    assert field_codes(response) == {None: ["webhook_endpoint_limit"]}
    assert WebhookEndpoint.objects.count() == ENDPOINTS_PER_CLIENT_MAX


def test_a_staff_session_cannot_create_an_endpoint(admin_client, db):
    response = admin_client.post(LIST, {"url": RECEIVER_URL}, content_type="application/json")

    assert response.status_code == 403
    assert response.json() == api_error("client_required", errors.MSG_CLIENT_REQUIRED)


def test_patch_changes_the_fields_sent(api_client, endpoint, dns):
    dns["new.example.com"] = ["93.184.215.15"]

    response = api_client.patch(
        detail(endpoint),
        {"url": "https://new.example.com/h", "event_types": ["payout.completed"]},
        format="json",
    )

    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types) == (
        "https://new.example.com/h",
        ["payout.completed"],
    )
    assert endpoint.description == ""
    assert response.json()["url"] == "https://new.example.com/h"


def test_patch_to_a_private_url_is_refused_and_changes_nothing(api_client, endpoint):
    before = endpoint_rows()

    response = api_client.patch(detail(endpoint), {"url": "https://10.0.0.1/"}, format="json")

    assert response.status_code == 400
    assert field_codes(response) == {"url": ["webhook_url_private_address"]}
    assert endpoint_rows() == before


def test_patch_cannot_set_the_secret(api_client, endpoint):
    response = api_client.patch(detail(endpoint), {"secret": "whsec_AAAA"}, format="json")

    assert response.status_code == 400
    assert field_errors(response) == {"secret": [errors.MSG_SECRET_READ_ONLY]}


def test_enabling_a_disabled_endpoint_clears_its_automatic_disabling(api_client, endpoint):
    long_ago = timezone.now() - timedelta(days=4)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_at=timezone.now(), disabled_reason="Failing", failing_since=long_ago
    )

    response = api_client.patch(detail(endpoint), {"enabled": True}, format="json")

    assert response.status_code == 200
    assert (response.json()["enabled"], response.json()["disabled_at"]) == (True, None)
    endpoint.refresh_from_db()
    assert (endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since) == (
        None,
        "",
        None,
    )


def test_enabling_an_enabled_endpoint_keeps_its_failure_clock(api_client, endpoint):
    failing_since = timezone.now() - timedelta(hours=1)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=failing_since)

    api_client.patch(detail(endpoint), {"enabled": True}, format="json")

    endpoint.refresh_from_db()
    assert endpoint.failing_since == failing_since


def test_disabling_an_endpoint_records_no_automatic_disabling(api_client, endpoint):
    response = api_client.patch(detail(endpoint), {"enabled": False}, format="json")

    assert response.status_code == 200
    assert (response.json()["enabled"], response.json()["disabled_at"]) == (False, None)


def test_delete_removes_the_endpoint_and_its_deliveries(api_client, endpoint, pending_payout):
    event = Event.objects.get(payout=pending_payout)
    WebhookDelivery.objects.create(endpoint=endpoint, event=event)

    response = api_client.delete(detail(endpoint))

    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert Event.objects.filter(pk=event.pk).exists()


def test_rotate_secret_returns_a_new_secret_once(api_client, make_endpoint):
    endpoint, old = make_endpoint()

    response = api_client.post(rotate(endpoint))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {*REPRESENTATION, "secret"}
    assert body["secret"] != old
    assert body["secret"].startswith("whsec_")
    assert body["secret"] not in json.dumps(api_client.get(detail(endpoint)).json())


def test_after_a_rotation_old_and_new_secrets_verify_for_24_hours(api_client, make_endpoint):
    endpoint, old = make_endpoint()

    new = api_client.post(rotate(endpoint)).json()["secret"]

    assert verifies(old, endpoint)
    assert verifies(new, endpoint)
    endpoint.refresh_from_db()
    [earlier] = endpoint.previous_secrets
    expected = timezone.now() + PREVIOUS_SECRET_VALIDITY
    assert abs(datetime.fromisoformat(earlier["expires_at"]) - expected) < timedelta(minutes=1)


def test_once_24_hours_have_passed_only_the_new_secret_verifies(api_client, make_endpoint):
    endpoint, old = make_endpoint()
    new = api_client.post(rotate(endpoint)).json()["secret"]

    expire_earlier_secrets(endpoint)

    assert verifies(new, endpoint)
    assert not verifies(old, endpoint)


def test_a_rotation_retried_after_a_lost_answer_keeps_the_first_secret_valid(
    api_client, make_endpoint
):
    endpoint, first = make_endpoint()
    api_client.post(rotate(endpoint))  # its answer never reached the client

    latest = api_client.post(rotate(endpoint)).json()["secret"]

    assert verifies(first, endpoint)
    assert verifies(latest, endpoint)


def test_a_second_rotation_within_24_hours_keeps_the_secret_the_first_handed_out(
    api_client, make_endpoint
):
    endpoint, first = make_endpoint()
    deployed = api_client.post(rotate(endpoint)).json()["secret"]  # the receiver deploys it

    latest = api_client.post(rotate(endpoint)).json()["secret"]

    assert verifies(deployed, endpoint)
    assert verifies(first, endpoint)
    assert verifies(latest, endpoint)


def test_a_rotation_drops_the_earlier_secrets_that_have_expired(api_client, make_endpoint):
    endpoint, first = make_endpoint()
    second = api_client.post(rotate(endpoint)).json()["secret"]
    expire_earlier_secrets(endpoint)

    api_client.post(rotate(endpoint))

    endpoint.refresh_from_db()
    assert [entry["secret"] for entry in endpoint.previous_secrets] == [second]
    assert not verifies(first, endpoint)


def test_a_page_size_past_the_maximum_is_refused(api_client):
    response = api_client.get(LIST, {"page_size": PAYOUT_PAGE_MAX + 1})

    assert response.status_code == 400
    assert field_errors(response) == {"page_size": [MSG_PAGE_SIZE_TOO_LARGE]}
