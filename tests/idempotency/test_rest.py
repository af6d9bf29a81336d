"""POST /api/payouts/ with an Idempotency-Key: one payout per key, whatever the client retries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from idempotency.errors import MSG_KEY_IN_USE, MSG_KEY_INVALID, MSG_KEY_MISMATCH
from idempotency.models import IdempotencyKey
from idempotency.services import purge_expired
from payouts import services
from payouts.errors import MSG_CLIENT_REQUIRED
from payouts.models import Payout
from tests.conftest import api_error, payout_payload
from tests.idempotency.conftest import KEY, expire_keys

URL = "/api/payouts/"


@pytest.fixture
def post(api_client: APIClient, django_capture_on_commit_callbacks: Any) -> Any:
    """POST a body with a key (KEY unless told otherwise), running what commits would run."""

    def post(body: Any, key: str | None = KEY, client: APIClient = api_client, path: str = URL):
        headers = {} if key is None else {"Idempotency-Key": key}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, body, format="json", headers=headers)

    return post


def test_first_request_creates_the_payout_and_is_not_marked_replayed(post, enqueued):
    response = post(payout_payload())

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Payout.objects.filter(pk=response.json()["id"]).exists()
    assert enqueued == [response.json()["id"]]


def test_retry_replays_the_same_status_and_body_and_creates_nothing(post, enqueued):
    first = post(payout_payload())

    retry = post(payout_payload())

    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert Payout.objects.count() == 1
    assert enqueued == [first.json()["id"]]


def test_replay_is_the_first_answer_even_after_the_payout_moved_on(post):
    first = post(payout_payload())
    Payout.objects.filter(pk=first.json()["id"]).update(
        status="PROCESSING", attempts=1, provider_reference=""
    )

    retry = post(payout_payload())

    assert retry.json()["status"] == "PENDING"
    assert retry.json() == first.json()


def test_same_body_in_another_key_order_spacing_and_number_spelling_is_the_same_request(post):
    first = post(payout_payload(amount="10.5"))
    body = payout_payload(amount="10.5")
    reordered = dict(reversed(list(body.items())))

    retry = post(reordered)

    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]


def test_json_numbers_that_are_equal_are_the_same_request(api_client):
    def send(amount: str) -> Any:
        text = '{"amount": %s, "currency": "EUR", "recipient_details": {"account_number": "1"}}'
        headers = {"Idempotency-Key": KEY}
        return api_client.generic(
            "POST", URL, text % amount, content_type="application/json", headers=headers
        )

    first = send("10.5")
    retry = send("10.50")

    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]


def test_path_without_trailing_slash_is_the_same_request(post):
    first = post(payout_payload())

    retry = post(payout_payload(), path=URL.rstrip("/"))

    assert retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]


def test_same_key_with_a_different_body_is_422_and_creates_nothing(post):
    post(payout_payload(amount="10.00"))

    response = post(payout_payload(amount="20.00"))

    assert response.status_code == 422
    assert response.json() == api_error(
        "idempotency_key_mismatch", MSG_KEY_MISMATCH.format(method="POST", path=URL)
    )
    assert Payout.objects.count() == 1


def test_same_key_while_the_first_request_runs_is_409_safe_to_retry(post, monkeypatch):
    retries: list[Any] = []
    real_create = services.payout_create

    def create_while_the_client_retries(*args: Any) -> Payout:
        # The client gave up waiting and retries while this first request still runs.
        retries.append(post(payout_payload()))
        return real_create(*args)

    monkeypatch.setattr(services, "payout_create", create_while_the_client_retries)
    first = post(payout_payload())

    [retry] = retries
    assert retry.status_code == 409
    assert retry.json() == api_error("idempotency_key_in_use", MSG_KEY_IN_USE)
    assert "safe to retry" in retry.json()["detail"]
    assert retry["Retry-After"] == "1"
    assert first.status_code == 201
    assert Payout.objects.count() == 1


def test_a_request_that_fails_mid_work_leaves_the_key_free_at_once(post, owner, monkeypatch):
    def die_after_writing(caller: Any, data: Any) -> Payout:
        Payout.objects.create(client=owner.client, max_attempts=1, **payout_payload())
        raise RuntimeError("the worker process dies here")

    monkeypatch.setattr(services, "payout_create", die_after_writing)
    answers_500 = APIClient(raise_request_exception=False)
    answers_500.credentials(HTTP_AUTHORIZATION=owner.authorization)

    failed = post(payout_payload(), client=answers_500)

    assert failed.status_code == 500
    assert not Payout.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_a_refused_first_request_is_stored_and_replayed(post):
    first = post(payout_payload(amount="-1"))

    retry = post(payout_payload(amount="-1"))

    assert first.status_code == retry.status_code == 400
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.json()["errors"][0]["field"] == "amount"


def test_a_corrected_request_under_a_refused_requests_key_is_422(post):
    post(payout_payload(amount="-1"))

    response = post(payout_payload(amount="1.00"))

    assert response.status_code == 422
    assert Payout.objects.count() == 0


def test_a_server_failure_is_not_stored_so_the_retry_runs(post, owner, monkeypatch, enqueued):
    real_create = services.payout_create

    def fail_once(*args: Any) -> Payout:
        monkeypatch.setattr(services, "payout_create", real_create)
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(services, "payout_create", fail_once)
    answers_500 = APIClient(raise_request_exception=False)
    answers_500.credentials(HTTP_AUTHORIZATION=owner.authorization)

    failed = post(payout_payload(), client=answers_500)
    retry = post(payout_payload())

    assert failed.status_code == 500
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert enqueued == [retry.json()["id"]]


def test_each_client_has_its_own_keys(post, stranger):
    theirs = APIClient()
    theirs.credentials(HTTP_AUTHORIZATION=stranger.authorization)

    mine = post(payout_payload())
    other = post(payout_payload(), client=theirs)

    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert other.json()["id"] != mine.json()["id"]
    assert Payout.objects.filter(client=stranger.client).count() == 1


def test_a_key_past_its_ttl_is_purged_then_accepted_as_new(post, settings):
    first = post(payout_payload())
    expire_keys(settings)

    assert purge_expired() == 1
    again = post(payout_payload())

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]


def test_a_key_past_its_ttl_is_new_even_before_the_purge_runs(post, settings):
    first = post(payout_payload(amount="10.00"))
    expire_keys(settings)

    again = post(payout_payload(amount="20.00"))

    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "caf\u00e9", "tab\there", "new\nline", "\x7f"],
    ids=["empty", "256 chars", "non-ASCII", "tab", "newline", "DEL"],
)
def test_a_malformed_key_is_400_and_creates_nothing(api_client, key):
    response = api_client.post(URL, payout_payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert response.json() == api_error("idempotency_key_invalid", MSG_KEY_INVALID)
    assert Payout.objects.count() == 0
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["a", "~" * 255, " spaced key ", "!#$%&'()*+,-./:;<=>?@[]^_`{|}"])
def test_any_printable_ascii_key_of_1_to_255_characters_is_accepted(post, key):
    assert post(payout_payload(), key=key).status_code == 201
    assert post(payout_payload(), key=key)["Idempotent-Replayed"] == "true"


def test_without_a_key_every_request_creates_a_payout(post):
    post(payout_payload(), key=None)
    post(payout_payload(), key=None)

    assert Payout.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


def test_a_staff_session_with_a_key_is_refused_as_without_one(admin_client):
    response = admin_client.post(
        URL, payout_payload(), content_type="application/json", headers={"Idempotency-Key": KEY}
    )

    assert response.status_code == 403
    assert response.json() == api_error("client_required", MSG_CLIENT_REQUIRED)
    assert not IdempotencyKey.objects.exists()


def test_other_methods_ignore_the_key(api_client, pending_payout):
    url = f"{URL}{pending_payout.id}/"
    headers = {"Idempotency-Key": KEY}

    first = api_client.patch(url, {"description": "a"}, format="json", headers=headers)
    second = api_client.patch(url, {"description": "b"}, format="json", headers=headers)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["description"] == "b"
    assert "Idempotent-Replayed" not in second
    assert not IdempotencyKey.objects.exists()


def test_openapi_documents_the_key_its_refusals_and_the_replay_header(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    create = schema["paths"]["/api/payouts/"]["post"]
    [key] = [parameter for parameter in create["parameters"] if parameter["in"] == "header"]
    responses = create["responses"]

    assert key["name"] == "Idempotency-Key"
    assert key["schema"]["pattern"] == "^[ -~]{1,255}$"
    assert "idempotency_key_in_use" in str(responses["409"]["content"])
    assert responses["409"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert "idempotency_key_mismatch" in str(responses["422"]["content"])
    for status in ("201", "400", "409"):
        assert responses[status]["headers"]["Idempotent-Replayed"]["schema"]["enum"] == ["true"]


def test_a_body_that_is_not_json_is_refused_before_the_key_is_claimed(api_client):
    response = api_client.generic(
        "POST", URL, "{not json", content_type="application/json", headers={"Idempotency-Key": KEY}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not IdempotencyKey.objects.exists()


def test_the_ttl_is_the_setting_not_a_fixed_day(post, settings):
    settings.PAYOUT_IDEMPOTENCY_TTL_HOURS = 1
    first = post(payout_payload(amount="10.00"))
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(minutes=30))
    within = post(payout_payload(amount="10.00"))
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=2))

    after = post(payout_payload(amount="20.00"))

    assert within["Idempotent-Replayed"] == "true"
    assert within.json()["id"] == first.json()["id"]
    assert after.status_code == 201
    assert "Idempotent-Replayed" not in after


def test_a_reference_in_use_refusal_is_kept_and_replayed_under_the_key(post):
    holder = post(payout_payload(reference="INV-1"), key="first-intent")
    body = payout_payload(reference="INV-1", amount="99.00")

    refused = post(body)
    replayed = post(body)

    assert refused.status_code == replayed.status_code == 409
    assert refused.json()["existing_payout_id"] == holder.json()["id"]
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.content == refused.content
