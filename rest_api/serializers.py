"""Request and response shapes of /api/payouts/.

The request serializers only describe the body in the OpenAPI document: the view hands the
parsed body to the payouts services, which read and validate every field (payouts.validation),
so REST decides nothing on its own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from payouts.documents import payout_document
from payouts.models import (
    DESCRIPTION_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    Currency,
    Payout,
    PayoutStatus,
)
from payouts.validation import REFERENCE_PATTERN, payable_amount_pattern
from payouts.validators import (
    METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX_LENGTH,
    NOT_BLANK_PATTERN,
)

RECIPIENT_DETAILS_SCHEMA = {
    "type": "object",
    "properties": {"account_number": {"type": "string", "pattern": NOT_BLANK_PATTERN}},
    "required": ["account_number"],
    "additionalProperties": True,
    "example": {"account_number": "DE89370400440532013000", "bank_name": "Deutsche Bank"},
}
# OpenAPI 3.0 has no propertyNames, so the bound on keys is in the description.
METADATA_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "string", "maxLength": METADATA_VALUE_MAX_LENGTH},
    "maxProperties": METADATA_MAX_KEYS,
    "example": {"order_id": "A-1042", "team": "payroll"},
}
METADATA_HELP = (
    f"Your own keys and values, returned as sent and never used by processing: a JSON object "
    f"of at most {METADATA_MAX_KEYS} keys, each 1 to {METADATA_KEY_MAX_LENGTH} characters, "
    f"whose values are strings of at most {METADATA_VALUE_MAX_LENGTH} characters (numbers, "
    "booleans, null, objects and arrays are refused)."
)
# The whole amount rule, PAYOUT_MAX_AMOUNT included. Exact JSON numbers are taken too, but the
# document offers one form.
AMOUNT_SCHEMA = {
    "type": "string",
    "pattern": payable_amount_pattern(settings.PAYOUT_MAX_AMOUNT),
    "example": "250.00",
}


@extend_schema_field(AMOUNT_SCHEMA)
class AmountField(serializers.Field[Any, Any, Any, Any]):
    def to_representation(self, value: Any) -> str:
        return f"{value:.2f}"


@extend_schema_field(RECIPIENT_DETAILS_SCHEMA)
class RecipientDetailsField(serializers.JSONField):
    pass


@extend_schema_field(METADATA_SCHEMA)
class MetadataField(serializers.JSONField):
    pass


class PayoutEditableSerializer(serializers.Serializer[Any]):
    """The fields of a payout a client may set when creating it and change while it is PENDING."""

    amount = AmountField(
        help_text=(
            'Decimal string in the form "250", "250.5" or "250.50": ASCII digits, at most 2 '
            "decimal places, greater than 0 and at most PAYOUT_MAX_AMOUNT (the pattern says "
            "which). An exact JSON number (250.5) is read the same way."
        )
    )
    currency = serializers.ChoiceField(choices=Currency.choices)
    recipient_details = RecipientDetailsField(
        help_text="JSON object; must hold a string account_number that is not blank."
    )
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        # No NUL: PostgreSQL's text cannot hold it.
        validators=[RegexValidator(r"^[^\u0000]*$")],
        max_length=DESCRIPTION_MAX_LENGTH,
        help_text="Free-form text; omit it for none (null is refused).",
    )
    metadata = MetadataField(
        required=False, help_text=f"{METADATA_HELP} Sent on an update, it replaces the whole map."
    )


class PayoutCreateSerializer(PayoutEditableSerializer):
    """A new payout. Unknown and read-only fields are refused by name."""

    reference = serializers.CharField(
        required=False,
        min_length=1,
        max_length=REFERENCE_MAX_LENGTH,
        validators=[RegexValidator(REFERENCE_PATTERN)],
        help_text=(
            "Your own id for this payout, unique among your payouts: a create with a reference "
            "one of them holds is refused (409) and names that payout, so a retried create "
            "cannot pay twice. Not blank, no control characters; omit it for none (null is "
            "refused). Set at creation only; deleting the payout frees it."
        ),
    )


class PayoutUpdateSerializer(PayoutEditableSerializer):
    """The editable fields, all optional (PATCH); the reference cannot be changed."""

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
    reference = serializers.CharField(
        read_only=True, allow_null=True, help_text="Your own id for this payout, or null."
    )
    metadata = MetadataField(read_only=True, help_text="Your own keys and values, as sent.")
    failure_code = serializers.CharField(
        read_only=True,
        help_text="Why a FAILED payout failed, for programs: the provider's decline code as it "
        "sent it (e.g. insufficient_funds), or provider_rejected, provider_unavailable or "
        "provider_unknown_outcome. Empty unless FAILED.",
    )
    failure_reason = serializers.CharField(
        read_only=True, help_text="Why a FAILED payout failed, for people. Empty unless FAILED."
    )
    provider_reference = serializers.CharField(
        read_only=True,
        help_text="The payment provider's id for the payment. Empty unless COMPLETED.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Payout) -> dict[str, Any]:
        # The one rendering of a payout, which its events carry too.
        return payout_document(instance)
