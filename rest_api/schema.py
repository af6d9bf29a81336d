"""OpenAPI post-processing: say in the document what the API enforces."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any


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


_RESPONSE_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with: `Bearer`.",
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds until the client's rate limit lets requests through again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def document_response_headers(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The headers a 401 and a 429 carry, which drf-spectacular's responses cannot declare."""
    for operation in _operations(result):
        for status, headers in _RESPONSE_HEADERS.items():
            if status in operation.get("responses", {}):
                operation["responses"][status]["headers"] = headers
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
