"""Property-based fuzzing of the GraphQL endpoint from its own introspected schema, over WSGI."""

from __future__ import annotations

from collections.abc import Mapping

import graphql
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.graphql import nodes

from project.wsgi import application
from tests.fuzz.conftest import fuzz_config


def _object(fields: Mapping[str, graphql.ValueNode]) -> graphql.ObjectValueNode:
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value)
            for name, value in fields.items()
        ]
    )


_json_leaves = (
    st.just(nodes.Null)
    | st.booleans().map(nodes.Boolean)
    | st.integers().map(nodes.Int)
    | st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float)
    | st.text().map(nodes.String)
)
_json_values = st.recursive(
    _json_leaves,
    lambda children: (
        st.lists(children, max_size=4).map(nodes.List)
        | st.dictionaries(
            st.from_regex(r"\A[_A-Za-z][_0-9A-Za-z]{0,12}\Z"), children, max_size=4
        ).map(_object)
    ),
    max_leaves=12,
)
# recipient_details is the one JSON argument: mostly objects with an account_number, so the
# other rules are reached too, and now and then any JSON at all.
_recipient_details = (
    st.fixed_dictionaries(
        {"account_number": _json_leaves},
        optional={"bank_name": _json_leaves, "iban": _json_values},
    ).map(_object)
    | _json_values
)
schemathesis.graphql.scalar("JSON", _recipient_details)
# Decimals travel as strings; also send numbers, non-finite values and text that is no number.
schemathesis.graphql.scalar(
    "Decimal",
    st.decimals(places=2, min_value=-(10**13), max_value=10**13).map(nodes.String)
    | st.decimals().map(nodes.String)
    | st.integers().map(nodes.Int)
    | st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float)
    | st.text().map(nodes.String),
)

schema = schemathesis.graphql.from_wsgi("/graphql/", application, config=fuzz_config())


@schema.parametrize()
# The known payouts are meant to persist across examples: earlier edits are part of the state.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_graphql_api_never_fails_on_the_server(case, known_payouts):
    case.call_and_validate(checks=[not_a_server_error])
