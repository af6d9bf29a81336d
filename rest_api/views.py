"""The /api/payouts/ resource: translate HTTP to payouts services and selectors, nothing more."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from idempotency import services as idempotency
from payouts import selectors, services
from payouts.errors import PayoutError
from payouts.models import Payout
from rest_api import responses
from rest_api.authentication import caller_of
from rest_api.errors import payout_error_response
from rest_api.filters import PayoutFilter
from rest_api.serializers import (
    PayoutCreateSerializer,
    PayoutSerializer,
    PayoutUpdateSerializer,
)

_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Payout id.")
_IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    str,
    OpenApiParameter.HEADER,
    pattern=r"^[ -~]{1,255}$",
    description=(
        "Makes retrying this request safe: 1 to 255 printable ASCII characters, unique per "
        "payout intent (a UUID, say). The first request with a key runs; the same request with "
        "the same key, within PAYOUT_IDEMPOTENCY_TTL_HOURS (24 by default), gets the first "
        "one's status and body again, with `Idempotent-Replayed: true`, and creates nothing. "
        "The same key with a different body is 422; while the first still runs, 409. Keys "
        "are the calling client's own. A 5xx is not kept: the retry runs anew."
    ),
)
_REPLAYED = OpenApiParameter(
    idempotency.REPLAYED_HEADER,
    str,
    OpenApiParameter.HEADER,
    enum=["true"],
    response=[201, 400, 409],
    description="Present on a replay: this is the stored response of an earlier request with "
    "the same Idempotency-Key, and nothing new was done.",
)
_RETRY_IN_USE = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[409],
    description="With `idempotency_key_in_use`: seconds to wait before retrying.",
)


@extend_schema_view(
    list=extend_schema(
        summary="List payouts",
        description=(
            "Newest first, paginated; filter by status, currency, amount, date and reference."
        ),
        responses={
            200: PayoutSerializer(many=True),
            400: responses.PARAMETERS_INVALID,
            404: responses.PAGE_NOT_FOUND,
            **responses.ALWAYS,
        },
    ),
    retrieve=extend_schema(
        summary="Retrieve a payout",
        parameters=[_ID],
        responses={200: PayoutSerializer, 404: responses.NOT_FOUND, **responses.ALWAYS},
    ),
    create=extend_schema(
        summary="Create a payout",
        description=(
            "Stores the payout as PENDING and queues it for processing. Send an "
            "Idempotency-Key to make retries safe: a retry never creates a second payout. A "
            "reference one of your payouts holds is refused with 409, naming that payout."
        ),
        parameters=[_IDEMPOTENCY_KEY, _REPLAYED, _RETRY_IN_USE],
        request=PayoutCreateSerializer,
        responses={
            201: PayoutSerializer,
            400: responses.CREATE_INVALID,
            403: responses.CLIENT_REQUIRED,
            409: responses.CREATE_CONFLICT,
            422: responses.IDEMPOTENCY_KEY_MISMATCH,
            **responses.WITH_BODY,
        },
    ),
    partial_update=extend_schema(
        summary="Update a PENDING payout",
        description=(
            "Changes any of amount, currency, recipient_details, description and metadata "
            "(replaced whole); the reference cannot be changed."
        ),
        parameters=[_ID],
        request=PayoutUpdateSerializer,
        responses={
            200: PayoutSerializer,
            400: responses.BODY_INVALID,
            403: responses.NOT_EDITABLE,
            404: responses.NOT_FOUND,
            **responses.WITH_BODY,
        },
    ),
    destroy=extend_schema(
        summary="Delete a PENDING payout",
        parameters=[_ID],
        responses={
            204: None,
            403: responses.NOT_DELETABLE,
            404: responses.NOT_FOUND,
            **responses.ALWAYS,
        },
    ),
)
class PayoutViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Payout],
):
    serializer_class = PayoutSerializer
    filterset_class = PayoutFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # Any one path segment reaches the view, so a malformed id (even with a dot, which the
    # router's default pattern refuses) gets the JSON "Payout not found.", not Django's HTML 404.
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Payout]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular, reading the model
            return Payout.objects.none()
        return selectors.payout_list(caller_of(self.request))

    def get_object(self) -> Payout:
        return selectors.payout_get(caller_of(self.request), self.kwargs["pk"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        caller = caller_of(request)
        header = request.headers.get(idempotency.HEADER)
        key = None if header is None else idempotency.parse_key(header)
        data = request.data
        if key is None or caller.client is None:
            payout = services.payout_create(caller, data)
            return Response(PayoutSerializer(payout).data, status=status.HTTP_201_CREATED)

        def create_once() -> idempotency.Outcome:
            try:
                payout = services.payout_create(caller, data)
            except PayoutError as error:
                refused = payout_error_response(error)
                return idempotency.Outcome(refused.status_code, refused.data)
            return idempotency.Outcome(status.HTTP_201_CREATED, PayoutSerializer(payout).data)

        identity = idempotency.RequestIdentity(request.method or "POST", request.path, data)
        outcome = idempotency.run_once(caller.client, key, identity, create_once)
        headers = {idempotency.REPLAYED_HEADER: "true"} if outcome.replayed else None
        return Response(outcome.body, status=outcome.status, headers=headers)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payout = services.payout_update(caller_of(request), kwargs["pk"], request.data)
        return Response(PayoutSerializer(payout).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.payout_delete(caller_of(request), kwargs["pk"])
        return Response(status=status.HTTP_204_NO_CONTENT)
