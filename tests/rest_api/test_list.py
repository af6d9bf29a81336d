"""GET /api/payouts/: order, pagination, filters and their errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from payouts.models import Payout, PayoutStatus
from tests.conftest import field_errors

URL = "/api/payouts/"


def ids(response) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def three_payouts(make_payout):
    """Three payouts an hour apart: USD 10 PENDING, EUR 500 COMPLETED, newest GBP 90 FAILED."""
    now = timezone.now()
    specs = [
        (3, "10.00", "USD", PayoutStatus.PENDING),
        (2, "500.00", "EUR", PayoutStatus.COMPLETED),
        (1, "90.00", "GBP", PayoutStatus.FAILED),
    ]
    payouts = []
    for hours_ago, amount, currency, status in specs:
        payout = make_payout(status=status, amount=amount, currency=currency)
        Payout.objects.filter(pk=payout.pk).update(created_at=now - timedelta(hours=hours_ago))
        payouts.append(Payout.objects.get(pk=payout.pk))
    return payouts


def test_list_is_newest_first_with_page_envelope(api_client, three_payouts):
    oldest, middle, newest = three_payouts

    response = api_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["next"] is None
    assert body["previous"] is None
    assert ids(response) == [str(newest.id), str(middle.id), str(oldest.id)]


def test_list_breaks_created_at_ties_by_id(api_client, make_payout):
    payouts = [make_payout() for _ in range(4)]
    same_moment = timezone.now()
    Payout.objects.update(created_at=same_moment)

    response = api_client.get(URL)

    assert ids(response) == sorted((str(p.id) for p in payouts), reverse=True)


def test_list_pages_hold_twenty_by_default(api_client, make_payout):
    for _ in range(21):
        make_payout()

    first = api_client.get(URL).json()
    second = api_client.get(first["next"]).json()

    assert len(first["results"]) == 20
    assert len(second["results"]) == 1
    assert second["previous"] is not None
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_list_page_size_of_one_hundred_is_the_largest_page(api_client, make_payout):
    for _ in range(101):
        make_payout()

    response = api_client.get(URL, {"page_size": 100})

    assert len(response.json()["results"]) == 100
    assert response.json()["next"] is not None


@pytest.mark.parametrize("page_size", ["101", "500"])
def test_list_page_size_above_one_hundred_is_400(api_client, db, page_size):
    response = api_client.get(URL, {"page_size": page_size})

    assert response.status_code == 400
    assert field_errors(response) == {"page_size": ["Must be at most 100."]}


def test_list_page_size_chooses_the_page_length(api_client, three_payouts):
    response = api_client.get(URL, {"page_size": 2})

    assert len(response.json()["results"]) == 2
    assert response.json()["next"] is not None


@pytest.mark.parametrize(
    ("param", "value"), [("page", "abc"), ("page", "0"), ("page_size", "-1"), ("page_size", "x")]
)
def test_list_with_malformed_pagination_is_400(api_client, db, param, value):
    response = api_client.get(URL, {param: value})

    assert response.status_code == 400
    assert field_errors(response) == {param: ["Must be a positive integer."]}


def test_list_page_past_the_end_is_404(api_client, three_payouts):
    response = api_client.get(URL, {"page": 2})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "COMPLETED"}, [1]),
        ({"currency": "GBP"}, [2]),
        ({"min_amount": "90"}, [2, 1]),
        ({"max_amount": "90.00"}, [2, 0]),
        ({"min_amount": "50", "max_amount": "100"}, [2]),
        ({"status": "PENDING", "currency": "USD"}, [0]),
        ({"status": "PENDING", "currency": "EUR"}, []),
    ],
)
def test_list_filters_by_status_currency_and_amount(api_client, three_payouts, params, expected):
    response = api_client.get(URL, params)

    assert response.status_code == 200
    assert ids(response) == [str(three_payouts[i].id) for i in expected]


def test_list_filters_by_created_range(api_client, three_payouts):
    middle = three_payouts[1]
    after = (middle.created_at - timedelta(minutes=1)).isoformat()
    before = (middle.created_at + timedelta(minutes=1)).isoformat()

    response = api_client.get(URL, {"created_after": after, "created_before": before})

    assert ids(response) == [str(middle.id)]


def test_list_created_after_accepts_a_zulu_timestamp(api_client, three_payouts):
    newest = three_payouts[2]
    after = (newest.created_at - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    response = api_client.get(URL, {"created_after": after})

    assert ids(response) == [str(newest.id)]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("amount", [0, 2, 1]),
        ("-amount", [1, 2, 0]),
        ("created_at", [0, 1, 2]),
        ("-created_at", [2, 1, 0]),
    ],
)
def test_list_ordering(api_client, three_payouts, ordering, expected):
    response = api_client.get(URL, {"ordering": ordering})

    assert ids(response) == [str(three_payouts[i].id) for i in expected]


def test_list_ordering_by_amount_breaks_ties_newest_first(api_client, make_payout):
    first = make_payout(amount="5.00")
    second = make_payout(amount="5.00")
    Payout.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=1))

    response = api_client.get(URL, {"ordering": "amount"})

    assert ids(response) == [str(second.id), str(first.id)]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "DONE"),
        ("status", "pending"),
        ("currency", "JPY"),
        ("min_amount", "abc"),
        ("max_amount", "NaN"),
        ("min_amount", "1e20"),
        ("max_amount", "0.001"),
        ("created_after", "yesterday"),
        ("created_before", "2025-13-45"),
        ("ordering", "status"),
    ],
)
def test_list_with_invalid_filter_value_is_400_naming_it(api_client, db, param, value):
    response = api_client.get(URL, {param: value})

    assert response.status_code == 400
    messages = field_errors(response)
    assert list(messages) == [param]
    assert messages[param][0]
