"""Staff sessions: an operator logged into the admin reads and changes every client's payouts
through the browsable API, Swagger UI and GraphQL, with CSRF enforced on writes; creating a
payout needs a client, and a session of a user who is not staff counts for nothing."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from clients.authentication import MSG_NO_CREDENTIALS
from graphql_api.views import MSG_CSRF_FAILED
from payouts import services
from payouts.errors import MSG_CLIENT_REQUIRED
from payouts.models import Payout
from tests.conftest import api_error, payout_payload, post_graphql
from tests.graphql_api.conftest import assert_request_error, global_id

CREATE = """
mutation($data: PayoutCreateInput!) {
  createPayout(data: $data) { __typename ... on PayoutErrors { errors { field code message } } }
}
"""
UPDATE = """
mutation($id: ID!) {
  updatePayout(id: $id, data: {amount: "7.00"}) { __typename ... on Payout { amount } }
}
"""
NEW_PAYOUT = {"amount": "5.00", "currency": "EUR", "recipientDetails": {"account_number": "X1"}}


@pytest.fixture
def strangers_payout(stranger) -> Payout:
    return services.payout_create(stranger.caller, payout_payload(amount=Decimal("200.00")))


@pytest.fixture
def csrf_session(admin_user) -> Client:
    """A browser's session of a staff user: Django checks CSRF on its writes."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    return client


def csrf_token(client: Client) -> str:
    """The token a page gives the browser, as the admin sets it in the csrftoken cookie."""
    assert client.get("/admin/").status_code == 200
    return client.cookies["csrftoken"].value


def patch_with_token(client: Client, payout: Payout, token: str) -> None:
    """PATCH the payout's amount to 7.00 as a page holding `token` would, and check it was."""
    response = client.patch(
        f"/api/payouts/{payout.pk}/",
        {"amount": "7.00"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 200, response.content
    payout.refresh_from_db()
    assert payout.amount == Decimal("7.00")


def payout_rows() -> list[Any]:
    return list(Payout.objects.order_by("pk").values())


def test_staff_session_lists_every_clients_payouts_over_rest(
    admin_client, pending_payout, strangers_payout
):
    response = admin_client.get("/api/payouts/")

    assert response.status_code == 200
    body = response.json()
    assert {row["id"] for row in body["results"]} == {
        str(pending_payout.pk),
        str(strangers_payout.pk),
    }
    assert body["count"] == 2


def test_staff_session_reads_every_clients_payouts_over_graphql(
    admin_client, pending_payout, strangers_payout
):
    query = """
    query($id: ID!) {
      payout(id: $id) { payoutId }
      payouts { totalCount edges { node { payoutId } } }
    }
    """

    response = post_graphql(query, {"id": global_id(strangers_payout)}, client=admin_client)

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["payout"] == {"payoutId": str(strangers_payout.pk)}
    assert data["payouts"]["totalCount"] == 2
    assert {edge["node"]["payoutId"] for edge in data["payouts"]["edges"]} == {
        str(pending_payout.pk),
        str(strangers_payout.pk),
    }


def test_staff_session_patches_any_clients_pending_payout(admin_client, strangers_payout):
    response = admin_client.patch(
        f"/api/payouts/{strangers_payout.pk}/", {"amount": "7.00"}, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json()["amount"] == "7.00"
    strangers_payout.refresh_from_db()
    assert strangers_payout.amount == Decimal("7.00")


def test_staff_session_deletes_any_clients_pending_payout(admin_client, strangers_payout):
    response = admin_client.delete(f"/api/payouts/{strangers_payout.pk}/")

    assert response.status_code == 204
    strangers_payout.refresh_from_db()
    assert strangers_payout.deleted_at is not None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/payouts/", payout_payload()),
        ("PATCH", "/api/payouts/{pk}/", {"amount": "7.00"}),
        ("DELETE", "/api/payouts/{pk}/", None),
    ],
)
def test_staff_session_rest_write_without_csrf_token_is_refused(
    csrf_session, strangers_payout, method, path, body
):
    before = payout_rows()

    response = csrf_session.generic(
        method,
        path.format(pk=strangers_payout.pk),
        "" if body is None else json.dumps(body),
        content_type="application/json",
    )

    assert response.status_code == 403
    refusal = response.json()
    assert refusal["code"] == "permission_denied"
    assert refusal["detail"].startswith("CSRF Failed")
    assert payout_rows() == before


def test_staff_session_graphql_post_without_csrf_token_is_refused(csrf_session, strangers_payout):
    before = payout_rows()

    response = post_graphql(UPDATE, {"id": global_id(strangers_payout)}, client=csrf_session)

    message = MSG_CSRF_FAILED.format(reason="CSRF cookie not set")
    assert_request_error(response, 403, "PERMISSION_DENIED", message)
    assert payout_rows() == before


def test_staff_session_rest_write_with_csrf_token_is_done(csrf_session, strangers_payout):
    patch_with_token(csrf_session, strangers_payout, csrf_token(csrf_session))


def test_staff_session_graphql_post_with_csrf_token_is_done(csrf_session, strangers_payout):
    token = csrf_token(csrf_session)

    response = post_graphql(
        UPDATE,
        {"id": global_id(strangers_payout)},
        client=csrf_session,
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"updatePayout": {"__typename": "Payout", "amount": "7.00"}}}
    strangers_payout.refresh_from_db()
    assert strangers_payout.amount == Decimal("7.00")


