"""Packaging checked without a Docker engine: the image's build context and the compose file."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import PurePosixPath

from tests.conftest import ROOT


def ignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def in_build_context(path: str, patterns: list[str]) -> bool:
    """Whether Docker sends `path` to the build, for the plain patterns this project uses."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: end + 1]) for end in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return False
        elif any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            return False
    return True


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return listed.stdout.splitlines()


def test_the_build_context_holds_the_product_and_nothing_else():
    patterns = ignore_patterns()
    sent = {path for path in tracked_files() if in_build_context(path, patterns)}

    top_level = {PurePosixPath(path).parts[0] for path in sent}
    assert {"manage.py", "pyproject.toml", "uv.lock", "project", "payouts"} <= top_level
    assert {"rest_api", "graphql_api"} <= top_level
    assert top_level.isdisjoint({"tests", "benchmarks", "data", ".ci", ".venv", ".tools"})


def check_compose_file(path) -> subprocess.CompletedProcess[str]:
    validator = PurePosixPath(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(validator), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_compose_file_follows_the_compose_specification():
    checked = check_compose_file(ROOT / "docker-compose.yml")

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_compose_check_catches_a_misspelt_key(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    compose = (ROOT / "docker-compose.yml").read_text()
    broken.write_text(compose.replace("    command:", "    comand:", 1))

    checked = check_compose_file(broken)

    assert checked.returncode == 1
    assert "'comand' was unexpected" in checked.stdout
