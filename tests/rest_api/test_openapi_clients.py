"""A client that openapi-python-client generates from the served document works against a live
server: several statuses and several sort keys arrive as the caller gave them."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from payouts.selectors import PAYOUT_PAGE_MAX

PACKAGE = "payouts_client"


@pytest.fixture(scope="module")
def generated(live_server, tmp_path_factory, django_db_blocker) -> Iterator[ModuleType]:
    """The generated package, imported. Generation that fails or warns fails the test: a
    generator that cannot run must never turn into a skip."""
    root = tmp_path_factory.mktemp("generated")
    config = root / "generator.yaml"
    # No formatting step: it would need ruff on PATH and changes nothing the test looks at.
    config.write_text("post_hooks: []\n")
    command = [
        *(sys.executable, "-m", "openapi_python_client", "generate"),
        *("--url", f"{live_server.url}/api/schema/"),
        *("--meta", "none", "--output-path", str(root / PACKAGE)),
        *("--config", str(config), "--fail-on-warning"),
    ]
    # Serving the schema reads no table, but each request checks its database connection.
    with django_db_blocker.unblock():
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"generation failed:\n{result.stdout}\n{result.stderr}"
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture
def client(generated, live_server, owner):
    """The generated client as a client system uses it: with its API key as the bearer token."""
    return generated.AuthenticatedClient(
        base_url=live_server.url, token=owner.key, raise_on_unexpected_status=True
    )


def _names(page, sortable_payouts) -> list[str]:
    by_id = {payout.id: name for name, payout in sortable_payouts.items()}
    return [by_id[row.id] for row in page.results]


def test_generated_client_sends_several_statuses_and_sort_keys_in_order(client, sortable_payouts):
    models = _module("models")
    payouts_list = _module("api.payouts.payouts_list")
    status, ordering = models.PayoutsListStatusItem, models.PayoutsListOrderingItem

    page = payouts_list.sync(
        client=client,
        status=[status.PENDING, status.FAILED],
        ordering=[ordering.AMOUNT_DESC, ordering.CREATED_AT],
    )

    assert isinstance(page, models.PaginatedPayoutList)
    assert _names(page, sortable_payouts) == ["c", "e", "a", "b"]
    assert (page.count, page.next_, page.previous) == (4, None, None)


def test_generated_client_pages_with_next_links(client, live_server, sortable_payouts):
    payouts_list = _module("api.payouts.payouts_list")
    ordering = _module("models").PayoutsListOrderingItem

    first = payouts_list.sync(
        client=client, ordering=[ordering.CREATED_AT, ordering.AMOUNT], page_size=3
    )
    second = payouts_list.sync(
        client=client, ordering=[ordering.CREATED_AT, ordering.AMOUNT], page_size=3, page=2
    )

    assert _names(first, sortable_payouts) == ["a", "b", "c"]
    assert first.next_ == (
        f"{live_server.url}/api/payouts/?ordering=created_at&ordering=amount&page=2&page_size=3"
    )
    assert _names(second, sortable_payouts) == ["d", "e"]
    assert second.next_ is None


def test_generated_client_reads_a_refused_parameter_as_the_documented_400(client, sortable_payouts):
    payouts_list = _module("api.payouts.payouts_list")

    response = payouts_list.sync_detailed(client=client, page_size=PAYOUT_PAGE_MAX + 1)

    assert response.status_code == 400
    error = response.parsed
    assert (error.detail, error.code.value) == ("Invalid input.", "invalid")
    assert [(item.field, item.code.value, item.message) for item in error.errors] == [
        ("page_size", "invalid", f"Must be at most {PAYOUT_PAGE_MAX}.")
    ]
