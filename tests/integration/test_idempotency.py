"""Idempotency-Key under real concurrency: 20 simultaneous creates with one key against gunicorn
with several worker processes on PostgreSQL, each request on its own connection. No lock is
mocked: the unique (client, key) constraint and the key's advisory lock do it."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import pytest
import requests
from django.db import connection, transaction
from huey.contrib.djhuey import HUEY

from idempotency.models import IdempotencyKey
from idempotency.services import purge_expired
from payouts import tasks
from payouts.models import Payout
from tests.conftest import payout_payload
from tests.idempotency.conftest import expire_keys
from tests.integration.conftest import ROOT, service_environment
from tests.integration.live_server import Answer, Gunicorn

CONCURRENT_REQUESTS = 20
# Sync workers: requests truly run side by side, each in a process of its own.
WORKERS = 4
KEY = "burst-4f1c"
CREATE = """
mutation($data: PayoutCreateInput!) {
  createPayout(data: $data) { ... on Payout { payoutId } ... on PayoutErrors { errors { code } } }
}
"""


NEW_PAYOUT = {
    "amount": "250.00",
    "currency": "EUR",
    "recipientDetails": {"account_number": "DE89370400440532013000"},
}
# Each API's create: its path, body and the status it answers a create with.
REQUESTS = {
    "rest": ("/api/payouts/", payout_payload(), 201),
    "graphql": ("/graphql/", {"query": CREATE, "variables": {"data": NEW_PAYOUT}}, 200),
}


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    server = Gunicorn(tmp_path_factory.mktemp("gunicorn") / "gunicorn.log")
    yield server
    server.stop()


@pytest.fixture
def server(gunicorn: Gunicorn, owner: Any, transactional_db: None, queue: Any) -> Gunicorn:
    """The running server; transactional_db commits the owner's key so its processes see it."""
    if not gunicorn.running:
        environment = service_environment(SECURE_SSL_REDIRECT="false")
        gunicorn.start(environment, workers=WORKERS)
    return gunicorn


def processing_messages(payout_id: str) -> int:
    """How many processing tasks wait in the queue for a payout (no consumer runs here)."""
    return sum(
        1
        for task in HUEY.pending()
        if isinstance(task, tasks.process_payout.task_class)
        and task.kwargs["payout_id"] == payout_id
    )


def all_at_once(send: Callable[[], Answer]) -> list[Answer]:
    """CONCURRENT_REQUESTS calls of `send`, released together."""
    start = threading.Barrier(CONCURRENT_REQUESTS)

    def send_when_all_ready(_: int) -> Answer:
        start.wait()
        return send()

    with ThreadPoolExecutor(CONCURRENT_REQUESTS) as pool:
        return list(pool.map(send_when_all_ready, range(CONCURRENT_REQUESTS)))


def keyed(holder: Any, key: str = KEY) -> dict[str, str]:
    return {**holder.headers, "Idempotency-Key": key}


def assert_one_payout(answers: list[Answer], payout_ids: list[str], owner: Any) -> str:
    statuses = sorted(answer.status for answer in answers)
    assert set(statuses) <= {201, 409} or set(statuses) <= {200, 409}, statuses
    originals = [a for a in answers if a.status != 409 and "Idempotent-Replayed" not in a.headers]
    assert len(originals) == 1, statuses
    assert len(set(payout_ids)) == 1, payout_ids
    [payout_id] = set(payout_ids)
    owned = Payout.objects.filter(client=owner.client).values_list("id", flat=True)
    assert [str(payout) for payout in owned] == [payout_id]
    assert processing_messages(payout_id) == 1
    return payout_id


def test_twenty_concurrent_rest_creates_with_one_key_make_one_payout_and_one_task(
    server: Gunicorn, owner: Any
) -> None:
    answers = all_at_once(
        lambda: server.request("POST", "/api/payouts/", payout_payload(), keyed(owner))
    )

    created = [answer for answer in answers if answer.status == 201]
    assert_one_payout(answers, [answer.json()["id"] for answer in created], owner)
    replays = [answer for answer in created if "Idempotent-Replayed" in answer.headers]
    assert all(answer.json() == created[0].json() for answer in replays)
    for refused in (answer for answer in answers if answer.status == 409):
        assert refused.json()["code"] == "idempotency_key_in_use"
        assert refused.headers["Retry-After"] == "1"


