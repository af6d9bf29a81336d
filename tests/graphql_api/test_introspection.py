"""Introspection of /graphql/ follows the spec and loads in clients on graphql-core 3.2 and 3.3."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from graphql import build_client_schema, get_introspection_query

import graphql_api
from graphql_api.schema import print_schema_with_built_in_directives
from tests.conftest import ROOT

COMMITTED_SDL = (Path(graphql_api.__file__).parent / "schema.graphql").read_text()

# gql 3.5, still the most pinned Python client, requires graphql-core<3.2.7.
GRAPHQL_CORE_3_2 = "3.2.6"

# Run by graphql-core 3.2: "query" prints the introspection query it sends with every option it
# has; "sdl" builds a client schema from the introspection result on stdin and prints it with
# the built-in directives, as print_schema_with_built_in_directives does.
CLIENT_3_2 = """
import json, sys
import graphql
from graphql.utilities.print_schema import print_directive

if sys.argv[1] == "query":
    output = graphql.get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
else:
    schema = graphql.build_client_schema(json.load(sys.stdin))
    built_ins = [
        print_directive(directive)
        for directive in schema.directives
        if graphql.is_specified_directive(directive)
    ]
    output = "\\n\\n".join([*built_ins, graphql.print_schema(schema)]) + "\\n"
print(json.dumps({"version": graphql.__version__, "output": output}))
"""


def uv_executable() -> str:
    """Found as the Makefile finds it: uv on PATH, else the one `make` installs in .tools/."""
    return shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")


def run_client_3_2(mode: str, stdin: str = "") -> str:
    """What CLIENT_3_2 prints in `mode`, run by an interpreter that has graphql-core 3.2."""
    command = [
        uv_executable(),
        "run",
        "--no-project",
        "--isolated",
        "--with",
        f"graphql-core=={GRAPHQL_CORE_3_2}",
        "python",
        "-c",
        CLIENT_3_2,
        mode,
    ]
    completed = subprocess.run(
        command, input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=90
    )
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["version"] == GRAPHQL_CORE_3_2
    output: str = answer["output"]
    return output


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


def test_current_client_builds_the_committed_sdl_from_introspection(graphql):
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )

    body = graphql(query)

    assert "errors" not in body
    client_schema = build_client_schema(body["data"])
    assert print_schema_with_built_in_directives(client_schema) == COMMITTED_SDL


def test_graphql_core_3_2_client_builds_the_committed_sdl_from_introspection(graphql):
    query = run_client_3_2("query")

    body = graphql(query)

    assert "errors" not in body
    sdl = run_client_3_2("sdl", stdin=json.dumps(body["data"]))
    # graphql-core 3.2 predates OneOf input objects: it loads the @oneOf definition like any
    # directive but cannot mark an input with it, so that mark is all its SDL lacks.
    assert sdl == COMMITTED_SDL.replace(" @oneOf {", " {")
