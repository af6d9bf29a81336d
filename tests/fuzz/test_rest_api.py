"""Property-based fuzzing of the REST API from its own OpenAPI document, in-process over WSGI."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from project.wsgi import application
from tests.fuzz.conftest import KNOWN_PAYOUT_IDS, fuzz_config

schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=fuzz_config())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schema.hook
def before_generate_path_parameters(context, strategy):
    """Besides random ids, draw the ids of real payouts so edits and deletes reach the rules."""
    if "id" not in {parameter.name for parameter in context.operation.path_parameters}:
        return strategy
    known = st.sampled_from([str(payout_id) for payout_id in KNOWN_PAYOUT_IDS.values()])
    return strategy | st.fixed_dictionaries({"id": known})


@schema.parametrize()
# The known payouts are meant to persist across examples: earlier edits are part of the state.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_rest_api_answers_every_input_within_its_schema(case, known_payouts, owner):
    case.call_and_validate(headers=owner.headers, checks=CHECKS)
