"""HTTPS in production: Django's deployment checklist, the redirect, HSTS and security headers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management.utils import get_random_secret_key

from tests.conftest import run_in_fresh_process

CHECK_DEPLOY = """
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
"""

# What a client sees of a path that needs no database, over plain HTTP and over HTTPS.
SERVED = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client
plain = Client().get("/api/missing/")
secure = Client().get("/api/missing/", secure=True)
print(json.dumps({
    "status": plain.status_code,
    "location": plain.get("Location"),
    "hsts": secure.get("Strict-Transport-Security"),
    "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
}))
"""

ONE_YEAR_HSTS = "max-age=31536000; includeSubDomains; preload"


def served(**env: str) -> dict[str, Any]:
    """Start the service's settings in a fresh process with `env` and request one path."""
    result = run_in_fresh_process(SERVED, DJANGO_SETTINGS_MODULE="project.settings", **env)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


# The settings as a deployment gets them


def test_check_deploy_passes_with_only_debug_secret_key_and_allowed_hosts():
    result = run_in_fresh_process(
        CHECK_DEPLOY,
        DJANGO_SETTINGS_MODULE="project.settings",
        DEBUG="false",
        SECRET_KEY=get_random_secret_key(),
        ALLOWED_HOSTS="payouts.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_redirects_plain_http_to_https_by_default():
    answer = served()

    assert (answer["status"], answer["location"]) == (301, "https://testserver/api/missing/")


def test_secure_ssl_redirect_false_turns_the_redirect_off():
    answer = served(SECURE_SSL_REDIRECT="false")

    assert (answer["status"], answer["location"]) == (404, None)


def test_production_sends_hsts_for_a_year_with_subdomains_and_preload():
    answer = served()

    assert answer["hsts"] == ONE_YEAR_HSTS


def test_hsts_variables_override_the_production_defaults():
    answer = served(
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="false",
    )

    assert answer["hsts"] == "max-age=600"


def test_production_cookies_are_secure_only():
    answer = served()

    assert answer["secure_cookies"] == [True, True]


def test_debug_serves_plain_http_without_redirect_hsts_or_secure_cookies():
    answer = served(DEBUG="true")

    assert (answer["status"], answer["location"]) == (404, None)
    assert answer["hsts"] is None
    assert answer["secure_cookies"] == [False, False]


# Requests under the redirect (the tests' own settings are production's, without the redirect)


@pytest.fixture
def redirecting(settings):
    settings.SECURE_SSL_REDIRECT = True


def test_plain_http_request_to_the_api_is_redirected_to_https(client, db, redirecting):
    response = client.get("/api/payouts/?status=PENDING")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/api/payouts/?status=PENDING"


def test_request_forwarded_as_https_is_served_without_redirect(keyed_client, redirecting):
    response = keyed_client.get("/api/payouts/", headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_probes_are_served_over_plain_http(client, db, redirecting, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_secure_response_carries_hsts_in_production(keyed_client):
    response = keyed_client.get("/api/payouts/", secure=True)

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == ONE_YEAR_HSTS


# Headers on every response


def test_responses_forbid_content_type_sniffing(client):
    response = client.get("/healthz")

    assert response["X-Content-Type-Options"] == "nosniff"


def test_responses_carry_a_same_origin_referrer_policy(client):
    response = client.get("/healthz")

    assert response["Referrer-Policy"] == "same-origin"


def test_responses_forbid_framing(client):
    response = client.get("/healthz")

    assert response["X-Frame-Options"] == "DENY"
