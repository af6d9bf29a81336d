"""The request body parser of the REST API: payouts' strict JSON, bounded in size."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from payouts import strict_json
from payouts.errors import MSG_TOO_LARGE, ErrorCode, InputRefused


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = MSG_TOO_LARGE
    default_code = ErrorCode.PAYLOAD_TOO_LARGE.value


class StrictJSONParser(JSONParser):
    """JSON read by payouts.strict_json: no duplicate keys, NaN, lone surrogates or deep nesting.

    Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE from its length before this runs
    (project/chunked.py gives a chunked body one); the parser still reads at most that many
    bytes, so no stream that reaches it some other way is read whole.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit: int = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge()
        try:
            return strict_json.loads(body)
        except InputRefused as refused:
            raise ParseError(refused.message, code=refused.code.value) from None
