"""Request and response shapes for /api/payouts/; business rules stay in payouts.validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from payouts.models import Currency, Payout, PayoutStatus
from payouts.validation import DESCRIPTION_MAX_LENGTH

MSG_UNKNOWN_FIELD = "Unknown field."
MSG_READ_ONLY_FIELD = "This field is read-only."

RECIPIENT_DETAILS_SCHEMA = {
    "type": "object",
    "properties": {"account_number": {"type": "string", "minLength": 1}},
    "required": ["account_number"],
    "additionalProperties": True,
    "example": {"account_number": "DE89370400440532013000", "bank_name": "Deutsche Bank"},
}


@extend_schema_field({"type": "string", "format": "decimal", "example": "250.00"})
class AmountField(serializers.Field[Any, Any, Any, Any]):
    """Passes the raw amount to the domain, which owns every amount rule."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> str:
        return f"{value:.2f}"


@extend_schema_field(serializers.ChoiceField(choices=Currency.choices))
class CurrencyField(serializers.Field[Any, Any, Any, Any]):
    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> str:
        return str(value)


@extend_schema_field(RECIPIENT_DETAILS_SCHEMA)
class RecipientDetailsField(serializers.Field[Any, Any, Any, Any]):
    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field({"type": "string", "maxLength": DESCRIPTION_MAX_LENGTH})
class DescriptionField(serializers.Field[Any, Any, Any, Any]):
    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> str:
        return str(value)


class StrictInputSerializer(serializers.Serializer[Any]):
    """Refuses fields it does not know, so a typo is a 400 rather than a silent no-op."""

    read_only_field_names: tuple[str, ...] = (
        "id",
        "status",
        "failure_reason",
        "created_at",
        "updated_at",
    )

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors: dict[str, list[str]] = {}
            for name in data:
                if name in self.fields:
                    continue
                message = (
                    MSG_READ_ONLY_FIELD if name in self.read_only_field_names else MSG_UNKNOWN_FIELD
                )
                errors[str(name)] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class PayoutCreateSerializer(StrictInputSerializer):
    """A new payout; unknown and read-only fields are refused by name."""

    amount = AmountField(help_text="Decimal string, greater than 0, at most 2 decimal places.")
    currency = CurrencyField()
    recipient_details = RecipientDetailsField(
        help_text="JSON object; must hold a non-empty string account_number."
    )
    description = DescriptionField(required=False, help_text="Free-form text.")


class PayoutUpdateSerializer(PayoutCreateSerializer):
    """The same fields as create, all optional (PATCH)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


# Declared field by field rather than as a ModelSerializer, which introspects the model again
# for every instance it builds: every create and update answers with one.
class PayoutSerializer(serializers.Serializer[Payout]):
    """A payout as the API returns it."""

    id = serializers.UUIDField(read_only=True)
    amount = AmountField(read_only=True)
    currency = serializers.ChoiceField(choices=Currency.choices, read_only=True)
    recipient_details = RecipientDetailsField(read_only=True)
    status = serializers.ChoiceField(choices=PayoutStatus.choices, read_only=True)
    description = serializers.CharField(read_only=True)
    failure_reason = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
