"""The /api/webhook-endpoints/ resource: translate HTTP to the webhooks services and selectors.

The request serializers only describe bodies in the OpenAPI document: the view hands the parsed
body to webhooks.services, which reads and validates every field.
"""

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
from payouts.selectors import PAYOUT_PAGE_MAX
from rest_api import responses
from rest_api.authentication import caller_of
from rest_api.errors import MSG_INVALID_INPUT, error_body
from rest_api.pagination import MSG_PAGE_SIZE_TOO_LARGE
from webhooks import errors, selectors, services
from webhooks.models import (
    DESCRIPTION_MAX_LENGTH,
    ENDPOINTS_PER_CLIENT_MAX,
    URL_MAX_LENGTH,
    WebhookEndpoint,
)
from webhooks.signing import PREVIOUS_SECRET_VALIDITY, PREVIOUS_SECRETS_MAX

_VALIDITY_HOURS = int(PREVIOUS_SECRET_VALIDITY.total_seconds() // 3600)
_SECRET_HELP = (
    "The signing secret, `whsec_<base64>` (Standard Webhooks). Shown only in this response: "
    "store it now."
)
_EVENT_TYPES_HELP = "The event types sent to this endpoint; empty: every type."


class EventTypesField(serializers.ListField):
    child = serializers.ChoiceField(choices=EventType.choices)


class WebhookEndpointSerializer(serializers.Serializer[WebhookEndpoint]):
    """An endpoint as the API returns it; its secret only when it is made."""

    id = serializers.UUIDField(read_only=True)
    url = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    event_types = EventTypesField(read_only=True, help_text=_EVENT_TYPES_HELP)
    enabled = serializers.BooleanField(read_only=True)
    disabled_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the service disabled the endpoint because every delivery failed for "
        "WEBHOOK_DISABLE_AFTER_HOURS; null otherwise. Enabling it clears this.",
    )
    disabled_reason = serializers.CharField(
        read_only=True, help_text="Why the service disabled it; empty otherwise."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text=_SECRET_HELP)


class WebhookEndpointCreateSerializer(serializers.Serializer[Any]):
    """A new endpoint. Unknown and read-only fields are refused by name."""

    url = serializers.CharField(
        max_length=URL_MAX_LENGTH,
        help_text="Where events are POSTed: an absolute https:// URL (http:// only where the "
        "server allows it) with no user name or password. Its host must resolve to public "
        "addresses only; it is checked again before every delivery.",
    )
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH
    )
    event_types = EventTypesField(
        required=False,
        help_text=f"{_EVENT_TYPES_HELP} Each type at most once.",
    )
    enabled = serializers.BooleanField(
        required=False,
        help_text="false stops deliveries; true resumes them and clears `disabled_at`.",
    )


