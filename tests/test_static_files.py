"""Static files served by WhiteNoise from the service itself, with DEBUG off as in production."""

from __future__ import annotations

import gzip

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client

from tests.conftest import run_in_fresh_process
from tests.page_assets import assert_served, page_assets

MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
PLAIN_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"
ONE_YEAR_OR_MORE = 365 * 24 * 60 * 60


def test_the_admin_login_page_is_styled_with_debug_off(client, settings):
    assert settings.DEBUG is False
    page = client.get("/admin/login/")

    assets = page_assets(page.content.decode())

    assert static("admin/css/base.css") in assets
    for url in assets:
        assert_served(client, url)


def test_the_browsable_api_is_styled_with_debug_off(api_client):
    page = api_client.get("/api/payouts/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200

    assets = page_assets(page.content.decode())

    assert static("rest_framework/css/bootstrap.min.css") in assets
    assert static("rest_framework/js/default.js") in assets
    for url in assets:
        assert_served(Client(), url)


def test_an_unknown_static_file_is_a_404(client):
    assert client.get(static("admin/css/no-such-file.css")).status_code == 404


@pytest.mark.parametrize(
    ("collected", "backend", "finders"),
    [("true", MANIFEST_STORAGE, "False"), ("", PLAIN_STORAGE, "True")],
)
def test_static_collected_chooses_collectstatics_files_or_the_apps(collected, backend, finders):
    shown = run_in_fresh_process(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.STORAGES['staticfiles']['BACKEND'], settings.WHITENOISE_USE_FINDERS)",
        DJANGO_SETTINGS_MODULE="project.settings",
        STATIC_COLLECTED=collected,
    )

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == [backend, finders]


def test_collected_files_are_served_compressed_under_hashed_names(settings, tmp_path):
    """What the image does: collectstatic at build, then STATIC_COLLECTED=true at run time."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    settings.WHITENOISE_USE_FINDERS = False
    # Every app's files, the vendored GraphiQL with its source maps included: a file that the
    # manifest cannot follow fails the image's build.
    call_command("collectstatic", interactive=False, verbosity=0)

    url = static("admin/css/base.css")
    served = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")

    assert url.startswith("/static/admin/css/base.")
    assert url != "/static/admin/css/base.css"
    assert served.status_code == 200
    assert served["Content-Type"].startswith("text/css")
    assert served["Content-Encoding"] == "gzip"
    assert b"body" in gzip.decompress(served.getvalue())
    max_age = int(served["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert max_age >= ONE_YEAR_OR_MORE
    assert "immutable" in served["Cache-Control"]
