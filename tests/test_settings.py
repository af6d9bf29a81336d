"""Start-up configuration: bad values stop the service with a message naming the variable."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import run_in_fresh_process

PRINT_BACKENDS = (
    "import project.settings as s; print(s.DATABASES['default']['ENGINE'], s.HUEY['huey_class'])"
)


def start(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh process, as `manage.py` or gunicorn would."""
    return run_in_fresh_process(PRINT_BACKENDS, **env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAYOUT_FAILURE_RATE": "2"}, "PAYOUT_FAILURE_RATE must be between 0.0 and 1.0, got '2'."),
        ({"PAYOUT_FAILURE_RATE": "often"}, "PAYOUT_FAILURE_RATE must be a number, got 'often'."),
        (
            {"PAYOUT_PROCESSING_DELAY_SECONDS": "-1"},
            "PAYOUT_PROCESSING_DELAY_SECONDS must be >= 0.0",
        ),
        (
            {"PAYOUT_RETRY_DELAY_SECONDS": "nan"},
            "PAYOUT_RETRY_DELAY_SECONDS must be a finite number",
        ),
        ({"PAYOUT_MAX_RETRIES": "-3"}, "PAYOUT_MAX_RETRIES must be at least 0, got -3."),
        ({"PAYOUT_MAX_RETRIES": "three"}, "PAYOUT_MAX_RETRIES must be an integer, got 'three'."),
        (
            {"PAYOUT_PROVIDER": "stripe"},
            "PAYOUT_PROVIDER must be simulated or http, got 'stripe'.",
        ),
        (
            {"PAYOUT_PROVIDER": "http"},
            "PAYOUT_PROVIDER_URL must be an http:// or https:// URL when PAYOUT_PROVIDER is http",
        ),
        (
            {"PAYOUT_PROVIDER": "http", "PAYOUT_PROVIDER_URL": "gateway:8900"},
            "PAYOUT_PROVIDER_URL must be an http:// or https:// URL",
        ),
        (
            {"PAYOUT_PROVIDER": "http", "PAYOUT_PROVIDER_URL": "https://"},
            "PAYOUT_PROVIDER_URL must be an http:// or https:// URL",
        ),
        (
            {"PAYOUT_PROVIDER_TIMEOUT_SECONDS": "0"},
            "PAYOUT_PROVIDER_TIMEOUT_SECONDS must be >= 0.1, got '0'.",
        ),
        (
            {
                "PAYOUT_PROVIDER": "http",
                "PAYOUT_PROVIDER_URL": "http://gateway",
                "PAYOUT_PROVIDER_TIMEOUT_SECONDS": "60",
            },
            "PAYOUT_PROCESSING_LEASE_SECONDS must be longer than a provider call plus the longest "
            "retry wait (300 s with these settings)",
        ),
        (
            {"PAYOUT_UNKNOWN_OUTCOME_RETRIES": "-1"},
            "PAYOUT_UNKNOWN_OUTCOME_RETRIES must be at least 0, got -1.",
        ),
        ({"PAYOUT_MAX_AMOUNT": "0"}, "PAYOUT_MAX_AMOUNT must be a positive decimal, got '0'."),
        ({"PAYOUT_MAX_AMOUNT": "10.001"}, "PAYOUT_MAX_AMOUNT allows at most 2 decimal places"),
        ({"PAYOUT_MAX_AMOUNT": "99999999999"}, "PAYOUT_MAX_AMOUNT must fit DecimalField(12, 2)"),
        ({"DATABASE_URL": "mysql://db/payouts"}, "DATABASE_URL must be a postgres:// URL"),
        ({"DATABASE_URL": "postgres://host:port/payouts"}, "DATABASE_URL has an invalid port"),
        ({"DATABASE_URL": "postgres://host"}, "DATABASE_URL must name a database"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must look like redis://host:6379/0"),
        ({"REDIS_URL": "redis://localhost:6379/zero"}, "REDIS_URL database must be a number"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false, got 'maybe'."),
        (
            {"SECURE_SSL_REDIRECT": "sometimes"},
            "SECURE_SSL_REDIRECT must be true or false, got 'sometimes'.",
        ),
        ({"SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS must be at least 0, got -1."),
        ({"SECURE_HSTS_PRELOAD": "maybe"}, "SECURE_HSTS_PRELOAD must be true or false"),
        (
            {"PAYOUT_PROCESSING_LEASE_SECONDS": "10"},
            "PAYOUT_PROCESSING_LEASE_SECONDS must be longer than a provider call plus the longest "
            "retry wait (125 s with these settings)",
        ),
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set when DEBUG is false"),
        (
            {"HUEY_WORKER_TYPE": "process"},
            "HUEY_WORKER_TYPE must be thread or greenlet, got 'process'.",
        ),
        ({"HUEY_WORKERS": "0"}, "HUEY_WORKERS must be at least 1, got 0."),
        ({"DATABASE_POOL_SIZE": "1"}, "DATABASE_POOL_SIZE must be at least 2, got 1."),
        ({"DATABASE_POOL_SIZE": "many"}, "DATABASE_POOL_SIZE must be an integer, got 'many'."),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(env, message):
    result = start(**env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_default_secret_key_is_accepted_in_debug():
    result = start(SECRET_KEY="", DEBUG="true")

    assert result.returncode == 0, result.stderr


def test_embedded_default_is_sqlite_with_huey_sqlite_storage():
    result = start()

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "huey.SqliteHuey"]


def test_urls_switch_to_postgresql_and_redis():
    result = start(DATABASE_URL="postgres://u:p@db:5432/payouts", REDIS_URL="redis://redis:6379/2")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "huey.RedisHuey"]


PRINT_CONSUMER = "import project.settings as s; print(s.HUEY['consumer']['worker_type'])"


def test_the_consumer_runs_threads_unless_told_otherwise():
    result = run_in_fresh_process(PRINT_CONSUMER)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["thread"]


def test_huey_worker_type_picks_greenlet_workers():
    result = run_in_fresh_process(PRINT_CONSUMER, HUEY_WORKER_TYPE="greenlet")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["greenlet"]


PRINT_DATABASE = (
    "import project.settings as s; d = s.DATABASES['default']; "
    "print(d.get('CONN_MAX_AGE'), d.get('CONN_HEALTH_CHECKS'), d['OPTIONS'].get('pool'))"
)


def test_postgresql_connections_come_from_a_pool_of_database_pool_size_less_the_stats_recorder():
    result = run_in_fresh_process(
        PRINT_DATABASE, DATABASE_URL="postgres://u@db/payouts", DATABASE_POOL_SIZE="7"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 True {'min_size': 1, 'max_size': 6, 'timeout': 10.0}"


def test_the_pool_holds_nineteen_connections_by_default_beside_the_stats_recorder():
    result = run_in_fresh_process(PRINT_DATABASE, DATABASE_URL="postgres://u@db/payouts")

    assert result.returncode == 0, result.stderr
    assert "'max_size': 19" in result.stdout


def test_sqlite_has_no_pool():
    result = run_in_fresh_process(PRINT_DATABASE, DATABASE_POOL_SIZE="7")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "None"


def test_the_live_layer_of_each_redis_database_has_its_own_channels() -> None:
    """Redis's pub/sub is one for the whole server: two deployments on two databases of one
    Redis must not hear each other's payouts."""
    prefixes = {
        url: run_in_fresh_process(
            "import project.settings as s; print(s.CHANNEL_LAYERS['default']['CONFIG']['prefix'])",
            REDIS_URL=url,
            DEBUG="true",
        ).stdout.strip()
        for url in ("redis://127.0.0.1:6379/3", "redis://127.0.0.1:6379/4")
    }

    assert prefixes == {
        "redis://127.0.0.1:6379/3": "payouts-live-db3",
        "redis://127.0.0.1:6379/4": "payouts-live-db4",
    }
