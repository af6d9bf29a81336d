"""/graphql/ as served: CSRF-free POSTs with a key, GraphiQL behind its setting, introspection
allowed."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from django.test import Client
from graphql import DocumentNode, get_introspection_query, validate

from payouts.errors import MSG_SERVER_ERROR


def test_post_with_a_key_and_without_csrf_token_is_answered(owner):
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/graphql/",
        {"query": "{ __typename }"},
        content_type="application/json",
        headers=owner.headers,
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


def test_graphiql_is_served_to_browsers_when_enabled(client, settings):
    settings.GRAPHQL_GRAPHIQL = True

    response = client.get("/graphql/", headers={"accept": "text/html"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"graphiql" in response.content.lower()


def test_graphiql_is_not_found_when_disabled(client, settings):
    settings.GRAPHQL_GRAPHIQL = False

    response = client.get("/graphql/", headers={"accept": "text/html"})

    assert response.status_code == 404
    assert b"graphiql" not in response.content.lower()


@pytest.mark.parametrize(("enabled", "status"), [(True, 200), (False, 404)])
def test_graphiqls_page_needs_no_key(db, settings, enabled, status):
    settings.GRAPHQL_GRAPHIQL = enabled

    response = Client().get("/graphql/", headers={"accept": "text/html"})

    assert response.status_code == status


def test_graphiql_introspection_query_passes_the_guards(graphql):
    body = graphql(get_introspection_query(descriptions=True))

    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_a_repeated_document_is_validated_only_once(graphql, monkeypatch):
    validations: list[DocumentNode] = []

    def counting_validate(schema: Any, document: DocumentNode, *args: Any, **kwargs: Any) -> Any:
        validations.append(document)
        return validate(schema, document, *args, **kwargs)

    monkeypatch.setattr("strawberry.schema.schema.validate", counting_validate)
    # A name no other test uses, so no earlier test has put this document in the cache.
    query = f"query Repeated{uuid.uuid4().hex} {{ payouts(first: 1) {{ totalCount }} }}"

    for _ in range(3):
        assert graphql(query) == {"data": {"payouts": {"totalCount": 0}}}

    assert len(validations) == 1


@pytest.mark.parametrize(
    "query",
    [
        "{ payouts(",  # a syntax error
        "{ payouts(first: 101) { totalCount } }",  # an argument a resolver refuses
        '{ payouts(filters: {amount: {gt: "NaN"}}) { totalCount } }',  # a failed conversion
    ],
)
def test_a_clients_mistake_is_logged_in_one_line_without_a_traceback(graphql, caplog, query):
    with caplog.at_level(logging.INFO):
        body = graphql(query)

    assert body["errors"]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [
        record.getMessage() for record in caplog.records if record.name == "graphql_api.errors"
    ] == [f"GraphQL request refused: {error['message']}" for error in body["errors"]]


def test_a_server_error_is_still_logged_with_its_traceback(graphql, caplog, monkeypatch):
    def broken_list(caller) -> None:
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr("graphql_api.queries.selectors.payout_list", broken_list)

    body = graphql("{ payouts(first: 1) { totalCount } }")

    assert body["errors"][0]["message"] == MSG_SERVER_ERROR
    assert body["errors"][0]["extensions"] == {"code": "SERVER_ERROR"}
    logged = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [record.name for record in logged] == ["strawberry.execution"]
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], RuntimeError)