def test_staff_session_cannot_create_a_payout_over_rest(admin_client, db):
    response = admin_client.post("/api/payouts/", payout_payload(), content_type="application/json")

    assert response.status_code == 403
    assert response.json() == api_error("client_required", MSG_CLIENT_REQUIRED)
    assert not Payout.objects.exists()


def test_staff_session_cannot_create_a_payout_over_graphql(admin_client, db):
    response = post_graphql(CREATE, {"data": NEW_PAYOUT}, client=admin_client)

    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "createPayout": {
                "__typename": "PayoutErrors",
                "errors": [
                    {"field": None, "code": "CLIENT_REQUIRED", "message": MSG_CLIENT_REQUIRED}
                ],
            }
        }
    }
    assert not Payout.objects.exists()


@pytest.fixture
def non_staff_session(django_user_model) -> Client:
    user = django_user_model.objects.create_user("clerk", password="x", is_staff=False)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_a_write_from_a_session_of_a_user_who_is_not_staff_is_401_not_a_csrf_403(
    non_staff_session, pending_payout
):
    response = non_staff_session.patch(
        f"/api/payouts/{pending_payout.pk}/", {"amount": "1.00"}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json() == api_error("not_authenticated", MSG_NO_CREDENTIALS)


def test_a_session_of_a_user_who_is_not_staff_is_401_on_rest(non_staff_session, pending_payout):
    response = non_staff_session.get("/api/payouts/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == api_error("not_authenticated", MSG_NO_CREDENTIALS)


def test_a_session_of_a_user_who_is_not_staff_is_401_on_graphql(non_staff_session, pending_payout):
    response = post_graphql("{ payouts { totalCount } }", client=non_staff_session)

    assert_request_error(response, 401, "NOT_AUTHENTICATED", MSG_NO_CREDENTIALS)
    assert response["WWW-Authenticate"] == "Bearer"


def test_browsable_api_renders_every_clients_payouts_for_staff(
    admin_client, pending_payout, strangers_payout
):
    response = admin_client.get("/api/payouts/", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert str(pending_payout.pk).encode() in response.content
    assert str(strangers_payout.pk).encode() in response.content


def test_swagger_ui_gives_a_staff_session_the_csrf_token_its_writes_need(
    csrf_session, strangers_payout
):
    # The page's start-up script, served from the page's own URL.
    page = csrf_session.get("/api/docs/?script=")
    assert page.status_code == 200
    [token] = re.findall(r'"X-CSRFTOKEN"\] = "([^"]+)"', page.content.decode())

    patch_with_token(csrf_session, strangers_payout, token)
