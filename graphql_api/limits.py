"""The abuse guards of /graphql/: what a request may cost before any of it runs.

Before parsing, the document is read token by token (graphql-core's lexer, which loops rather
than recurses): its tokens and the values in its variables share one budget, and its brackets
may nest only so deep. After parsing and before validation, fragments may not chain past that
depth or expand past the budget, and a list may hold only so many items, inline or in a
variable; number literals are bounded too. Then the validation rules: depth, aliases and list
literals.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, NamedTuple

from django.conf import settings
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    TokenKind,
    ValidationRule,
    get_nullable_type,
    type_from_ast,
)
from graphql.language import Lexer
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension

from graphql_api.errors import bad_user_input

# graphql-core's parser recurses a few frames per `{`, `[` or `(`; Python's stack ends near
# 1,000 frames. A real query nests well under this; fragment chains count the same.
MAX_DOCUMENT_NESTING = 32
# The most items one list (an inList filter, say) may hold, in the document or in variables.
MAX_LIST_LENGTH = 100
# Digits of a number literal: Python refuses to read an int past 4,300 of them.
MAX_NUMBER_LENGTH = 64

MSG_TOO_DEEP = f"The document is nested more than {MAX_DOCUMENT_NESTING} levels deep."
MSG_LIST_TOO_LONG = f"A list may hold at most {MAX_LIST_LENGTH} items."
MSG_NUMBER_TOO_LONG = f"A number may have at most {MAX_NUMBER_LENGTH} characters."
MSG_TOO_MUCH_INPUT = "The document and its variables exceed the input budget of {limit} tokens."
MSG_TOO_MANY_FIELDS = "The document's fragments expand to more than {limit} fields."
MSG_FRAGMENT_CYCLE = "Fragments must not spread each other in a cycle."
MSG_UNKNOWN_FRAGMENT = 'Unknown fragment "{name}".'

_OPENING = frozenset({TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L})
_CLOSING = frozenset({TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R})
_NUMBERS = frozenset({TokenKind.INT, TokenKind.FLOAT})


@lru_cache(maxsize=256)
def document_shape(document: str, max_tokens: int) -> tuple[int, int, int]:
    """(tokens, deepest nesting, longest number) of a document, reading max_tokens + 1 tokens
    at most.

    Cached like the parser's own cache: clients send the same few documents again and again. A
    syntax error ends the count; the parser reports it.
    """
    lexer = Lexer(Source(document))
    tokens = depth = deepest = longest_number = 0
    try:
        while tokens <= max_tokens:
            token = lexer.advance()
            if token.kind is TokenKind.EOF:
                break
            tokens += 1
            if token.kind in _OPENING:
                depth += 1
                deepest = max(deepest, depth)
            elif token.kind in _CLOSING:
                depth -= 1
            elif token.kind in _NUMBERS:
                longest_number = max(longest_number, token.end - token.start)
    except GraphQLSyntaxError:
        pass
    return tokens, deepest, longest_number


def _value_count(variables: dict[str, Any]) -> int:
    pending = list(variables.values())
    count = 0
    while pending:
        value = pending.pop()
        count += 1
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return count


def _check_variable_lists(
    schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]
) -> None:
    """Refuse a variable list longer than MAX_LIST_LENGTH where the schema expects a list.

    Walked with the variable's declared type, so a list inside a JSON value (recipientDetails)
    is left to the domain's rules, as REST leaves it.
    """
    pending: list[tuple[Any, GraphQLInputType]] = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for variable in definition.variable_definitions or ():
            declared = type_from_ast(schema, variable.type)
            name = variable.variable.name.value
            if declared is not None and name in variables:
                pending.append((variables[name], declared))  # type: ignore[arg-type]
    while pending:
        value, declared = pending.pop()
        expected = get_nullable_type(declared) if isinstance(declared, GraphQLNonNull) else declared
        if isinstance(expected, GraphQLList) and isinstance(value, list):
            if len(value) > MAX_LIST_LENGTH:
                raise bad_user_input(MSG_LIST_TOO_LONG)
            pending.extend((item, expected.of_type) for item in value)
        elif isinstance(expected, GraphQLInputObjectType) and isinstance(value, dict):
            pending.extend(
                (item, expected.fields[key].type)
                for key, item in value.items()
                if key in expected.fields
            )


class _Shape(NamedTuple):
    fields: int  # fields written in the selection set
    levels: int  # how deep its selection sets (fields and inline fragments) nest
    spreads: list[tuple[str, int]]  # each fragment spread, with the level it sits at


def _shape(selection_set: SelectionSetNode) -> _Shape:
    """A selection set's fields, nesting and spreads, found without recursion."""
    fields = levels = 0
    spreads: list[tuple[str, int]] = []
    pending = [(selection_set, 1)]
    while pending:
        current, level = pending.pop()
        levels = max(levels, level)
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                spreads.append((selection.name.value, level))
                continue
            fields += isinstance(selection, FieldNode)
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append((selection.selection_set, level + 1))
    return _Shape(fields, levels, spreads)


