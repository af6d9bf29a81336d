"""The request body parser of the REST API: payouts' strict JSON, bounded in size."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from payouts import strict_json
from payouts.errors import InputRefused


class StrictJSONParser(JSONParser):
    """JSON read by payouts.strict_json: no duplicate keys, NaN, lone surrogates or deep nesting.

    DRF reads the body as a stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check, so the
    limit is applied here too: at most that many bytes are read.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        # Imported here: rest_api.errors imports rest_framework.views, whose APIView reads
        # DEFAULT_PARSER_CLASSES (this module) while it is defined.
        from rest_api.errors import PayloadTooLarge

        limit: int = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge()
        try:
            return strict_json.loads(body)
        except InputRefused as refused:
            raise ParseError(refused.message, code=refused.code.value) from None
