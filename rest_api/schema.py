"""OpenAPI post-processing: say in the document what the API enforces."""

from __future__ import annotations

from typing import Any


def forbid_unknown_request_fields(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Request bodies refuse fields they do not declare (400 naming them): document it."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
