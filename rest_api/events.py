"""/api/events/: a client's payout events, in the order they happened, for catching up."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ErrorDetail, ValidationError

from events.documents import event_document
from events.errors import MSG_AFTER_NOT_FOUND, EventNotFound
from events.models import Event, EventType
from events.selectors import event_get, event_list, events_after
from payouts.errors import ErrorCode
from rest_api import responses
from rest_api.authentication import caller_of
from rest_api.filters import ChoiceListFilter, PayoutFilterForm
from rest_api.serializers import PayoutSerializer

EVENT_ID_PATTERN = r"^evt_[0-9a-f]{32}$"
MSG_EVENT_ID_INVALID = "Must be an event id: evt_ followed by 32 lowercase hexadecimal digits."


class EventSerializer(serializers.Serializer[Event]):
    """An event: the body of its webhook too."""

    id = serializers.RegexField(
        EVENT_ID_PATTERN,
        read_only=True,
        help_text="The event's id, the same in its webhook's `webhook-id` header.",
    )
    type = serializers.ChoiceField(choices=EventType.choices, read_only=True)
    timestamp = serializers.DateTimeField(read_only=True, help_text="When the change happened.")
    sequence = serializers.IntegerField(
        read_only=True,
        min_value=1,
        help_text="The payout's own event count, from 1 with no gaps: order one payout's events "
        "by it (deliveries may arrive in any order).",
    )
    # DRF's metaclass takes declared fields off the class, so this does not hide `.data`.
    data = PayoutSerializer(  # type: ignore[assignment]
        read_only=True, help_text="The payout as it was after the change."
    )

    def to_representation(self, instance: Event) -> dict[str, Any]:
        return event_document(instance)


class EventIdField(forms.CharField):
    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not re.fullmatch(EVENT_ID_PATTERN, value):
            raise forms.ValidationError(MSG_EVENT_ID_INVALID, code=ErrorCode.INVALID.value)


@extend_schema_field(
    {
        "type": "string",
        "pattern": EVENT_ID_PATTERN,
        "description": "Only the events after the event with this id in stream order: the "
        "cursor of a catch-up read, taken from this list. Another client's, or an unknown, id "
        "is a 400 (not_found).",
    }
)
class AfterFilter(django_filters.CharFilter):
    """Events written after the caller's event with this id."""

    field_class = EventIdField

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        try:
            return events_after(qs, caller_of(self.parent.request), value)
        except EventNotFound:
            detail = ErrorDetail(MSG_AFTER_NOT_FOUND, code=ErrorCode.NOT_FOUND.value)
            raise ValidationError({self.field_name: [detail]}) from None


class EventFilter(django_filters.FilterSet):
    type = ChoiceListFilter(
        choices=EventType.choices,
        help_text="One or more event types: repeat the parameter or separate them with commas.",
    )
    payout = django_filters.UUIDFilter(
        field_name="payout_id", help_text="Only the events of the payout with this id."
    )
    after = AfterFilter(
        help_text="Only events written after the event with this id: pass the last one you "
        "handled to catch up."
    )

    class Meta:
        model = Event
        fields: list[str] = []
        form = PayoutFilterForm


_ID = OpenApiParameter(
    "id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Event id (evt_…).",
)


@extend_schema_view(
    list=extend_schema(
        summary="List events",
        description=(
            "Your payouts' events in stream order, oldest first: every webhook this service "
            "sends is one of them. To catch up, read on with `after` set to the last event id "
            "you read from this list (not from a webhook: webhooks arrive in delivery order), "
            "then to the last id of each page; this never skips an event. Apply a payout's "
            "state by `sequence`, its own order. Filter by type and payout."
        ),
        responses={
            200: EventSerializer(many=True),
            400: responses.EVENT_PARAMETERS_INVALID,
            404: responses.PAGE_NOT_FOUND,
            **responses.ALWAYS,
        },
    ),
    retrieve=extend_schema(
        summary="Retrieve an event",
        parameters=[_ID],
        responses={200: EventSerializer, 404: responses.EVENT_NOT_FOUND, **responses.ALWAYS},
    ),
)
class EventViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Event]
):
    serializer_class = EventSerializer
    filterset_class = EventFilter
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Event]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular, reading the model
            return Event.objects.none()
        return event_list(caller_of(self.request))

    def get_object(self) -> Event:
        return event_get(caller_of(self.request), self.kwargs["pk"])