class WebhookEndpointUpdateSerializer(WebhookEndpointCreateSerializer):
    """The same fields, all optional (PATCH)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Webhook endpoint id."
)
_NOT_FOUND = OpenApiResponse(
    response=responses.ErrorSerializer,
    description="None of your endpoints has this id.",
    examples=[
        OpenApiExample(
            "Not found", value=error_body(ErrorCode.NOT_FOUND.value, errors.MSG_NOT_FOUND)
        )
    ],
)


def _invalid(field: str, code: ErrorCode, message: str) -> dict[str, Any]:
    return error_body(
        ErrorCode.INVALID.value,
        MSG_INVALID_INPUT,
        [{"field": field, "code": code.value, "message": message}],
    )


_URL_EXAMPLES = [
    OpenApiExample(
        "Not https",
        value=_invalid("url", ErrorCode.WEBHOOK_URL_NOT_HTTPS, errors.MSG_URL_NOT_HTTPS),
    ),
    OpenApiExample(
        "Private address",
        value=_invalid(
            "url",
            ErrorCode.WEBHOOK_URL_PRIVATE_ADDRESS,
            errors.MSG_URL_PRIVATE_ADDRESS.format(host="intranet.example"),
        ),
    ),
    OpenApiExample(
        "Unknown event type",
        value=_invalid(
            "event_types",
            ErrorCode.INVALID_CHOICE,
            errors.MSG_EVENT_TYPE_UNKNOWN.format(
                value="payout.paid", choices=", ".join(EventType.values)
            ),
        ),
    ),
]
_BODY_INVALID_DESCRIPTION = (
    "Invalid input: every bad field at once (a refused URL's code says why), or a body that is "
    "not acceptable JSON."
)
_CREATE_INVALID = OpenApiResponse(
    response=responses.ErrorSerializer,
    description=(
        f"{_BODY_INVALID_DESCRIPTION} Also `webhook_endpoint_limit`: you have "
        f"{ENDPOINTS_PER_CLIENT_MAX} endpoints already, the most a client may have."
    ),
    examples=[
        *_URL_EXAMPLES,
        OpenApiExample(
            "Too many endpoints",
            value=error_body(
                ErrorCode.INVALID.value,
                MSG_INVALID_INPUT,
                [
                    {
                        "field": None,
                        "code": ErrorCode.WEBHOOK_ENDPOINT_LIMIT.value,
                        "message": errors.MSG_LIMIT.format(limit=ENDPOINTS_PER_CLIENT_MAX),
                    }
                ],
            ),
        ),
    ],
)
_UPDATE_INVALID = OpenApiResponse(
    response=responses.ErrorSerializer,
    description=_BODY_INVALID_DESCRIPTION,
    examples=_URL_EXAMPLES,
)
_PAGE_INVALID = OpenApiResponse(
    response=responses.ErrorSerializer,
    description="A page parameter is malformed, out of range, or given more than once.",
    examples=[
        OpenApiExample(
            "PageTooLarge",
            summary=f"/api/webhook-endpoints/?page_size={PAYOUT_PAGE_MAX + 1}",
            value=_invalid("page_size", ErrorCode.INVALID, MSG_PAGE_SIZE_TOO_LARGE),
        ),
    ],
)
_CLIENT_REQUIRED = OpenApiResponse(
    response=responses.ErrorSerializer,
    description="A staff session cannot create endpoints: each belongs to a client.",
    examples=[
        OpenApiExample(
            "Staff session",
            value=error_body(ErrorCode.CLIENT_REQUIRED.value, errors.MSG_CLIENT_REQUIRED),
        )
    ],
)
_ROTATION = (
    f"The secret it replaces keeps signing beside the new one for {_VALIDITY_HOURS} hours, so "
    "deliveries carry a signature per secret meanwhile (space-separated in "
    "`webhook-signature`) and a receiver verifies with any of them while the new one is "
    "deployed. Rotating again within those hours keeps every earlier secret still signing, "
    "each until its own expiry (the newest "
    f"{PREVIOUS_SECRETS_MAX} at most): a receiver that deployed the secret of the first "
    "rotation, or never received it, keeps verifying."
)


@extend_schema_view(
    list=extend_schema(
        summary="List webhook endpoints",
        description="Your endpoints, newest first, paginated. Secrets are never listed.",
        responses={
            200: WebhookEndpointSerializer(many=True),
            400: _PAGE_INVALID,
            404: responses.PAGE_NOT_FOUND,
            **responses.ALWAYS,
        },
    ),
    retrieve=extend_schema(
        summary="Retrieve a webhook endpoint",
        parameters=[_ID],
        responses={200: WebhookEndpointSerializer, 404: _NOT_FOUND, **responses.ALWAYS},
    ),
    create=extend_schema(
        summary="Create a webhook endpoint",
        description=(
            "Events of your payouts are POSTed to the URL, signed as Standard Webhooks "
            "(standardwebhooks.com) specifies with the `secret` of this response: the only "
            "time it is shown."
        ),
        request=WebhookEndpointCreateSerializer,
        responses={
            201: WebhookEndpointWithSecretSerializer,
            400: _CREATE_INVALID,
            403: _CLIENT_REQUIRED,
            **responses.WITH_BODY,
        },
    ),
    partial_update=extend_schema(
        summary="Update a webhook endpoint",
        description="Changes any of url, description, event_types and enabled.",
        parameters=[_ID],
        request=WebhookEndpointUpdateSerializer,
        responses={
            200: WebhookEndpointSerializer,
            400: _UPDATE_INVALID,
            404: _NOT_FOUND,
            **responses.WITH_BODY,
        },
    ),
    destroy=extend_schema(
        summary="Delete a webhook endpoint",
        description="Deletes it with the record of its deliveries; nothing more is sent to it.",
        parameters=[_ID],
        responses={204: None, 404: _NOT_FOUND, **responses.ALWAYS},
    ),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[WebhookEndpoint],
):
    serializer_class = WebhookEndpointSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # Any one path segment reaches the view, so a malformed id gets the JSON 404.
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular, reading the model
            return WebhookEndpoint.objects.none()
        return selectors.endpoint_list(caller_of(self.request))

    def get_object(self) -> WebhookEndpoint:
        return selectors.endpoint_get(caller_of(self.request), self.kwargs["pk"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint, secret = services.endpoint_create(caller_of(request), request.data)
        return Response(_with_secret(endpoint, secret), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = services.endpoint_update(caller_of(request), kwargs["pk"], request.data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.endpoint_delete(caller_of(request), kwargs["pk"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Rotate a webhook endpoint's signing secret",
        description=f"Makes a new secret and returns it: the only time it is shown. {_ROTATION}",
        parameters=[_ID],
        request=None,
        responses={
            200: WebhookEndpointWithSecretSerializer,
            404: _NOT_FOUND,
            **responses.ALWAYS,
        },
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str) -> Response:
        endpoint, secret = services.endpoint_rotate_secret(caller_of(request), pk)
        return Response(_with_secret(endpoint, secret))


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> dict[str, Any]:
    return {**WebhookEndpointSerializer(endpoint).data, "secret": secret}