def test_twenty_concurrent_graphql_creates_with_one_key_make_one_payout_and_one_task(
    server: Gunicorn, owner: Any
) -> None:
    _, body, _ = REQUESTS["graphql"]
    answers = all_at_once(lambda: server.request("POST", "/graphql/", body, keyed(owner)))

    executed = [answer for answer in answers if answer.status == 200]
    payout_ids = [answer.json()["data"]["createPayout"]["payoutId"] for answer in executed]
    assert_one_payout(answers, payout_ids, owner)


@pytest.mark.parametrize("api", ["rest", "graphql"])
def test_requests_arriving_while_the_first_runs_are_409_and_a_later_retry_replays_it(
    server: Gunicorn, owner: Any, api: str
) -> None:
    path, body, success = REQUESTS[api]
    pool = ThreadPoolExecutor(CONCURRENT_REQUESTS)
    with transaction.atomic():
        # The first request to claim the key stalls on its payout insert until this commits;
        # nothing else of the test is slowed, and the key's own locking runs as in production.
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Payout._meta.db_table} IN SHARE MODE")
        pending = [
            pool.submit(server.request, "POST", path, body, keyed(owner))
            for _ in range(CONCURRENT_REQUESTS)
        ]
        finished = as_completed(pending)
        refused = [next(finished).result() for _ in range(CONCURRENT_REQUESTS - 1)]
    answers = [future.result() for future in pending]
    pool.shutdown()
    retry = server.request("POST", path, body, keyed(owner))

    assert [answer.status for answer in refused] == [409] * (CONCURRENT_REQUESTS - 1)
    [first] = [answer for answer in answers if answer.status != 409]
    assert first.status == success
    assert "Idempotent-Replayed" not in first.headers
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Payout.objects.filter(client=owner.client).count() == 1


def test_another_client_with_the_same_key_string_gets_its_own_payout(
    server: Gunicorn, owner: Any, stranger: Any
) -> None:
    mine = server.request("POST", "/api/payouts/", payout_payload(), keyed(owner))
    theirs = server.request("POST", "/api/payouts/", payout_payload(), keyed(stranger))

    assert (mine.status, theirs.status) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert Payout.objects.get(pk=theirs.json()["id"]).client == stranger.client


def test_a_key_past_its_ttl_is_purged_then_accepted_as_new(
    server: Gunicorn, owner: Any, settings: Any
) -> None:
    first = server.request("POST", "/api/payouts/", payout_payload(), keyed(owner))
    replay = server.request("POST", "/api/payouts/", payout_payload(), keyed(owner))
    expire_keys(settings)

    assert purge_expired() == 1
    assert not IdempotencyKey.objects.exists()
    again = server.request("POST", "/api/payouts/", payout_payload(), keyed(owner))

    assert replay.headers["Idempotent-Replayed"] == "true"
    assert again.status == 201
    assert "Idempotent-Replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]


def readme_retry_loop() -> Callable[..., Any]:
    """The retry loop the README shows, run as it is written there."""
    readme = (ROOT / "README.md").read_text()
    [code] = re.findall(r"```python\n(import time\n.*?def create_payout.*?)```", readme, re.S)
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    create_payout: Callable[..., Any] = namespace["create_payout"]
    return create_payout


def test_the_readme_retry_loop_survives_a_dropped_answer_without_paying_twice(
    server: Gunicorn, owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_payout = readme_retry_loop()
    real_post = requests.post
    sent: list[Any] = []

    def answer_lost_the_first_time(*args: Any, **kwargs: Any) -> requests.Response:
        response = real_post(*args, **kwargs)
        sent.append(response)
        if len(sent) == 1:  # the payout was created; its answer never arrives
            raise requests.ConnectionError("connection reset")
        return response

    monkeypatch.setattr(requests, "post", answer_lost_the_first_time)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    api = f"http://127.0.0.1:{server.port}"

    response = create_payout(api, owner.key, payout_payload())

    assert response.status_code == 201
    assert response.headers["Idempotent-Replayed"] == "true"
    assert response.json() == sent[0].json()
    assert Payout.objects.filter(client=owner.client).count() == 1
