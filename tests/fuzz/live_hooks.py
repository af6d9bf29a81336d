"""Schemathesis hooks for `make fuzz-live`: inputs the stock generator cannot make for this API.

- Strategies for the GraphQL scalars JSON and Decimal, which schemathesis has none for.
- `@oneOf` input objects (`PayoutOrder`) kept to one non-null key. Schemathesis introspects
  without `isOneOf` and hypothesis-graphql knows nothing of the directive, so in positive mode
  it sends `{createdAt: ASC, amount: null}`, which the GraphQL specification itself forbids.
- Requests real clients send and the generator never makes: JSON nested deeper than a recursive
  parser goes, lone UTF-16 surrogates (it draws no character of category Cs), a body that is no
  JSON, a slash in a path parameter, and for GraphQL another method or content type. Each goes
  out, as a variant, in place of a share of the cases that are already invalid: the answer must
  be a documented 4xx, in JSON, whatever the server makes of the variant.
- A check that every operation the run's key opened refuses the same request without a key and
  with an unknown one: 401, `WWW-Authenticate: Bearer` and the error code that says which.
- Metadata keys of 1 to 40 characters in positive REST cases: OpenAPI 3.0 has no
  `propertyNames`, so the document says it in prose and the generator draws any key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import graphql
import schemathesis
from hypothesis import strategies as st
from schemathesis.generation.meta import TestPhase

from payouts.validators import METADATA_KEY_MAX_LENGTH
from tests.fuzz.graphql_values import DECIMALS, RECIPIENT_DETAILS

if TYPE_CHECKING:
    from schemathesis import Case, CheckContext, HookContext, Response

# A null literal is no value of a non-null `JSON!`: hypothesis-graphql adds nulls where types allow.
schemathesis.graphql.scalar(
    "JSON", RECIPIENT_DETAILS.filter(lambda node: not isinstance(node, graphql.NullValueNode))
)
schemathesis.graphql.scalar("Decimal", DECIMALS)

# The committed SDL, which `tests/graphql_api/test_schema_file.py` keeps equal to the served one,
# is the only place that says which input objects are @oneOf.
_SDL = Path(__file__).resolve().parents[2] / "graphql_api" / "schema.graphql"
_ONE_OF_TYPES = frozenset(
    name
    for name, type_ in graphql.build_schema(_SDL.read_text()).type_map.items()
    if isinstance(type_, graphql.GraphQLInputObjectType) and type_.is_one_of
)

# Python's json module, under DRF's parser and strawberry's view, recurses once per level: 1,200 is
# past the default limit of 1,000 wherever the parse starts, and only 2.4 kB on the wire.
NESTING_DEPTH = 1200
_DEEPLY_NESTED = "[" * NESTING_DEPTH + "]" * NESTING_DEPTH
# Escaped as JSON allows them ("\ud800"); no UTF-8 encoding of the document can hold them.
_LONE_SURROGATES = r'"\ud800": "\udfff"'


class _OneOfRepair(graphql.Visitor):
    """Keep the first non-null key of each @oneOf object literal, or fill in a lone null one."""

    def __init__(self, type_info: graphql.TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info

    def enter_object_value(self, node: graphql.ObjectValueNode, *_args: Any) -> Any:
        input_type = graphql.get_named_type(self.type_info.get_input_type())
        if not isinstance(input_type, graphql.GraphQLInputObjectType):
            return None
        if input_type.name not in _ONE_OF_TYPES:
            return None
        filled = [f for f in node.fields if not isinstance(f.value, graphql.NullValueNode)]
        if filled:
            return graphql.ObjectValueNode(fields=(filled[0],))
        for field in node.fields:
            field_type = graphql.get_named_type(input_type.fields[field.name.value].type)
            if isinstance(field_type, graphql.GraphQLEnumType):
                value = graphql.EnumValueNode(value=next(iter(field_type.values)))
                return graphql.ObjectValueNode(
                    fields=(graphql.ObjectFieldNode(name=field.name, value=value),)
                )
        return None


@schemathesis.hook
def map_body(context: HookContext, body: Any) -> Any:
    if not isinstance(body, graphql.DocumentNode) or context.operation is None:
        return body
    client_schema: graphql.GraphQLSchema = context.operation.schema.client_schema
    # A document invalid even without @oneOf is a negative case: its invalidity is the point.
    if graphql.validate(client_schema, body):
        return body
    type_info = graphql.TypeInfo(client_schema)
    return graphql.visit(body, graphql.TypeInfoVisitor(type_info, _OneOfRepair(type_info)))


def _with_member(document: str, member: str) -> bytes:
    """`document`, a JSON object, with one more member, spliced in as text."""
    opening, rest = document[0], document[1:]
    separator = "" if rest.lstrip() == "}" else ", "
    return f"{opening}{member}{separator}{rest}".encode()


def _copy(case: Case, **changes: Any) -> Case:
    """`case` with `changes`, sharing its metadata as `Case.derive` does.

    Schemathesis validates the changed parts again before the checks run; every change here keeps
    the case negative (a body that is no JSON object the schema allows, an id that is no UUID) or
    positive (metadata with fewer keys).
    """
    fields: dict[str, Any] = {
        "path_parameters": dict(case.path_parameters),
        "headers": case.headers.copy(),
        "cookies": dict(case.cookies),
        "query": dict(case.query),
        "body": case.body,
        "media_type": case.media_type,
    }
    method = changes.pop("method", case.method)
    fields.update(changes)
    return type(case)(case.operation, method, case.path, meta=case.meta, **fields)


def _hostile_variants(case: Case, *, stateful: bool) -> list[Case]:
    variants = [] if case.media_type is None else [_copy(case, body=b"{")]
    # In a stateful sequence the id comes from the payout a step before created: replacing it
    # would make the step look up another resource and report that one as "not found".
    if case.path_parameters and not stateful:
        # Schemathesis never puts a slash in a path parameter; a client sends it encoded.
        slashed = dict.fromkeys(case.path_parameters, "a%2Fb")
        variants.append(_copy(case, path_parameters=slashed))
    if isinstance(case.body, dict):  # REST: a JSON object
        document = json.dumps(case.body)
        variants += [
            _copy(case, body=_with_member(document, f'"nested": {_DEEPLY_NESTED}')),
            _copy(case, body=_with_member(document, _LONE_SURROGATES)),
        ]
    elif isinstance(case.body, str):  # GraphQL: the query; the rest of the request is ours
        document = json.dumps({"query": case.body})
        nested = _with_member(document, f'"variables": {{"nested": {_DEEPLY_NESTED}}}')
        text = case.headers.copy()
        text["Content-Type"] = "text/plain"
        variants += [
            _copy(case, body=nested),
            _copy(case, method="PUT"),
            _copy(case, headers=text),
        ]
    return variants


def _with_documented_metadata_keys(case: Case) -> Case:
    """`case` without the metadata keys the document rules out in prose only."""
    body = case.body
    if not isinstance(body, dict):
        return case
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        return case
    kept = {
        key: value for key, value in metadata.items() if 0 < len(key) <= METADATA_KEY_MAX_LENGTH
    }
    return _copy(case, body={**body, "metadata": kept})


@schemathesis.hook
def flatmap_case(context: HookContext, case: Case) -> st.SearchStrategy[Case]:
    meta = case.meta
    if meta is None:
        return st.just(case)
    if not meta.generation.mode.is_negative:
        return st.just(_with_documented_metadata_keys(case))
    variants = _hostile_variants(case, stateful=meta.phase.name == TestPhase.STATEFUL)
    if not variants:
        return st.just(case)
    return st.just(case) | st.sampled_from(variants)


# Well-formed, so the server looks it up and finds no such key rather than refusing its shape.
_UNKNOWN_KEY = "Bearer 00000000.00000000000000000000000000000000"
# Each way to come without a valid key, with the code the refusal must carry.
_KEYLESS = ((None, "not_authenticated"), (_UNKNOWN_KEY, "authentication_failed"))
# Operations already shown to refuse both: what they do does not change within a run.
_KEY_ENFORCED: set[str] = set()


def _refusal_code(response: Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if "errors" in body and "code" not in body:  # GraphQL: the code is REST's, upper-cased
        code = body["errors"][0].get("extensions", {}).get("code")
        return code.lower() if isinstance(code, str) else None
    code = body.get("code")
    return code if isinstance(code, str) else None


@schemathesis.check
def refuses_missing_and_unknown_keys(ctx: CheckContext, response: Response, case: Case) -> None:
    """An operation the run's key opened refuses the same request with no key or an unknown one.

    Schemathesis' `ignored_auth` probes REST operations too, from the OpenAPI security schemes, but
    takes a 403 for a refusal and knows nothing of GraphQL, whose schema declares no security.
    The run's key travels as a CLI header, which `Case.call` does not add: a probe carries only
    the Authorization header it is given.
    """
    label = case.operation.label
    if not 200 <= response.status_code < 300 or label in _KEY_ENFORCED:
        return
    # The coverage phase also sends other methods (OPTIONS) to an operation's path.
    if case.method.upper() != case.operation.method.upper():
        return
    for authorization, expected_code in _KEYLESS:
        headers = case.headers.copy()
        headers.pop("Authorization", None)
        if authorization is not None:
            headers["Authorization"] = authorization
        refusal = _copy(case, headers=headers).call(timeout=10)
        challenge = refusal.headers.get("www-authenticate", [])
        code = _refusal_code(refusal)
        if (refusal.status_code, challenge, code) != (401, ["Bearer"], expected_code):
            sent = "an unknown key" if authorization else "no key"
            raise AssertionError(
                f"{label} answered {response.status_code} with the run's key, and with {sent} "
                f"{refusal.status_code}, WWW-Authenticate {challenge}, code {code!r}: expected "
                f"401, ['Bearer'], {expected_code!r}"
            )
    _KEY_ENFORCED.add(label)
