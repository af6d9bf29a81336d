"""The Dockerfile, read by Docker's own parser (no engine needed): the rules of the image."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest

from tests.conftest import ROOT, fresh_environment
from tests.test_packaging import ignore_patterns, in_build_context

BUILD_TOOLS = ("uv ", "pip install", "apt-get", "apk ", "gcc", "build-essential", "make ")


def procfile() -> dict[str, str]:
    """The Procfile's processes: name to command."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    entries = (line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {name.strip(): command.strip() for name, command in entries}


def stages() -> list[list[dockerfile.Command]]:
    """The image's stages in order, each a list of its instructions (FROM first)."""
    found: list[list[dockerfile.Command]] = []
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd == "FROM":
            found.append([])
        found[-1].append(command)
    return found


def final_stage() -> list[dockerfile.Command]:
    return stages()[-1]


def instructions(stage: list[dockerfile.Command], cmd: str) -> list[dockerfile.Command]:
    return [command for command in stage if command.cmd == cmd]


def env(stage: list[dockerfile.Command]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for command in instructions(stage, "ENV"):
        pairs |= dict(zip(command.value[::2], command.value[1::2], strict=True))
    return pairs


def test_the_image_is_built_in_a_build_stage_and_run_from_another():
    builder, runtime = stages()

    assert builder[0].value[1:] == ("AS", "builder")
    # The environment built in one is run in the other: the same Python at the same path.
    assert runtime[0].value[0] == builder[0].value[0]
    assert runtime[0].value[0].endswith("-slim")


def test_the_environment_is_built_from_the_lock_without_dev_dependencies():
    builder = stages()[0]
    runs = [command.value[0] for command in instructions(builder, "RUN")]
    syncs = [shlex.split(run) for run in runs if "uv sync" in run]

    assert any("uv.lock" in command.value for command in instructions(builder, "COPY"))
    assert len(syncs) == 1
    assert "--frozen" in syncs[0]
    assert "--no-dev" in syncs[0]
    assert not {"--all-groups", "--group", "--dev"} & set(syncs[0])
    assert env(builder)["UV_PROJECT_ENVIRONMENT"] == "/opt/venv"


def test_the_final_stage_copies_the_environment_and_holds_no_build_tool():
    runtime = final_stage()
    copied = [(command.flags, command.value) for command in instructions(runtime, "COPY")]

    assert (("--from=builder",), ("/opt/venv", "/opt/venv")) in copied
    assert all(flags in {(), ("--from=builder",)} for flags, _ in copied)
    for command in instructions(runtime, "RUN"):
        assert not [tool for tool in BUILD_TOOLS if tool in command.value[0]], command.original


def test_the_final_stage_runs_as_an_unprivileged_user():
    users = instructions(final_stage(), "USER")

    assert users
    user = users[-1].value[0].split(":")[0]
    assert user.isdigit()
    assert int(user) != 0


def test_the_image_checks_its_own_health_over_http():
    (check,) = instructions(final_stage(), "HEALTHCHECK")

    assert check.value[:3] == ("CMD", "python", "-c")
    assert "/healthz" in check.value[3]
    compile(check.value[3], "HEALTHCHECK", "exec")


def test_the_image_runs_the_procfiles_web_command():
    runtime = final_stage()
    (command,) = instructions(runtime, "CMD")

    assert command.json
    assert list(command.value) == shlex.split(procfile()["web"])
    assert instructions(runtime, "ENTRYPOINT") == []


@pytest.mark.parametrize(
    ("name", "value"), [("PORT", "8000"), ("WEB_CONCURRENCY", "3"), ("STATIC_COLLECTED", "true")]
)
def test_the_image_sets_its_defaults(name, value):
    assert env(final_stage())[name] == value


def test_the_image_collects_its_static_files_when_built():
    runs = [command.value[0] for command in instructions(final_stage(), "RUN")]

    assert any("manage.py collectstatic --no-input" in run for run in runs)


@pytest.mark.parametrize("path", [".env", "docker-compose.override.yml", "staticfiles/x.css"])
def test_local_secrets_and_state_never_reach_the_build(path):
    assert not in_build_context(path, ignore_patterns())


def test_the_build_leaves_no_database_file_in_the_image():
    """Loading the settings creates Huey's SQLite files in DATA_DIR: collectstatic's are thrown
    away in the same step, not left root-owned where a container's own would go."""
    runs = [command.value[0] for command in instructions(final_stage(), "RUN")]
    (collect,) = [run for run in runs if "collectstatic" in run]
    data_dir = re.search(r"DATA_DIR=(\S+)", collect)

    assert data_dir is not None
    assert not data_dir[1].startswith("/app")
    assert f"rm -rf {data_dir[1]}" in collect


def test_the_procfiles_web_takes_its_port_and_worker_count_from_the_environment():
    command = [*shlex.split(procfile()["web"]), "--print-config"]
    command[0] = str(Path(sys.executable).with_name(command[0]))

    printed = subprocess.run(
        command,
        cwd=ROOT,
        env=fresh_environment(PORT="9123", WEB_CONCURRENCY="3"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout

    assert re.search(r"^bind\s+= \['0\.0\.0\.0:9123'\]$", printed, re.MULTILINE)
    assert re.search(r"^workers\s+= 3$", printed, re.MULTILINE)
