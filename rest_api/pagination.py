"""Page-number pagination for payout lists, strict about its own parameters."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

MSG_NOT_POSITIVE_INTEGER = "Must be a positive integer."
MSG_INVALID_PAGE = "Invalid page."


def _positive_int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise ValidationError({name: [MSG_NOT_POSITIVE_INTEGER]})
    return int(raw)


class PayoutPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    invalid_page_message = MSG_INVALID_PAGE

    def get_page_size(self, request: Request) -> int:
        requested = _positive_int_param(request, self.page_size_query_param)
        if requested is None:
            return self.page_size
        return min(requested, self.max_page_size)

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        # A malformed page number is a client error (400); a page past the end stays DRF's 404.
        _positive_int_param(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)
