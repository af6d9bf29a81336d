"""Property-based fuzzing of the GraphQL endpoint from its own introspected schema, over WSGI."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.graphql import nodes

from project.wsgi import application
from tests.fuzz.conftest import fuzz_config
from tests.fuzz.graphql_values import DECIMALS, RECIPIENT_DETAILS

schemathesis.graphql.scalar("JSON", RECIPIENT_DETAILS)
# Besides every Decimal literal, text that is no number: this run checks only for server errors.
schemathesis.graphql.scalar("Decimal", DECIMALS | st.text().map(nodes.String))

schema = schemathesis.graphql.from_wsgi("/graphql/", application, config=fuzz_config())


@schema.parametrize()
# The known payouts are meant to persist across examples: earlier edits are part of the state.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_graphql_api_never_fails_on_the_server(case, known_payouts):
    case.call_and_validate(checks=[not_a_server_error])
