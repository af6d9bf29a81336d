"""The abuse guards of /graphql/: what a request may cost before any of it runs.

Depth and aliases are validation rules; list sizes are bounded in the document and in the
variables; the token budget counts the variables' values too, so input moved out of the
document into variables costs the same; and a document nested deeper than the parser's
recursion can take is refused before it is parsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from graphql import GraphQLError, ListValueNode, ValidationRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension

from graphql_api.errors import BAD_USER_INPUT

# graphql-core's parser recurses a few frames per `{`, `[` or `(`; Python's stack ends near
# 1,000 frames. A real query nests well under this.
MAX_DOCUMENT_NESTING = 32
# The most items one list (an inList filter, say) may hold, in the document or in variables.
MAX_LIST_LENGTH = 100

MSG_TOO_DEEP = f"The document is nested more than {MAX_DOCUMENT_NESTING} levels deep."
MSG_LIST_TOO_LONG = f"A list may hold at most {MAX_LIST_LENGTH} items."
MSG_TOO_MUCH_INPUT = "The document and its variables exceed the input budget of {limit} tokens."

# An escape pair, a block-string quote, a quote, a comment start, a line end or a bracket: one
# token at a time, left to right, so the scan is linear whatever the document holds.
_DOCUMENT_TOKEN = re.compile(r'\\.|"""|["#\n{}\[\]()]', re.DOTALL)


def _refused(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": BAD_USER_INPUT})


def document_nesting(document: str) -> int:
    """The deepest nesting of brackets outside strings and comments, found without recursion."""
    depth = deepest = 0
    inside: str | None = None  # '"', '"""' or '#' while in a string, block string or comment
    for match in _DOCUMENT_TOKEN.finditer(document):
        token = match.group()
        if inside == "#":
            inside = None if token == "\n" else inside
        elif inside is not None:
            inside = None if token == inside else inside
        elif token in ('"', '"""', "#"):
            inside = token
        elif token in "{[(":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "}])":
            depth -= 1
    return deepest


def _variable_cost(variables: dict[str, Any]) -> int:
    """Count the values in the variables, refusing a list longer than MAX_LIST_LENGTH."""
    pending = list(variables.values())
    count = 0
    while pending:
        value = pending.pop()
        count += 1
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            if len(value) > MAX_LIST_LENGTH:
                raise _refused(MSG_LIST_TOO_LONG)
            pending.extend(value)
    return count


class ListLengthLimit(ValidationRule):
    def enter_list_value(self, node: ListValueNode, *_args: Any) -> None:
        if len(node.values) > MAX_LIST_LENGTH:
            self.report_error(GraphQLError(MSG_LIST_TOO_LONG, node))


class InputBudget(SchemaExtension):
    """Nesting, list lengths and one token budget for the document and its variables together.

    Replaces strawberry's MaxTokensLimiter, which counts only the document's tokens: 15 aliases
    sharing one 300,000-item variable were a few dozen tokens.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        if document_nesting(context.query or "") > MAX_DOCUMENT_NESTING:
            raise _refused(MSG_TOO_DEEP)
        budget: int = settings.GRAPHQL_MAX_TOKENS
        remaining = budget - _variable_cost(context.variables or {})
        if remaining < 1:
            raise _refused(MSG_TOO_MUCH_INPUT.format(limit=budget))
        context.parse_options["max_tokens"] = remaining
        yield


# QueryDepthLimiter and MaxAliasesLimiter build new rule classes for every request, and the
# validation cache is keyed by the rules, so it never hit. Built once here, the rules are the
# same objects on every request.
ABUSE_GUARD_RULES = (
    *QueryDepthLimiter(max_depth=settings.GRAPHQL_MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES).validation_rules,
    ListLengthLimit,
)
