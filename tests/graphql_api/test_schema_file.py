"""The committed SDL matches the code; `make schema` rewrites it when this fails."""

from __future__ import annotations

from pathlib import Path

import graphql_api
from graphql_api.schema import schema_sdl


def test_committed_schema_matches_the_code():
    committed = (Path(graphql_api.__file__).parent / "schema.graphql").read_text()

    assert committed == schema_sdl(), "Run `make schema` and commit schema.graphql."
