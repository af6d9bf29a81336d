"""Django form fields that read input as both APIs read it: for the admin and REST filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.forms.fields import InvalidJSONInput

from payouts import strict_json
from payouts.errors import InputRefused
from payouts.validation import parse_amount, parse_recipient_details, parse_reference


def _form_error(refused: InputRefused) -> forms.ValidationError:
    return forms.ValidationError(refused.message, code=refused.code.value)


class ParsedTextField(forms.CharField):
    """Text read by one of payouts.validation's parsers, refused with its message and code;
    left empty, it is none. Not stripped: the APIs take text as sent."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        try:
            return self.parse(text)
        except InputRefused as refused:
            raise _form_error(refused) from None


class AmountField(ParsedTextField):
    """An amount read by payouts.validation.parse_amount: "1e3", "1_000" or " 10" are refused
    with the domain's message and code, never read the way Decimal() would read them."""

    def __init__(self, **kwargs: Any) -> None:
        # The model's DecimalField offers its digits and places; parse_amount applies them.
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        super().__init__(**kwargs)

    def parse(self, text: str) -> Decimal:
        return parse_amount(text)


class ReferenceField(ParsedTextField):
    """A reference read by payouts.validation.parse_reference: in a form, "  " is refused as
    blank and a tab as a control character, as the APIs refuse them."""

    def parse(self, text: str) -> str:
        return parse_reference(text)


class StrictJSONField(forms.JSONField):
    """JSON read as both APIs read a body (payouts.strict_json), not by json.loads: that
    recurses once per level (a value nested thousands deep was a 500) and lets duplicate keys,
    NaN and lone surrogates through."""

    def read(self, text: str) -> object:
        return strict_json.loads(text)

    def to_python(self, value: Any) -> Any:
        if self.disabled or not isinstance(value, str) or value in self.empty_values:
            return super().to_python(value)
        try:
            return self.read(value)
        except InputRefused as refused:
            raise _form_error(refused) from None

    def bound_data(self, data: Any, initial: Any) -> Any:
        """What a refused form shows again: the value read, or else the text as typed."""
        if self.disabled or data is None:
            return super().bound_data(data, initial)
        try:
            return self.read(data)
        except InputRefused:
            return InvalidJSONInput(data)


class RecipientDetailsField(StrictJSONField):
    def read(self, text: str) -> object:
        return parse_recipient_details(super().read(text))


class MetadataField(StrictJSONField):
    """Left empty, it is no metadata ({}), as a client omitting it gets, never null."""

    def to_python(self, value: Any) -> Any:
        if not self.disabled and value in self.empty_values:
            return {}
        return super().to_python(value)
