"""/api/webhook-endpoints/{id}/deliveries/: an endpoint's delivery log and manual retries,
translated to and from webhooks.delivery."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from events.models import EventType
from payouts.errors import ErrorCode
from rest_api import responses
from rest_api.authentication import caller_of
from rest_api.errors import error_body
from rest_api.filters import WebhookDeliveryFilter
from webhooks import delivery as deliveries
from webhooks import errors as webhook_errors
from webhooks import selectors
from webhooks.models import WebhookAttempt, WebhookDelivery


class WebhookAttemptSerializer(serializers.ModelSerializer[WebhookAttempt]):
    """One POST of the delivery, as it went."""

    # Declared, not derived from the model: a derived bound is the database's (SQLite's and
    # PostgreSQL's differ), and the document must not depend on which one generated it.
    number = serializers.IntegerField(read_only=True, min_value=1)
    duration_ms = serializers.IntegerField(read_only=True, min_value=0)
    response_status = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The receiver's HTTP status; null if none came."
    )

    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "manual",
            "attempted_at",
            "duration_ms",
            "response_status",
            "response_body",
            "error",
            "succeeded",
        ]
        extra_kwargs = {
            "manual": {"help_text": "Asked for with the retry endpoint, not by the schedule."},
            "response_body": {"help_text": "The first 1 KB of the receiver's answer."},
            "error": {"help_text": "Why no answer came (timeout, refused address...), or empty."},
        }


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    """One event on its way to the endpoint, with every attempt made."""

    event = serializers.CharField(source="event.public_id", help_text="The event's id.")
    event_type = serializers.ChoiceField(choices=EventType.choices, source="event.type")
    attempts_made = WebhookAttemptSerializer(many=True)
    attempts = serializers.IntegerField(
        read_only=True,
        min_value=0,
        help_text="Attempts made so far, the one in progress included.",
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "updated_at",
            "attempts_made",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "next_attempt_at": {
                "help_text": "While pending: when the next attempt is due. Null otherwise."
            },
        }


_ENDPOINT_ID = OpenApiParameter(
    "endpoint_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Webhook endpoint id."
)
_DELIVERY_ID = OpenApiParameter(
    "delivery_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Delivery id."
)


def _refusal(description: str, *examples: tuple[str, ErrorCode, str]) -> OpenApiResponse:
    return OpenApiResponse(
        response=responses.ErrorSerializer,
        description=description,
        examples=[
            OpenApiExample(name, value=error_body(code.value, message))
            for name, code, message in examples
        ],
    )


_NO_ENDPOINT = ("No such endpoint", ErrorCode.NOT_FOUND, webhook_errors.MSG_NOT_FOUND)
ENDPOINT_NOT_FOUND = _refusal("No webhook endpoint of yours has this id.", _NO_ENDPOINT)
DELIVERY_NOT_FOUND = _refusal(
    "No webhook endpoint of yours has this id, or the endpoint has no such delivery.",
    _NO_ENDPOINT,
    ("No such delivery", ErrorCode.NOT_FOUND, webhook_errors.MSG_DELIVERY_NOT_FOUND),
)
ALREADY_SCHEDULED = _refusal(
    "The delivery is pending: its next attempt is scheduled already.",
    ("Pending", ErrorCode.DELIVERY_ALREADY_SCHEDULED, webhook_errors.MSG_ALREADY_SCHEDULED),
)


@extend_schema_view(
    list=extend_schema(
        summary="List an endpoint's deliveries",
        description=(
            "Newest first, paginated, each with every attempt made: time, duration, the "
            "receiver's status and the first 1 KB of its answer, or the error. Filter by "
            "outcome and event type."
        ),
        parameters=[_ENDPOINT_ID],
        responses={
            200: WebhookDeliverySerializer(many=True),
            400: responses.PARAMETERS_INVALID,
            404: ENDPOINT_NOT_FOUND,
            **responses.ALWAYS,
        },
    ),
    retry=extend_schema(
        summary="Send a delivery again",
        description=(
            "One more attempt of a delivery that succeeded or failed, made now (`manual` in "
            "its record). If it fails the delivery is failed again: a manual attempt starts no "
            "retry schedule. To a disabled endpoint it waits, pending, until the endpoint is "
            "enabled. A pending delivery is refused with 409: its attempt is coming."
        ),
        parameters=[_ENDPOINT_ID, _DELIVERY_ID],
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            404: DELIVERY_NOT_FOUND,
            409: ALREADY_SCHEDULED,
            **responses.ALWAYS,
        },
    ),
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[WebhookDelivery]):
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    http_method_names = ["get", "post", "head", "options"]
    # Any path segment reaches the view, so a malformed id gets the JSON 404.
    lookup_value_regex = "[^/]+"
    lookup_url_kwarg = "delivery_id"

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular, reading the model
            return WebhookDelivery.objects.none()
        return selectors.delivery_list(caller_of(self.request), self.kwargs["endpoint_id"])

    @action(detail=True, methods=["post"])
    def retry(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        caller = caller_of(request)
        delivery = deliveries.delivery_retry(caller, kwargs["endpoint_id"], kwargs["delivery_id"])
        # Read again: in immediate mode (tests, local runs) the attempt has been made already.
        current = selectors.delivery_list(caller, kwargs["endpoint_id"]).get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(current).data, status=status.HTTP_202_ACCEPTED)
