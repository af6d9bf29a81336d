"""The operator's console in a real browser: log in, the payout list, one payout with its
history, and Huey's dashboard render, styled, with no console errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from playwright.sync_api import Page, expect

from payouts import services
from payouts.models import Payout
from tests.conftest import KeyHolder, payout_payload

PASSWORD = "console-pw-123"


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("operator", password=PASSWORD)


@pytest.fixture
def paid_payout(owner: KeyHolder) -> Payout:
    """A payout a client created and the worker paid (Huey runs it at once in unit tests)."""
    payout = services.payout_create(owner.caller, payout_payload(reference="INV-2026-0042"))
    payout.refresh_from_db()
    return payout


def log_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("operator")


def assert_styled(page: Page) -> None:
    """The admin's stylesheet loaded: its header bar is not the browser's default white."""
    background = page.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")


def test_an_operator_browses_payouts_their_history_and_the_queue_dashboard(
    live_server,
    page: Page,
    console_errors: list[str],
    screenshot: Callable[[str], Path],
    operator,
    paid_payout: Payout,
    owner: KeyHolder,
):
    log_in(page, live_server.url)

    page.goto(f"{live_server.url}/admin/payouts/payout/")
    expect(page.locator("#result_list")).to_contain_text(str(paid_payout.pk))
    expect(page.locator("#result_list")).to_contain_text("Completed")
    expect(page.locator("#changelist-filter")).to_contain_text("failure code")
    expect(page.get_by_role("link", name="Queue dashboard")).to_be_visible()
    assert_styled(page)
    screenshot("payout-list")

    page.get_by_role("link", name=str(paid_payout.pk)).click()
    history = page.locator("#payout-history")
    expect(history).to_be_visible()
    expect(history).to_contain_text(f"Client (API key) {owner.api_key.prefix}")
    expect(history).to_contain_text("Attempt started")
    expect(history.locator("tr", has_text="Completed")).to_contain_text("Worker")
    screenshot("payout-detail")

    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator(".hs-tiles")).to_contain_text("Pending")
    expect(page.locator("#hs-content")).to_contain_text("Throughput")
    expect(page.locator("#hs-content")).to_contain_text("process_payout")
    expect(page.locator(".errornote")).to_have_count(0)
    assert_styled(page)
    screenshot("huey-dashboard")

    assert console_errors == []


def test_an_operator_enqueues_a_stuck_payout_again_and_sees_what_happened(
    live_server,
    page: Page,
    console_errors: list[str],
    screenshot: Callable[[str], Path],
    operator,
    owner: KeyHolder,
    settings,
    monkeypatch,
):
    enqueued: list = []
    monkeypatch.setattr(HUEY, "enqueue", enqueued.append)  # its first message, lost
    stuck = services.payout_create(owner.caller, payout_payload())
    enqueued.clear()
    untouched = timedelta(seconds=settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)
    Payout.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - untouched)
    log_in(page, live_server.url)

    page.goto(f"{live_server.url}/admin/payouts/payout/?stalled=yes")
    page.get_by_role("row", name=str(stuck.pk)).get_by_role("checkbox").check()
    page.select_option("select[name=action]", label="Enqueue stuck payouts again")
    page.get_by_role("button", name="Go").click()

    expect(page.locator("ul.messagelist li.success")).to_contain_text(
        f"Payout {stuck.pk}: {services.MSG_REQUEUE_REQUEUED.format(attempt=1)}"
    )
    screenshot("payout-requeued")
    assert [task.kwargs["payout_id"] for task in enqueued] == [str(stuck.pk)]
    assert console_errors == []
