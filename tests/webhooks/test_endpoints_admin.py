"""The admin lists, adds and edits endpoints through the same rules as the API; a new secret is
shown once, in a message, and never otherwise."""

from __future__ import annotations

import re

from tests.webhooks.conftest import RECEIVER, RECEIVER_URL
from webhooks import errors
from webhooks.models import WebhookEndpoint

CHANGELIST = "/admin/webhooks/webhookendpoint/"
ADD = f"{CHANGELIST}add/"


def change_page(endpoint: WebhookEndpoint) -> str:
    return f"{CHANGELIST}{endpoint.pk}/change/"


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def shown_secret(response) -> str:
    [message] = [m for m in shown_messages(response) if "signing secret" in m]
    match = re.search(r"(whsec_\S+)", message)
    assert match is not None, message
    return match[1]


def test_the_changelist_shows_client_url_and_state(admin_client, endpoint):
    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert response.context["cl"].list_display == [
        "action_checkbox",
        "url",
        "client",
        "enabled",
        "disabled_at",
        "created_at",
    ]
    assert RECEIVER_URL in response.content.decode()


def test_the_changelist_searches_by_url_and_by_client(admin_client, make_endpoint, stranger):
    ours, _ = make_endpoint(url=f"https://{RECEIVER}/ours")
    theirs, _ = make_endpoint(holder=stranger, url=f"https://{RECEIVER}/theirs")

    by_url = admin_client.get(CHANGELIST, {"q": "/ours"}).context["cl"].result_list
    by_client = admin_client.get(CHANGELIST, {"q": "globex"}).context["cl"].result_list

    assert list(by_url) == [ours]
    assert list(by_client) == [theirs]


def test_the_changelist_filters_by_enabled(admin_client, make_endpoint):
    make_endpoint()
    disabled, _ = make_endpoint(enabled=False)

    response = admin_client.get(CHANGELIST, {"enabled__exact": "0"})

    assert list(response.context["cl"].result_list) == [disabled]


def test_adding_an_endpoint_shows_its_secret_once(admin_client, owner):
    response = admin_client.post(
        ADD,
        {"client": owner.client.pk, "url": RECEIVER_URL, "description": "", "enabled": "on"},
        follow=True,
    )

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.client == owner.client
    assert shown_secret(response) == endpoint.secret
    assert endpoint.secret not in admin_client.get(change_page(endpoint)).content.decode()
    assert endpoint.secret not in admin_client.get(CHANGELIST).content.decode()


def test_adding_an_endpoint_with_a_private_url_is_refused_on_the_form(admin_client, owner):
    response = admin_client.post(
        ADD, {"client": owner.client.pk, "url": "https://127.0.0.1/", "description": ""}
    )

    assert response.status_code == 200
    form_errors = response.context["adminform"].form.errors
    assert form_errors["url"] == [errors.MSG_URL_PRIVATE_ADDRESS.format(host="127.0.0.1")]
    assert not WebhookEndpoint.objects.exists()


def test_editing_an_endpoint_goes_through_the_domain_rules(admin_client, endpoint):
    response = admin_client.post(
        change_page(endpoint),
        {"url": "http://hooks.example.com/", "description": "", "enabled": "on"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == [errors.MSG_URL_NOT_HTTPS]
    endpoint.refresh_from_db()
    assert endpoint.url == RECEIVER_URL


def test_editing_an_endpoint_saves_it(admin_client, endpoint):
    response = admin_client.post(
        change_page(endpoint),
        {
            "url": RECEIVER_URL,
            "description": "Ledger",
            "event_types": ["payout.failed", "payout.completed"],
        },
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.enabled) == ("Ledger", False)
    assert endpoint.event_types == ["payout.completed", "payout.failed"]


def test_an_endpoint_whose_host_no_longer_resolves_can_be_disabled(admin_client, endpoint, dns):
    del dns[RECEIVER]  # the domain lapsed

    response = admin_client.post(
        change_page(endpoint),
        {"url": RECEIVER_URL, "description": "", "event_types": []},
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.enabled is False


def test_changing_the_url_in_the_admin_checks_the_new_one(admin_client, endpoint, dns):
    dns["intranet.example"] = ["10.0.0.7"]

    response = admin_client.post(
        change_page(endpoint),
        {"url": "https://intranet.example/hook", "description": "", "enabled": "on"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == [
        errors.MSG_URL_PRIVATE_ADDRESS.format(host="intranet.example")
    ]


def test_the_rotate_action_shows_each_new_secret_once(admin_client, make_endpoint):
    endpoint, old = make_endpoint()

    response = admin_client.post(
        CHANGELIST,
        {"action": "rotate_secret", "_selected_action": [str(endpoint.pk)]},
        follow=True,
    )

    endpoint.refresh_from_db()
    assert shown_secret(response) == endpoint.secret
    assert [entry["secret"] for entry in endpoint.previous_secrets] == [old]
    assert endpoint.secret != old


def test_the_change_page_shows_when_earlier_secrets_expire_never_the_secrets(
    admin_client, make_endpoint
):
    endpoint, old = make_endpoint()
    # Followed, so the message showing the new secret once is shown there, not on the next page.
    admin_client.post(
        CHANGELIST, {"action": "rotate_secret", "_selected_action": [endpoint.pk]}, follow=True
    )

    response = admin_client.get(change_page(endpoint))

    page = response.content.decode()
    assert "Earlier secrets still signing, until" in page
    endpoint.refresh_from_db()
    assert old not in page
    assert endpoint.secret not in page


def test_deleting_an_endpoint_in_the_admin_removes_it(admin_client, endpoint):
    response = admin_client.post(f"{CHANGELIST}{endpoint.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()
