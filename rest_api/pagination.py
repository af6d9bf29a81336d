"""Page-number pagination for payout lists, strict about its own parameters."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.fields import get_error_detail
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

from payouts.selectors import PAYOUT_PAGE_MAX, payout_count
from rest_api.filters import repeated_parameter

MSG_NOT_POSITIVE_INTEGER = "Must be a positive integer."
MSG_PAGE_SIZE_TOO_LARGE = f"Must be at most {PAYOUT_PAGE_MAX}."
MSG_INVALID_PAGE = "Invalid page."
# SQL OFFSET is a signed 64-bit integer; a page beyond it cannot exist.
MAX_OFFSET = 2**63 - 1
# int() refuses text of more than sys.get_int_max_str_digits() digits (4,300 by default) with a
# ValueError. Every bound here has fewer digits than this, so a longer number is read as one
# past all of them: a page size too large, a page past the end.
_MAX_DIGITS = len(str(MAX_OFFSET))
_BEYOND_EVERY_BOUND = 10**_MAX_DIGITS


def _positive_int_param(request: Request, name: str) -> int | None:
    given = request.query_params.getlist(name)
    if len(given) > 1:
        raise ValidationError({name: get_error_detail(repeated_parameter(name, len(given)))})
    raw = given[0] if given else ""
    if raw == "":
        return None
    digits = raw.lstrip("0")
    if not raw.isascii() or not raw.isdigit() or not digits:
        raise ValidationError({name: [MSG_NOT_POSITIVE_INTEGER]})
    return int(digits) if len(digits) <= _MAX_DIGITS else _BEYOND_EVERY_BOUND


class PayoutPage(Page[Any]):
    def __init__(
        self, object_list: Sequence[Any], number: int, paginator: Paginator[Any], *, has_next: bool
    ) -> None:
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self) -> bool:
        return self._has_next


class PayoutPaginator(Paginator[Any]):
    """Reads one row past the page to know whether another follows, so neither `next` nor the
    404 for a page past the end waits on the total; the total is counted (or estimated, see
    payout_count) only for `count`. Pages are read by a deferred join (see page())."""

    @cached_property
    def count(self) -> int:
        assert isinstance(self.object_list, QuerySet)
        return payout_count(self.object_list)

    def validate_number(self, number: Any) -> int:
        # get_page_number has read the number already: a positive int.
        if (number - 1) * self.per_page > MAX_OFFSET:
            raise EmptyPage(self.error_messages["no_results"])
        return int(number)

    def page(self, number: Any) -> PayoutPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        assert isinstance(self.object_list, QuerySet)
        # A deferred join: OFFSET skips entries of an index that holds the order and the id
        # without reading their rows, then only the page's rows are read. At a million payouts
        # a page 100,000 rows deep takes about 7 ms instead of 140.
        page_ids = self.object_list.values("pk")[bottom : bottom + self.per_page + 1]
        rows = list(self.object_list.filter(pk__in=page_ids))
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return PayoutPage(rows[: self.per_page], number, self, has_next=len(rows) > self.per_page)


class PayoutPagination(PageNumberPagination):
    django_paginator_class = PayoutPaginator
    page_size = 20
    page_size_query_param = "page_size"
    page_query_description = "Page number, from 1 (a page past the last one is 404)."
    page_size_query_description = (
        f"Results per page: default {page_size}, at most {PAYOUT_PAGE_MAX}."
    )
    max_page_size = PAYOUT_PAGE_MAX
    invalid_page_message = MSG_INVALID_PAGE

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        """Document the bounds the server enforces, so generated clients and fuzzers know them."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Every key is always present: `next` and `previous` are null on the last and first
        pages, never missing."""
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["count", "next", "previous", "results"]
        paginated["properties"]["next"]["example"] = "http://127.0.0.1:8000/api/payouts/?page=4"
        paginated["properties"]["previous"]["example"] = "http://127.0.0.1:8000/api/payouts/?page=2"
        return paginated

    def get_page_size(self, request: Request) -> int:
        requested = _positive_int_param(request, self.page_size_query_param)
        if requested is None:
            return self.page_size
        if requested > self.max_page_size:
            raise ValidationError({self.page_size_query_param: [MSG_PAGE_SIZE_TOO_LARGE]})
        return requested

    def get_page_number(self, request: Request, paginator: Paginator[Any]) -> int:
        # A malformed page number is a client error (400); a page past the end stays DRF's 404.
        return _positive_int_param(request, self.page_query_param) or 1
