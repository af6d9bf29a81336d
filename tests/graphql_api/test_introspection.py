"""Introspection of /graphql/ follows the spec and loads in clients on graphql-core 3.2 and 3.3."""

from __future__ import annotations


def test_built_in_directives_are_offered_at_the_locations_the_spec_gives_them(graphql):
    body = graphql("{ __schema { directives { name locations isRepeatable } } }")

    assert body == {
        "data": {
            "__schema": {
                "directives": [
                    {
                        "name": "include",
                        "locations": ["FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"],
                        "isRepeatable": False,
                    },
                    {
                        "name": "skip",
                        "locations": ["FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"],
                        "isRepeatable": False,
                    },
                    {
                        "name": "deprecated",
                        "locations": [
                            "FIELD_DEFINITION",
                            "ARGUMENT_DEFINITION",
                            "INPUT_FIELD_DEFINITION",
                            "ENUM_VALUE",
                        ],
                        "isRepeatable": False,
                    },
                    {"name": "specifiedBy", "locations": ["SCALAR"], "isRepeatable": False},
                    {"name": "oneOf", "locations": ["INPUT_OBJECT"], "isRepeatable": False},
                ]
            }
        }
    }
