"""Query-string filters and ordering for GET /api/payouts/."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.fields import BaseCSVField, IsoDateTimeField

from payouts.models import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, Currency, Payout, PayoutStatus
from payouts.selectors import payout_ordering_tie_breakers
from payouts.validation import utc_timestamp

MSG_EMPTY_SORT_KEY = "Sort keys must not be empty: separate them with single commas."


class SortKeysField(BaseCSVField):
    """Refuses blank keys (`,,`): each one would otherwise reach order_by() as a field name."""

    def clean(self, value: Any) -> Any:
        if value is not None and any(key in self.empty_values for key in value):
            raise forms.ValidationError(MSG_EMPTY_SORT_KEY, code="invalid_choice")
        return super().clean(value)


class StableOrderingFilter(django_filters.OrderingFilter):
    """Appends the default order as tie-breaker, so equal amounts page deterministically."""

    base_field_class = SortKeysField

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        used = {field.lstrip("-") for field in ordering}
        return qs.order_by(*ordering, *payout_ordering_tie_breakers(used))


def _amount_filter(lookup: str, help_text: str) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(
        field_name="amount",
        lookup_expr=lookup,
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        help_text=help_text,
    )


class UtcIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value: Any) -> Any:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return utc_timestamp(parsed)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 bound taken in any UTC offset and queried in UTC."""

    field_class = UtcIsoDateTimeField


def _created_filter(lookup: str, help_text: str) -> django_filters.IsoDateTimeFilter:
    return UtcIsoDateTimeFilter(field_name="created_at", lookup_expr=lookup, help_text=help_text)


class PayoutFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PayoutStatus.choices, help_text="Exact status.")
    currency = django_filters.ChoiceFilter(choices=Currency.choices, help_text="Exact currency.")
    min_amount = _amount_filter("gte", "Only payouts with amount greater than or equal to this.")
    max_amount = _amount_filter("lte", "Only payouts with amount less than or equal to this.")
    created_after = _created_filter("gte", "ISO 8601 timestamp: created at or after it.")
    created_before = _created_filter("lte", "ISO 8601 timestamp: created at or before it.")
    ordering = StableOrderingFilter(
        fields=(("created_at", "created_at"), ("amount", "amount")),
        help_text="Sort key: created_at, -created_at (the default), amount or -amount.",
    )

    class Meta:
        model = Payout
        fields: list[str] = []
