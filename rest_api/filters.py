"""Query-string filters and ordering for GET /api/payouts/, and the filters of an endpoint's
webhook deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.datastructures import MultiValueDict
from django_filters.fields import BaseCSVField, IsoDateTimeField
from django_filters.widgets import BaseCSVWidget
from drf_spectacular.utils import extend_schema_field

from events.models import EventType
from payouts.errors import ErrorCode
from payouts.forms import AmountField, ReferenceField
from payouts.models import REFERENCE_MAX_LENGTH, Currency, Payout, PayoutStatus
from payouts.selectors import payout_ordering_tie_breakers
from payouts.validation import AMOUNT_PATTERN, REFERENCE_PATTERN, utc_timestamp
from webhooks.models import DeliveryStatus, WebhookDelivery

MSG_EMPTY_SORT_KEY = "Sort keys must not be empty: separate them with single commas."
MSG_EMPTY_CHOICE = "Values must not be empty: separate them with single commas."
MSG_REPEATED_PARAMETER = "{name} takes one value but was given {count} times."


def repeated_parameter(name: str, count: int) -> forms.ValidationError:
    """The one error for a single-valued query parameter given `count` times, filter or page."""
    return forms.ValidationError(
        MSG_REPEATED_PARAMETER.format(name=name, count=count),
        code=ErrorCode.REPEATED_PARAMETER.value,
    )


class ValueListWidget(BaseCSVWidget, forms.SelectMultiple):
    """Reads a list from repeated parameters and from commas alike, in the order given:
    `?k=a&k=b`, `?k=a,b` and `?k=a,b&k=c` all work. An empty `?k=` is no value at all. The
    browsable API renders it as a multiple select, which submits repeats."""

    def value_from_datadict(
        self, data: Mapping[str, Any], files: Any, name: str
    ) -> list[str] | None:
        if isinstance(data, MultiValueDict):
            given = data.getlist(name)
        else:
            given = [data[name]] if name in data else []
        if not given:
            return None
        if given == [""]:
            return []
        return [item for value in given for item in value.split(",")]


class SortKeysField(BaseCSVField):
    """Refuses blank keys (`,,`): each one would otherwise reach order_by() as a field name."""

    base_widget_class = ValueListWidget

    def clean(self, value: Any) -> Any:
        if value is not None and any(key in self.empty_values for key in value):
            raise forms.ValidationError(MSG_EMPTY_SORT_KEY, code="invalid_choice")
        return super().clean(value)


class ChoiceListField(django_filters.fields.MultipleChoiceField):
    widget = ValueListWidget

    def validate(self, value: Any) -> None:
        if any(choice in self.empty_values for choice in value):
            raise forms.ValidationError(MSG_EMPTY_CHOICE, code="invalid_choice")
        super().validate(value)


class ChoiceListFilter(django_filters.MultipleChoiceFilter):
    """One or several choices, OR-ed: `?status=PENDING&status=FAILED`, `?status=PENDING,FAILED`."""

    field_class = ChoiceListField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A payout has one status and one currency: no join can repeat a row, so no DISTINCT.
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class StableOrderingFilter(django_filters.OrderingFilter):
    """Appends the default order as tie-breaker, so equal amounts page deterministically."""

    base_field_class = SortKeysField

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        used = {field.lstrip("-") for field in ordering}
        return qs.order_by(*ordering, *payout_ordering_tie_breakers(used))


@extend_schema_field({"type": "string", "pattern": AMOUNT_PATTERN, "example": "100.50"})
class AmountBoundFilter(django_filters.CharFilter):
    """An amount bound read as every amount is read (payouts.forms.AmountField)."""

    field_class = AmountField


def _amount_filter(lookup: str, help_text: str) -> AmountBoundFilter:
    return AmountBoundFilter(field_name="amount", lookup_expr=lookup, help_text=help_text)


@extend_schema_field(
    {
        "type": "string",
        "minLength": 1,
        "maxLength": REFERENCE_MAX_LENGTH,
        "pattern": REFERENCE_PATTERN,
    }
)
class ReferenceFilter(django_filters.CharFilter):
    """A reference, matched exactly and read as a payout's own is (payouts.forms.ReferenceField):
    text PostgreSQL cannot compare (a NUL) is a 400, not a server error."""

    field_class = ReferenceField


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


class PayoutFilterForm(forms.Form):
    """Refuses a single-valued parameter given twice, rather than silently keeping the last."""

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if not isinstance(self.data, MultiValueDict):
            return cleaned
        for name, field in self.fields.items():
            count = len(self.data.getlist(name))
            if count > 1 and not isinstance(field.widget, ValueListWidget):
                # The field looked at the last value only: the repeat is the one error to report.
                self.errors.pop(name, None)
                self.add_error(name, repeated_parameter(name, count))
        return cleaned


class PayoutFilter(django_filters.FilterSet):
    status = ChoiceListFilter(
        choices=PayoutStatus.choices,
        help_text="One or more statuses: repeat the parameter or separate them with commas.",
    )
    currency = ChoiceListFilter(
        choices=Currency.choices,
        help_text="One or more currencies: repeat the parameter or separate them with commas.",
    )
    min_amount = _amount_filter("gte", "Only payouts with amount greater than or equal to this.")
    max_amount = _amount_filter("lte", "Only payouts with amount less than or equal to this.")
    created_after = _created_filter("gte", "ISO 8601 timestamp: created at or after it.")
    created_before = _created_filter("lte", "ISO 8601 timestamp: created at or before it.")
    reference = ReferenceFilter(help_text="Only the payout with this reference (exact match).")
    ordering = StableOrderingFilter(
        fields=(("created_at", "created_at"), ("amount", "amount")),
        help_text=(
            "Sort keys, applied in the order given: repeat the parameter or separate them with "
            "commas. Each is created_at, -created_at (the default), amount or -amount."
        ),
    )

    class Meta:
        model = Payout
        fields: list[str] = []
        form = PayoutFilterForm


class WebhookDeliveryFilter(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(
        field_name="status",
        choices=DeliveryStatus.choices,
        help_text="Only deliveries with this status.",
    )
    event_type = django_filters.ChoiceFilter(
        field_name="event__type",
        choices=EventType.choices,
        help_text="Only deliveries of events of this type.",
    )

    class Meta:
        model = WebhookDelivery
        fields: list[str] = []
        form = PayoutFilterForm
