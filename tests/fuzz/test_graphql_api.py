"""Property-based fuzzing of the GraphQL endpoint from its committed schema, over WSGI."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.graphql import nodes

from graphql_api.schema import GRAPHQL_SCHEMA_FILE
from project.wsgi import application
from tests.fuzz.conftest import fuzz_config
from tests.fuzz.graphql_values import DECIMALS, RECIPIENT_DETAILS

schemathesis.graphql.scalar("JSON", RECIPIENT_DETAILS)
# Besides every Decimal literal, text that is no number: this run checks only for server errors.
schemathesis.graphql.scalar("Decimal", DECIMALS | st.text().map(nodes.String))

# From the committed SDL, which a test keeps equal to what introspection answers: introspection
# needs an API key, and keys live in the test's database, which does not exist at import.
schema = schemathesis.graphql.from_path(GRAPHQL_SCHEMA_FILE, config=fuzz_config())
schema.app = application
schema.location = "/graphql/"


@schema.parametrize()
# The known payouts are meant to persist across examples: earlier edits are part of the state.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_graphql_api_never_fails_on_the_server(case, known_payouts, owner):
    case.call_and_validate(headers=owner.headers, checks=[not_a_server_error])