def _expand(shape: _Shape, expanded: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """(fields, nesting) of a shape once the fragments it spreads are put in place. A spread
    counts as a level: the validation rules recurse into each one."""
    known = [(expanded[name], level) for name, level in shape.spreads]
    fields = shape.fields + sum(size for (size, _), _ in known)
    levels = max([shape.levels, *(level + depth for (_, depth), level in known)])
    return fields, levels


def _check_fragments(document: DocumentNode, budget: int) -> None:
    """Refuse fragments that are unknown, cycle, nest too deep once expanded, or expand past
    the budget, before graphql-core and strawberry's rules walk them.

    Those rules expand every spread again each time it appears, recursively: 20 fragments
    spreading the next one twice took seconds to validate, a chain of 240 ran out of stack, and
    an unknown fragment was a KeyError.
    """
    shapes = {
        definition.name.value: _shape(definition.selection_set)
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    for shape in shapes.values():
        for name, _ in shape.spreads:
            if name not in shapes:
                raise bad_user_input(MSG_UNKNOWN_FRAGMENT.format(name=name))
    expanded: dict[str, tuple[int, int]] = {}  # fields and nesting after expansion
    for start in shapes:
        path: set[str] = set()
        stack = [(start, False)]
        while stack:
            name, spreads_done = stack.pop()
            if name in expanded:
                continue
            if spreads_done:
                path.discard(name)
                fields, levels = _expand(shapes[name], expanded)
                if levels > MAX_DOCUMENT_NESTING:
                    raise bad_user_input(MSG_TOO_DEEP)
                expanded[name] = (min(fields, budget + 1), levels)
                continue
            if name in path:
                raise bad_user_input(MSG_FRAGMENT_CYCLE)
            path.add(name)
            stack.append((name, True))
            stack.extend((spread, False) for spread, _ in shapes[name].spreads)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            operation = _shape(definition.selection_set)
            for name, _ in operation.spreads:
                if name not in shapes:
                    raise bad_user_input(MSG_UNKNOWN_FRAGMENT.format(name=name))
            fields, levels = _expand(operation, expanded)
            if levels > MAX_DOCUMENT_NESTING:
                raise bad_user_input(MSG_TOO_DEEP)
            if fields > budget:
                raise bad_user_input(MSG_TOO_MANY_FIELDS.format(limit=budget))


class AbuseGuards(SchemaExtension):
    """One budget for the document's tokens and its variables' values, nesting, fragments and
    list lengths, and the validation rules of ABUSE_GUARD_RULES. The budget replaces
    strawberry's MaxTokensLimiter, which counts only the document's tokens: 15 aliases sharing
    one 300,000-item variable were a few dozen tokens.

    All of it before the document is parsed (ParserCache, after this extension, parses in its
    own hook), rather than around the operation as strawberry's AddValidationRules does: a
    subscription keeps each operation hook, about 1 KB, for its whole life (make bench: memory
    per subscribed connection)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *ABUSE_GUARD_RULES)
        budget: int = settings.GRAPHQL_MAX_TOKENS
        tokens, nesting, longest_number = document_shape(context.query or "", budget)
        if nesting > MAX_DOCUMENT_NESTING:
            raise bad_user_input(MSG_TOO_DEEP)
        if longest_number > MAX_NUMBER_LENGTH:
            raise bad_user_input(MSG_NUMBER_TOO_LONG)
        if tokens + _value_count(context.variables or {}) > budget:
            raise bad_user_input(MSG_TOO_MUCH_INPUT.format(limit=budget))
        # The parser's own limit, the same on every request so its cache keeps hitting.
        context.parse_options["max_tokens"] = budget
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            _check_fragments(document, settings.GRAPHQL_MAX_TOKENS)
            _check_variable_lists(context.schema._schema, document, context.variables or {})
        yield


class ListLengthLimit(ValidationRule):
    """A list literal where the schema expects a list holds MAX_LIST_LENGTH items at most."""

    def enter_list_value(self, node: ListValueNode, *_args: Any) -> None:
        # The type info has stepped into the list already: its own type is the parent's.
        expected = get_nullable_type(self.context.get_parent_input_type())
        if isinstance(expected, GraphQLList) and len(node.values) > MAX_LIST_LENGTH:
            self.report_error(bad_user_input(MSG_LIST_TOO_LONG, node))


# QueryDepthLimiter and MaxAliasesLimiter build new rule classes for every request, and the
# validation cache is keyed by the rules, so it never hit. Built once here, the rules are the
# same objects on every request.
ABUSE_GUARD_RULES = (
    *QueryDepthLimiter(max_depth=settings.GRAPHQL_MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES).validation_rules,
    ListLengthLimit,
)
