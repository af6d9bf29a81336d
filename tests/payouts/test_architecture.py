"""Dependencies point one way: the domain never imports either API or their libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "payouts"
FORBIDDEN = (
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "strawberry",
    "strawberry_django",
    "rest_api",
    "graphql_api",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path", sorted(DOMAIN.rglob("*.py")), ids=lambda p: str(p.relative_to(DOMAIN))
)
def test_domain_module_imports_no_api_package(path):
    offending = {name for name in imported_modules(path) if name.split(".")[0] in FORBIDDEN}

    assert offending == set()
