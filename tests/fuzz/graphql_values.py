"""Strategies for the GraphQL scalars schemathesis has none for, shared by both fuzz runs."""

from __future__ import annotations

from collections.abc import Mapping

import graphql
from hypothesis import strategies as st
from schemathesis.graphql import nodes


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
RECIPIENT_DETAILS = (
    st.fixed_dictionaries(
        {"account_number": _json_leaves},
        optional={"bank_name": _json_leaves, "iban": _json_values},
    ).map(_object)
    | _json_values
)
# Every literal the Decimal scalar takes (a string decimal.Decimal parses, or a number): amounts
# in and far out of range, more places than allowed, NaN and infinities.
DECIMALS = (
    st.decimals(places=2, min_value=-(10**13), max_value=10**13).map(nodes.String)
    | st.decimals().map(nodes.String)
    | st.integers().map(nodes.Int)
    | st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float)
)
