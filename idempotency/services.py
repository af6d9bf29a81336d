"""Run a request once per Idempotency-Key, in the database (Brandur Leach's design on PostgreSQL).

1. Claim: insert the key's row, in a transaction of its own. The unique (client, key) constraint
   lets exactly one request in; any other with that key finds the row and is answered from it:
   a replay of the stored response, 422 for a different request, 409 while the first still runs.
2. Work: in one transaction, lock the row, do the work, store its response on the row. The
   payout and the stored response commit together, or neither does.
3. A failure of the server (5xx) stores nothing and gives the key back, so the client may retry.

What if the process dies? Before the work commits: nothing of it exists and the row has no
response; the key answers 409 until its lease runs out, then the next request with it takes it
over and runs. After the commit: the response is stored and every retry replays it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import Client
from idempotency.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyInvalid,
    IdempotencyKeyMismatch,
)
from idempotency.models import KEY_MAX_LENGTH, IdempotencyKey

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# A request holds its key at most this long without an answer before another may take it over:
# gunicorn's worker timeout (30 s), past which the request cannot be running any more. Taking
# over early would still be safe (the work locks the row), only a 409 sooner.
LEASE = timedelta(seconds=30)
# A claim meets a row that vanishes (released, purged) or is taken over in between so rarely
# that a few rounds settle it; past them the client is told to retry.
CLAIM_ROUNDS = 3
PURGE_BATCH_SIZE = 1000
PURGE_MAX_BATCHES = 100


def parse_key(header: str) -> str:
    """The key a header holds, 1 to 255 printable ASCII characters; else IdempotencyKeyInvalid."""
    if not 1 <= len(header) <= KEY_MAX_LENGTH or not all(" " <= char <= "~" for char in header):
        raise IdempotencyKeyInvalid()
    return header


def _canonical_number(value: Decimal) -> str:
    """One spelling per value, exactly (10.5, 10.50 and 1.05E1 alike), without rounding."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN and infinities: strict JSON never makes them
        return str(value)
    text = "".join(map(str, digits))
    significant = text.rstrip("0") or "0"
    exponent = 0 if significant == "0" else exponent + len(text) - len(significant)
    return f"{'-' if sign else ''}{significant}e{exponent}"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and one spelling per number: equal bodies, equal text.
    Bodies arrive from payouts.strict_json, nested 32 levels at most."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{json.dumps(k)}:{canonical_json(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return _canonical_number(value)
    if isinstance(value, float):
        return _canonical_number(Decimal(repr(value)))
    if isinstance(value, int) and not isinstance(value, bool):
        return _canonical_number(Decimal(value))
    return json.dumps(value)


@dataclass(frozen=True)
class RequestIdentity:
    """What makes two requests the same request: method, path (trailing slash or not) and body."""

    method: str
    path: str
    body: Any

    @property
    def fingerprint(self) -> str:
        path = self.path.rstrip("/") + "/"
        text = canonical_json([self.method.upper(), path, self.body])
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """A response: its status and JSON body, whether it is a replay, and whether it may be
    stored (a failure of the server is not: the client may retry it)."""

    status: int
    body: Any
    replayed: bool = False
    storable: bool = True

    @property
    def kept(self) -> bool:
        return self.storable and self.status < 500


def _replay(record: IdempotencyKey) -> Outcome:
    assert record.response_status is not None
    return Outcome(record.response_status, json.loads(record.response_body), replayed=True)


def _answer_from(record: IdempotencyKey, fingerprint: str) -> Outcome | None:
    """The answer an existing row gives a request, or None when the request may take the row."""
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyMismatch(record.method, record.path)
    if record.finished:
        return _replay(record)
    if record.locked_at > timezone.now() - LEASE:
        raise IdempotencyKeyInUse()
    return None


def _claim(client: Client, key: str, request: RequestIdentity) -> IdempotencyKey | Outcome:
    """Insert the key's row and return it, or answer from the row another request inserted."""
    fingerprint = request.fingerprint
    for _ in range(CLAIM_ROUNDS):
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    client=client,
                    key=key,
                    fingerprint=fingerprint,
                    method=request.method,
                    path=request.path[:200],
                    created_at=now,
                    locked_at=now,
                )
        except IntegrityError:
            pass
        record = IdempotencyKey.objects.filter(client=client, key=key).first()
        if record is None:  # released or purged since the insert failed: insert again
            continue
        if record.created_at <= now - ttl():
            # Expired but not purged yet: as good as gone, the key starts anew.
            IdempotencyKey.objects.filter(pk=record.pk, created_at=record.created_at).delete()
            continue
        answer = _answer_from(record, fingerprint)
        if answer is not None:
            return answer
        # Its request died holding it: take it over, unless another request just did.
        taken = IdempotencyKey.objects.filter(
            pk=record.pk, locked_at=record.locked_at, response_status__isnull=True
        ).update(locked_at=now)
        if taken:
            logger.warning(
                "Idempotency key %s of %s taken over after its lease ran out", key, client
            )
            record.locked_at = now
            return record
    raise IdempotencyKeyInUse()


def _release(record: IdempotencyKey) -> None:
    """Give the key back after a failure of the server, unless another request took it over."""
    try:
        IdempotencyKey.objects.filter(
            pk=record.pk, locked_at=record.locked_at, response_status__isnull=True
        ).delete()
    except Exception:
        # The lease runs out instead; until then the key answers 409, which is safe to retry.
        logger.exception("Could not release idempotency key %s", record.key)


def ttl() -> timedelta:
    """How long a key is remembered: PAYOUT_IDEMPOTENCY_TTL_HOURS, read when it is needed."""
    return timedelta(hours=settings.PAYOUT_IDEMPOTENCY_TTL_HOURS)


def run_once(
    client: Client, key: str, request: RequestIdentity, work: Callable[[], Outcome]
) -> Outcome:
    """The outcome of `work` for the first request with this key; a replay of it after.

    `work` runs in a transaction with the key's row locked, and its outcome is stored in that
    same transaction. Raises IdempotencyKeyMismatch or IdempotencyKeyInUse.
    """
    claimed = _claim(client, key, request)
    if isinstance(claimed, Outcome):
        return claimed
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.select_for_update().get(pk=claimed.pk)
            if record.locked_at != claimed.locked_at or record.finished:
                # Its first request was alive after all and finished, or another request took
                # the key over meanwhile: the work never runs twice.
                if not record.finished:
                    raise IdempotencyKeyInUse()
                return _replay(record)
            outcome = work()
            if outcome.kept:
                record.response_status = outcome.status
                record.response_body = json.dumps(outcome.body, cls=DjangoJSONEncoder)
                record.save(update_fields=["response_status", "response_body"])
                return outcome
            transaction.set_rollback(True)
    except BaseException:
        _release(claimed)
        raise
    _release(claimed)
    return outcome


def purge_expired() -> int:
    """Delete keys older than the TTL, oldest first, in batches of their own transaction so a
    backlog never holds a long lock; returns how many went."""
    purged = 0
    for _ in range(PURGE_MAX_BATCHES):
        cutoff = timezone.now() - ttl()
        batch = list(
            IdempotencyKey.objects.filter(created_at__lte=cutoff)
            .order_by("created_at")
            .values_list("pk", flat=True)[:PURGE_BATCH_SIZE]
        )
        if not batch:
            break
        deleted, _ = IdempotencyKey.objects.filter(pk__in=batch, created_at__lte=cutoff).delete()
        purged += deleted
        if len(batch) < PURGE_BATCH_SIZE:
            break
    return purged
