"""What the harness and the benchmark-only Django side agree on: a path and the probe headers."""

from __future__ import annotations

import base64
import json

BARE_CREATE_PATH = "/bench/bare-payouts/"

PROBE_REQUEST_HEADER = "X-Bench-Probe"
QUERY_SQL_HEADER = "X-Bench-SQL"


def encode_sql(statements: list[str]) -> str:
    return base64.b64encode(json.dumps(statements).encode()).decode("ascii")


def decode_sql(header: str) -> list[str]:
    statements: list[str] = json.loads(base64.b64decode(header))
    return statements
