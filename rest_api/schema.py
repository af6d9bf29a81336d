"""OpenAPI post-processing: say in the document what the API enforces."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from payouts.selectors import PAYOUT_PAGE_MAX
from rest_api.filters import MSG_AMOUNT_BOUND_INVALID, MSG_REPEATED_PARAMETER
from rest_api.pagination import MSG_PAGE_SIZE_TOO_LARGE

LIST_OPERATION_ID = "payouts_list"
# Each example's summary is the request that gets exactly its value (a test replays them).
LIST_QUERY_ERROR_EXAMPLES: dict[str, dict[str, Any]] = {
    "UnknownStatus": {
        "summary": "/api/payouts/?status=PENDING,DONE",
        "value": {"status": ["Select a valid choice. DONE is not one of the available choices."]},
    },
    "MalformedAmount": {
        "summary": "/api/payouts/?min_amount=10_000",
        "value": {"min_amount": [MSG_AMOUNT_BOUND_INVALID]},
    },
    "RepeatedParameter": {
        "summary": "/api/payouts/?max_amount=10&max_amount=20",
        "value": {"max_amount": [MSG_REPEATED_PARAMETER.format(name="max_amount", count=2)]},
    },
    "PageTooLarge": {
        "summary": f"/api/payouts/?page_size={PAYOUT_PAGE_MAX + 1}",
        "value": {"page_size": [MSG_PAGE_SIZE_TOO_LARGE]},
    },
}


def _operations(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path_item in result.get("paths", {}).values():
        yield from (operation for operation in path_item.values() if isinstance(operation, dict))


def forbid_unknown_request_fields(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Request bodies refuse fields they do not declare (400 naming them): document it."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


def describe_query_parameters(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every query parameter sent empty (`?status=`) counts as not sent, and every list-valued
    one is read from repeats (`?ordering=amount&ordering=-created_at`) as well as from commas:
    document repeats, the form generated clients send."""
    for operation in _operations(result):
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            parameter["allowEmptyValue"] = True
            if parameter["schema"].get("type") == "array":
                parameter["style"] = "form"
                parameter["explode"] = True
    return result


def document_list_query_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The list's 400 answers its query parameters, never a body: show what it really says."""
    for operation in _operations(result):
        if operation.get("operationId") != LIST_OPERATION_ID:
            continue
        operation["responses"]["400"] = {
            "description": (
                "A query parameter is malformed, out of range, or given more than once although "
                "it takes one value: an object mapping each such parameter to its messages."
            ),
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                    "examples": LIST_QUERY_ERROR_EXAMPLES,
                }
            },
        }
    return result


def enum_value_name(value: str) -> str:
    """A constant name for an enum value: `PENDING` stays, `-created_at` is CREATED_AT_DESC."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", value.removeprefix("-")).strip("_").upper() or "BLANK"
    return f"{name}_DESC" if value.startswith("-") else name


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for key, child in node.items():
            if key not in ("example", "examples"):
                yield from _schemas(child)
    elif isinstance(node, list):
        for child in node:
            yield from _schemas(child)


def name_enum_values(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Name every value of every string enum (x-enum-varnames), so that generated clients say
    `AMOUNT_DESC` where they would otherwise say `VALUE_0`."""
    for schema in _schemas(result):
        values = schema.get("enum")
        if isinstance(values, list) and all(isinstance(value, str) for value in values):
            schema["x-enum-varnames"] = [enum_value_name(value) for value in values]
    return result
