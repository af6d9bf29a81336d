"""The GitHub workflow runs what .ci/run runs, through the same make targets, and is valid."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def make_targets(commands: list[str]) -> set[str]:
    """The targets of every `make ...` in these shell commands."""
    targets: set[str] = set()
    for command in commands:
        # make as a command: at a line's start or after ; & | or (, maybe after VAR=value.
        pattern = r"(?m)(?:^|[;&|(])\s*(?:[A-Z_]+=\S+\s+)*make\s+([^\n;&|)]+)"
        for invocation in re.findall(pattern, command):
            targets |= {word for word in invocation.split() if re.fullmatch(r"[a-z-]+", word)}
    return targets


def prerequisites(target: str) -> set[str]:
    """The phony prerequisites of `target` in the Makefile, or the target itself if it has none."""
    rule = re.search(rf"(?m)^{re.escape(target)}:([^#\n]*)", (ROOT / "Makefile").read_text())
    assert rule is not None, f"no rule for {target} in the Makefile"
    named = {word for word in rule[1].split() if re.fullmatch(r"[a-z-]+", word)}
    return named - {"install"} or {target}


def test_the_workflow_has_a_job_for_each_kind_of_check():
    jobs = workflow()["jobs"]

    assert {"lint", "types", "hadolint", "test", "image"} <= set(jobs)
    assert "make typecheck" in runs(jobs["types"])
    assert "make lint-docker" in runs(jobs["hadolint"])
    assert any(run.startswith("docker build") for run in runs(jobs["image"]))


def test_every_make_target_of_ci_run_runs_in_the_workflow():
    ci_run = (ROOT / ".ci" / "run").read_text()
    in_workflow = make_targets([run for job in workflow()["jobs"].values() for run in runs(job)])

    for target in make_targets([ci_run]):
        assert prerequisites(target) <= in_workflow, f"make {target} of .ci/run"


def test_the_tests_run_on_postgresql_and_redis_with_ci_set():
    document = workflow()
    job = document["jobs"]["test"]

    assert {"postgres", "redis"} <= set(job["services"])
    assert document["env"]["CI"] == "true"
    assert job["env"]["TEST_DATABASE_URL"].startswith("postgres://postgres@postgres:5432/")
    assert job["env"]["TEST_REDIS_URL"].startswith("redis://redis:6379/")
    assert "make test" in runs(job)


def test_the_browser_test_gets_debians_chromium_and_its_screenshots_are_kept():
    job = workflow()["jobs"]["test"]
    uploads = [step for step in job["steps"] if step.get("uses", "").startswith("actions/upload")]
    upload = uploads[0]

    assert job["container"].endswith("-bookworm")
    assert any("apt-get install" in run and "chromium" in run for run in runs(job))
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "artifacts/"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    validator = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(validator), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_workflow_follows_githubs_schema():
    checked = validate(WORKFLOW)

    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("good", "bad"), [("    runs-on:", "    run-on:"), ("      - uses:", "      - use:")]
)
def test_the_schema_check_catches_a_misspelt_key(tmp_path, good, bad):
    broken = tmp_path / "ci.yml"
    broken.write_text(WORKFLOW.read_text().replace(good, bad, 1))

    assert validate(broken).returncode == 1
