"""docker-compose.yml, read without a Docker engine: the rules of the stack it starts."""

from __future__ import annotations

import re
import shlex
import subprocess
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, run_in_fresh_process
from tests.test_image import procfile
from tests.test_packaging import check_compose_file

APP_SERVICES = ["migrate", "web", "worker", "webhooks"]
LONG_RUNNING = ["web", "worker", "webhooks", "db", "redis"]
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$")
INTERPOLATION = re.compile(r"^\$\{[A-Z_]+(:?\?[^}]*)?\}$")
URL_PASSWORD = re.compile(r"://[^:/@]+:(?P<password>[^@]*)@")


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def seconds(duration: str) -> float:
    """A compose duration such as 45s or 1m30s, in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", duration)
    assert "".join(number + unit for number, unit in parts) == duration
    return sum(float(number) * units[unit] for number, unit in parts)


def test_the_stack_holds_the_service_its_database_its_queue_and_a_migration():
    assert set(compose()["services"]) == {"migrate", "web", "worker", "webhooks", "db", "redis"}


@pytest.mark.parametrize("name", ["web", "worker", "webhooks"])
def test_web_and_worker_run_the_procfiles_commands(name):
    assert shlex.split(service(name)["command"]) == shlex.split(procfile()[name])


def test_migrate_runs_once_when_the_database_is_ready():
    migrate = service("migrate")

    assert shlex.split(migrate["command"]) == ["python", "manage.py", "migrate", "--no-input"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", ["web", "worker", "webhooks"])
def test_web_and_worker_start_after_the_migration_succeeded(name):
    depends_on = service(name)["depends_on"]

    assert depends_on["migrate"] == {"condition": "service_completed_successfully"}
    assert depends_on["redis"] == {"condition": "service_healthy"}


def test_no_service_has_a_fixed_container_name():
    assert [name for name, spec in compose()["services"].items() if "container_name" in spec] == []


@pytest.mark.parametrize("name", ["worker", "webhooks"])
def test_the_consumers_scale_without_a_host_port(name):
    assert "ports" not in service(name)


def test_the_web_port_on_the_host_is_a_knob():
    assert service("web")["ports"] == ["${WEB_PORT:-8000}:8000"]


def test_the_worker_is_given_longer_to_stop_than_hueys_shutdown_timeout():
    default = run_in_fresh_process(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.HUEY['consumer']['shutdown_timeout'])",
        DJANGO_SETTINGS_MODULE="project.settings",
    )
    assert default.returncode == 0, default.stderr
    worker = service("worker")

    assert "HUEY_SHUTDOWN_TIMEOUT" not in worker["environment"]
    assert seconds(worker["stop_grace_period"]) > float(default.stdout)


def test_the_webhooks_consumer_is_given_longer_to_stop_than_its_shutdown_timeout():
    default = run_in_fresh_process(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.WEBHOOK_SHUTDOWN_TIMEOUT)",
        DJANGO_SETTINGS_MODULE="project.settings",
    )
    assert default.returncode == 0, default.stderr
    webhooks = service("webhooks")

    assert "WEBHOOK_SHUTDOWN_TIMEOUT" not in webhooks.get("environment", {})
    assert seconds(webhooks["stop_grace_period"]) > float(default.stdout)


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck(name):
    check = service(name)["healthcheck"]

    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    if check["test"][1:3] == ["python", "-c"]:
        compile(check["test"][3], f"{name} healthcheck", "exec")


def test_the_workers_healthcheck_reads_its_metrics():
    worker = service("worker")

    assert worker["environment"]["WORKER_METRICS_PORT"] == "9100"
    assert "http://127.0.0.1:9100/metrics" in worker["healthcheck"]["test"][3]


def test_the_web_healthcheck_asks_healthz():
    assert "http://127.0.0.1:8000/healthz" in service("web")["healthcheck"]["test"][3]


def test_the_database_keeps_its_data_in_a_named_volume():
    (volume,) = service("db")["volumes"]
    name, path = volume.split(":")

    assert path == "/var/lib/postgresql/data"
    assert name in compose()["volumes"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_the_service_reads_its_settings_from_the_env_file(name):
    assert service(name)["env_file"] == ".env"


def environment_values() -> list[tuple[str, str, str]]:
    return [
        (name, variable, str(value))
        for name, spec in compose()["services"].items()
        for variable, value in spec.get("environment", {}).items()
    ]


def test_the_compose_file_turns_no_debug_on():
    assert [entry for entry in environment_values() if entry[1] == "DEBUG"] == []


def test_the_compose_file_holds_no_secret():
    for name, variable, value in environment_values():
        if SECRET_NAMES.search(variable):
            assert INTERPOLATION.match(value), (name, variable)
        if password := URL_PASSWORD.search(value):
            assert INTERPOLATION.match(password["password"]), (name, variable)


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


@pytest.mark.parametrize("name", ["SECRET_KEY", "POSTGRES_PASSWORD", "METRICS_TOKEN"])
def test_the_env_example_names_each_secret_and_holds_none(name):
    assert env_example()[name] == ""


def test_the_env_example_names_every_variable_the_compose_file_requires():
    required = set(re.findall(r"\$\{([A-Z_]+):\?", (ROOT / "docker-compose.yml").read_text()))

    assert required
    assert required <= set(env_example())


def test_the_env_example_keeps_the_healthchecks_host_allowed():
    assert "127.0.0.1" in env_example()["ALLOWED_HOSTS"].split(",")


@pytest.mark.parametrize("path", [".env", "docker-compose.override.yml"])
def test_local_settings_files_are_never_committed(path):
    ignored = subprocess.run(["git", "check-ignore", "--quiet", path], cwd=ROOT, check=False)

    assert ignored.returncode == 0


def test_the_development_override_example_follows_the_compose_specification():
    checked = check_compose_file(ROOT / "docker-compose.override.example.yml")

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_env_example_turns_no_debug_on():
    assert "DEBUG" not in env_example()
