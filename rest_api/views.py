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

from payouts import selectors, services
from payouts.models import Payout
from rest_api import responses
from rest_api.authentication import caller_of
from rest_api.filters import PayoutFilter
from rest_api.serializers import (
    PayoutCreateSerializer,
    PayoutSerializer,
    PayoutUpdateSerializer,
)

_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Payout id.")


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
            "Stores the payout as PENDING and queues it for processing. A reference one of "
            "your payouts holds is refused with 409, naming that payout."
        ),
        request=PayoutCreateSerializer,
        responses={
            201: PayoutSerializer,
            400: responses.BODY_INVALID,
            403: responses.CLIENT_REQUIRED,
            409: responses.REFERENCE_IN_USE,
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
        payout = services.payout_create(caller_of(request), request.data)
        return Response(PayoutSerializer(payout).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payout = services.payout_update(caller_of(request), kwargs["pk"], request.data)
        return Response(PayoutSerializer(payout).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.payout_delete(caller_of(request), kwargs["pk"])
        return Response(status=status.HTTP_204_NO_CONTENT)
