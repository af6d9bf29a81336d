"""GET /api/payouts/ query parameters: lists, repeats, empty values and amount bounds."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from payouts import errors
from rest_api.filters import (
    MSG_EMPTY_CHOICE,
    MSG_EMPTY_SORT_KEY,
    MSG_REPEATED_PARAMETER,
)
from rest_api.pagination import MSG_INVALID_PAGE, MSG_PAGE_SIZE_TOO_LARGE
from tests.conftest import api_error, field_codes, field_errors
from tests.rest_api.conftest import names

URL = "/api/payouts/"
COMMITTED_SCHEMA = Path(__file__).resolve().parents[2] / "openapi.yaml"
DOCUMENTED_PARAMETERS = yaml.safe_load(COMMITTED_SCHEMA.read_text())["paths"][URL]["get"][
    "parameters"
]


@pytest.mark.parametrize(
    "query",
    ["status=PENDING&status=FAILED", "status=PENDING,FAILED", "status=FAILED,PENDING"],
)
def test_several_statuses_list_payouts_in_any_of_them(api_client, sortable_payouts, query):
    response = api_client.get(f"{URL}?{query}&ordering=created_at")

    assert response.status_code == 200
    assert names(response, sortable_payouts) == ["a", "b", "c", "e"]


@pytest.mark.parametrize("query", ["currency=USD&currency=GBP", "currency=USD,GBP"])
def test_several_currencies_list_payouts_in_any_of_them(api_client, sortable_payouts, query):
    response = api_client.get(f"{URL}?{query}&ordering=created_at")

    assert response.status_code == 200
    assert names(response, sortable_payouts) == ["a", "d", "e"]


@pytest.mark.parametrize(
    "query",
    [
        "ordering=-amount&ordering=created_at",
        "ordering=-amount,created_at",
        "ordering=-amount,created_at&ordering=amount",
    ],
)
def test_sort_keys_apply_in_the_order_given(api_client, sortable_payouts, query):
    response = api_client.get(f"{URL}?{query}")

    assert response.status_code == 200
    assert names(response, sortable_payouts) == ["c", "d", "e", "a", "b"]


def test_sort_keys_in_the_other_order_sort_otherwise(api_client, sortable_payouts):
    response = api_client.get(f"{URL}?ordering=created_at&ordering=-amount")

    assert names(response, sortable_payouts) == ["a", "b", "c", "d", "e"]


def test_several_statuses_combine_with_several_sort_keys(api_client, sortable_payouts):
    response = api_client.get(
        URL, {"status": ["PENDING", "FAILED"], "ordering": ["-amount", "created_at"]}
    )

    assert names(response, sortable_payouts) == ["c", "e", "a", "b"]


def test_next_link_keeps_repeated_parameters_in_their_order(api_client, sortable_payouts):
    query = {"status": ["PENDING", "FAILED"], "ordering": ["-amount", "created_at"]}
    first = api_client.get(URL, {**query, "page_size": 2}).json()

    following = api_client.get(first["next"])

    assert parse_qs(urlsplit(first["next"]).query)["ordering"] == ["-amount", "created_at"]
    assert names(following, sortable_payouts) == ["a", "b"]


@pytest.mark.parametrize(
    ("query", "param", "message"),
    [
        ("status=PENDING,,FAILED", "status", MSG_EMPTY_CHOICE),
        ("status=PENDING&status=", "status", MSG_EMPTY_CHOICE),
        ("currency=EUR,", "currency", MSG_EMPTY_CHOICE),
        ("ordering=amount&ordering=", "ordering", MSG_EMPTY_SORT_KEY),
    ],
)
def test_an_empty_value_among_several_is_400(api_client, sortable_payouts, query, param, message):
    response = api_client.get(f"{URL}?{query}")

    assert response.status_code == 400
    assert field_errors(response) == {param: [message]}


def test_an_unknown_value_among_several_statuses_is_400_naming_it(api_client, sortable_payouts):
    response = api_client.get(f"{URL}?status=PENDING&status=DONE")

    assert response.status_code == 400
    assert field_errors(response) == {
        "status": ["Select a valid choice. DONE is not one of the available choices."]
    }


@pytest.mark.parametrize(
    ("param", "values"),
    [
        ("min_amount", ["10", "20"]),
        ("max_amount", ["10", "10"]),
        ("created_after", ["2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"]),
        ("created_before", ["2025-01-01T00:00:00Z", "yesterday"]),
        ("page", ["1", "2"]),
        ("page_size", ["10", "20", "30"]),
        ("reference", ["INV-1", "INV-2"]),
    ],
)
def test_a_single_valued_parameter_given_twice_is_400_naming_it(
    api_client, sortable_payouts, param, values
):
    response = api_client.get(URL, {param: values})

    assert response.status_code == 400
    assert field_errors(response) == {
        param: [MSG_REPEATED_PARAMETER.format(name=param, count=len(values))]
    }
    assert field_codes(response) == {param: ["repeated_parameter"]}


# Python's int() refuses text of more than 4,300 digits: these are longer.
TOO_LONG_FOR_INT = ["9" * 5_000, "1" + "0" * 4_999]


@pytest.mark.parametrize("page", TOO_LONG_FOR_INT, ids=["nines", "power-of-ten"])
def test_a_page_number_too_long_for_int_is_past_the_last_page(api_client, sortable_payouts, page):
    response = api_client.get(URL, {"page": page})

    assert response.status_code == 404
    assert response.json() == api_error("not_found", MSG_INVALID_PAGE)


@pytest.mark.parametrize("page_size", TOO_LONG_FOR_INT, ids=["nines", "power-of-ten"])
def test_a_page_size_too_long_for_int_is_400_too_large(api_client, sortable_payouts, page_size):
    response = api_client.get(URL, {"page_size": page_size})

    assert response.status_code == 400
    assert field_errors(response) == {"page_size": [MSG_PAGE_SIZE_TOO_LARGE]}
    assert field_codes(response) == {"page_size": ["invalid"]}


def test_leading_zeros_do_not_make_a_page_number_too_long(api_client, sortable_payouts):
    response = api_client.get(URL, {"page": "0" * 5_000 + "2", "page_size": "0" * 5_000 + "2"})

    assert response.status_code == 200
    assert names(response, sortable_payouts) == ["c", "b"]


@pytest.mark.parametrize(
    "param", [p["name"] for p in DOCUMENTED_PARAMETERS if p.get("allowEmptyValue")]
)
def test_an_empty_parameter_counts_as_not_given(api_client, sortable_payouts, param):
    response = api_client.get(f"{URL}?{param}=")

    assert response.status_code == 200
    assert names(response, sortable_payouts) == ["e", "d", "c", "b", "a"]


@pytest.mark.parametrize(
    ("bound", "expected"),
    [("50", ["e", "d", "c"]), ("10.5", ["e", "d", "c"]), ("0010.00", ["e", "d", "c", "b", "a"])],
)
def test_canonical_amount_text_bounds_the_list(api_client, sortable_payouts, bound, expected):
    response = api_client.get(URL, {"min_amount": bound})

    assert response.status_code == 200
    assert names(response, sortable_payouts) == expected


def test_an_amount_bound_above_any_payout_matches_none(api_client, sortable_payouts):
    response = api_client.get(URL, {"min_amount": "9" * 10 + ".99"})

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("bound", "code", "message"),
    [
        ("10_000", "invalid", errors.MSG_AMOUNT_INVALID),
        ("+10", "invalid", errors.MSG_AMOUNT_INVALID),
        ("-10", "min_value", errors.MSG_AMOUNT_NOT_POSITIVE),
        (" 10", "invalid", errors.MSG_AMOUNT_INVALID),
        ("10 ", "invalid", errors.MSG_AMOUNT_INVALID),
        ("10\n", "invalid", errors.MSG_AMOUNT_INVALID),
        ("\u0661\u0660", "invalid", errors.MSG_AMOUNT_INVALID),  # Arabic-Indic digits
        ("\uff11\uff10", "invalid", errors.MSG_AMOUNT_INVALID),  # full-width digits
        ("1e3", "invalid", errors.MSG_AMOUNT_INVALID),
        ("10.", "invalid", errors.MSG_AMOUNT_INVALID),
        (".5", "invalid", errors.MSG_AMOUNT_INVALID),
        ("10.123", "max_decimal_places", errors.MSG_AMOUNT_TOO_MANY_DECIMALS),
        ("1" * 30, "max_digits", errors.MSG_AMOUNT_TOO_MANY_DIGITS),
        ("10,5", "invalid", errors.MSG_AMOUNT_INVALID),
        ("NaN", "not_finite", errors.MSG_AMOUNT_NOT_FINITE),
        ("Infinity", "not_finite", errors.MSG_AMOUNT_NOT_FINITE),
    ],
)
@pytest.mark.parametrize("param", ["min_amount", "max_amount"])
def test_an_amount_bound_that_is_not_canonical_text_is_400(
    api_client, db, param, bound, code, message
):
    response = api_client.get(URL, {param: bound})

    assert response.status_code == 400
    assert field_errors(response) == {param: [message]}
    assert field_codes(response) == {param: [code]}
