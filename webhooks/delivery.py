"""Delivering events to webhook endpoints: the fan-out of an event, each attempt and its record,
the retry schedule, automatic disabling, the sweep's recovery, manual retries and the delivery
log's reads.

Delivery is at least once. An attempt is claimed by a conditional UPDATE that pushes its
`next_attempt_at` past the longest send (CLAIM_SECONDS): a duplicate task message then finds
nothing due, and a worker killed mid-attempt leaves a delivery the sweep finds overdue and sends
again, under the same `webhook-id` (receivers deduplicate on it). The attempt that left no record
is recorded then, as lost.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from events.documents import event_document
from events.models import Event
from payouts.callers import Caller
from webhooks import sender, signing, targets
from webhooks.errors import DeliveryAlreadyScheduled, DeliveryNotFound, TargetRefused
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.selectors import endpoint_get, endpoint_list_receiving

logger = logging.getLogger(__name__)

# How long a claimed attempt is left alone: twice a send (sender.TOTAL_TIMEOUT_SECONDS), ample
# for its record too, so only an attempt whose worker died is ever taken for lost.
CLAIM_SECONDS = 30
# An event still without its deliveries this long after it was written lost its fan-out task.
UNDISPATCHED_AFTER_SECONDS = 30
# The most events and deliveries one sweep takes on; the next sweep takes the rest.
SWEEP_BATCH = 500
# A scheduled message may run a little before its due time by another machine's clock.
CLOCK_TOLERANCE_SECONDS = 2
# Past this a retry waits no longer, whatever WEBHOOK_MAX_ATTEMPTS makes of the doubling.
MAX_RETRY_DELAY_SECONDS = 24 * 3600

MSG_LOST_ATTEMPT = (
    "No outcome was recorded: the worker stopped during this attempt, which may have reached "
    "the endpoint. The delivery was sent again."
)
MSG_REFUSED_TARGET = "Not sent: {message}"
MSG_SEND_RAISED = "The attempt failed unexpectedly: {error}"
MSG_DISABLED = (
    "Disabled automatically: every delivery failed since {since} (WEBHOOK_DISABLE_AFTER_HOURS "
    "is {hours:g})."
)


def _enqueue(delivery_ids: list[uuid.UUID], eta: datetime | None = None) -> None:
    # Imported here because the task module imports these services.
    from webhooks.tasks import enqueue_delivery

    for delivery_id in delivery_ids:
        try:
            enqueue_delivery(delivery_id, eta=eta)
        except Exception:
            logger.exception("Could not enqueue webhook delivery %s; the sweep will", delivery_id)


def deliveries_create(event_position: int) -> list[uuid.UUID]:
    """Make the deliveries of an event, one per enabled endpoint of its client that takes its
    type, and mark the event dispatched; their attempts are enqueued once this commits.

    Idempotent: an event already dispatched gets nothing more (the row lock orders two runs).
    Returns the ids of the deliveries made.
    """
    with transaction.atomic():
        event = Event.objects.select_for_update().filter(pk=event_position).first()
        if event is None or event.dispatched_at is not None:
            return []
        now = timezone.now()
        # The event's row lock and dispatched_at keep a second run from making them again.
        deliveries = [
            WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now)
            for endpoint in endpoint_list_receiving(event)
        ]
        if deliveries:
            WebhookDelivery.objects.bulk_create(deliveries)
        Event.objects.filter(pk=event.pk).update(dispatched_at=now)
        made = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: _enqueue(made))
    return made


@dataclass(frozen=True)
class Claim:
    """An attempt this worker holds: what it sends, to where, as which attempt."""

    delivery_id: uuid.UUID
    number: int
    manual: bool
    endpoint: WebhookEndpoint
    message_id: str
    body: bytes


def delivery_body(event: Event) -> bytes:
    """The webhook's body: the event's document as compact JSON, the same bytes every attempt."""
    document = event_document(event)
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def _claim(delivery_id: uuid.UUID | str) -> Claim | None:
    """Take the delivery's due attempt, or None if there is none for this worker to make: not
    pending, not due yet (or held by another worker's claim), or its endpoint disabled."""
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "event").filter(pk=delivery_id).first()
    )
    due = Q(next_attempt_at__isnull=True) | Q(
        next_attempt_at__lte=now + timedelta(seconds=CLOCK_TOLERANCE_SECONDS)
    )
    if delivery is None or not delivery.endpoint.enabled:
        return None
    # Conditions on the delivery's own row only: with a join Django would write the UPDATE over
    # a subquery, and PostgreSQL re-checks a waiting UPDATE against the row it updates, not the
    # subquery's copy, so two concurrent claims could both win.
    claimed = WebhookDelivery.objects.filter(
        due, pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
    ).update(
        attempts=F("attempts") + 1,
        next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
        updated_at=now,
    )
    if not claimed:
        return None
    # A previous claim whose worker died left no record: it is recorded as lost, unless the
    # delivery went with its endpoint meanwhile (then there is nothing to send).
    unrecorded = delivery.attempts and not _recorded(delivery, delivery.attempts)
    if unrecorded and not _record_lost(delivery):
        return None
    return Claim(
        delivery_id=delivery.pk,
        number=delivery.attempts + 1,
        manual=delivery.manual,
        endpoint=delivery.endpoint,
        message_id=delivery.event.public_id,
        body=delivery_body(delivery.event),
    )


def _recorded(delivery: WebhookDelivery, number: int) -> bool:
    return delivery.attempts_made.filter(number=number).exists()


def _record_lost(delivery: WebhookDelivery) -> bool:
    """The previous attempt was claimed and never recorded: its worker died mid-attempt.
    False if the delivery is gone meanwhile (its endpoint deleted): nothing to send."""
    claimed_at = (
        delivery.next_attempt_at - timedelta(seconds=CLAIM_SECONDS)
        if delivery.next_attempt_at is not None
        else timezone.now()
    )
    with transaction.atomic():
        # Locked as _record locks it, so an endpoint's delete never meets this row half-made.
        if not WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).exists():
            return False
        WebhookAttempt.objects.get_or_create(
            delivery=delivery,
            number=delivery.attempts,
            defaults={
                "manual": delivery.manual,
                "attempted_at": claimed_at,
                "duration_ms": 0,
                "error": MSG_LOST_ATTEMPT,
                "succeeded": False,
            },
        )
    logger.warning(
        "Webhook delivery %s: attempt %s left no record; sending it again",
        delivery.pk,
        delivery.attempts,
    )
    return True


def _release_database_connection() -> None:
    """Give this worker's connection back (to the pool on PostgreSQL) while the receiver
    answers: slow receivers must not hold the database's connections. Never inside a
    transaction: there the connection is the caller's (a test's, say)."""
    if not connection.in_atomic_block:
        connection.close()


def _send(claim: Claim, now: datetime) -> sender.Response:
    try:
        # Checked again at every attempt: the name may resolve elsewhere since the URL was saved.
        target = targets.resolve_target(claim.endpoint.url)
    except TargetRefused as refused:
        return sender.Response(None, "", MSG_REFUSED_TARGET.format(message=refused.message))
    # Stamped once the address is known, so a slow lookup does not age the timestamp that
    # receivers check against their clock.
    signed_at = max(now, timezone.now())
    headers = signing.signed_headers(claim.endpoint, claim.message_id, claim.body, signed_at)
    return sender.post(target, claim.body, headers)


def delivery_attempt(delivery_id: uuid.UUID | str) -> WebhookAttempt | None:
    """Make the delivery's due attempt and record it; None when there was none to make (see
    _claim). No database connection is held while the receiver answers."""
    claim = _claim(delivery_id)
    if claim is None:
        return None
    _release_database_connection()
    attempted_at = timezone.now()
    started = time.monotonic()
    try:
        response = _send(claim, attempted_at)
    except Exception as error:
        # A bug of ours, perhaps after the request went out: recorded as a failed attempt,
        # rather than left to the sweep to be made (and fail) again and again.
        logger.exception("Webhook delivery %s: attempt %s raised", claim.delivery_id, claim.number)
        response = sender.Response(None, "", MSG_SEND_RAISED.format(error=repr(error)))
    duration_ms = round((time.monotonic() - started) * 1000)
    return _record(claim, attempted_at, duration_ms, response)


def retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt `attempt` (from 1): exponential backoff,
    WEBHOOK_RETRY_DELAY_SECONDS * 2 ** (attempt - 1), plus a random jitter of up to half of it,
    so that the deliveries of one outage do not all come back at the same instant and none
    comes back sooner than its step."""
    step: float = settings.WEBHOOK_RETRY_DELAY_SECONDS * 2 ** (attempt - 1)
    step = min(step, MAX_RETRY_DELAY_SECONDS)
    return step + random.uniform(0, step / 2)


def _record(
    claim: Claim, attempted_at: datetime, duration_ms: int, response: sender.Response
) -> WebhookAttempt | None:
    """Write down the attempt and what follows from it: success, the next attempt, or failure.

    A manual attempt is one attempt: when it fails the delivery is failed again, with no
    schedule. The delivery moves only if it still holds this claim (a worker that outlived it
    records its attempt, and the newer attempt decides).
    """
    now = timezone.now()
    next_due: datetime | None = None
    with transaction.atomic():
        # Locked first: an endpoint deleted meanwhile took its deliveries with it (its delete
        # locks them too, so it never meets an attempt written under it); nothing to record.
        if not WebhookDelivery.objects.select_for_update().filter(pk=claim.delivery_id).exists():
            logger.info("Webhook delivery %s was deleted during its attempt", claim.delivery_id)
            return None
        attempt, _ = WebhookAttempt.objects.update_or_create(
            delivery_id=claim.delivery_id,
            number=claim.number,
            defaults={
                "manual": claim.manual,
                "attempted_at": attempted_at,
                "duration_ms": duration_ms,
                "response_status": response.status,
                "response_body": response.body,
                "error": response.error,
                "succeeded": response.succeeded,
            },
        )
        held = WebhookDelivery.objects.filter(
            pk=claim.delivery_id, status=DeliveryStatus.PENDING, attempts=claim.number
        )
        if response.succeeded:
            held.update(
                status=DeliveryStatus.SUCCEEDED, next_attempt_at=None, manual=False, updated_at=now
            )
            WebhookEndpoint.objects.filter(
                pk=claim.endpoint.pk, failing_since__isnull=False
            ).update(failing_since=None, updated_at=now)
        else:
            if claim.manual or claim.number >= settings.WEBHOOK_MAX_ATTEMPTS:
                held.update(
                    status=DeliveryStatus.FAILED, next_attempt_at=None, manual=False, updated_at=now
                )
            else:
                due = now + timedelta(seconds=retry_delay(claim.number))
                if held.update(next_attempt_at=due, updated_at=now):
                    next_due = due
            _note_failure(claim.endpoint.pk, attempted_at, now)
        if next_due is not None:
            delivery_ids = [claim.delivery_id]
            transaction.on_commit(lambda: _enqueue(delivery_ids, eta=next_due))
    return attempt


def _note_failure(endpoint_id: uuid.UUID, attempted_at: datetime, now: datetime) -> None:
    """Start the endpoint's failing clock, and disable it once every delivery to it has failed
    for WEBHOOK_DISABLE_AFTER_HOURS."""
    WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(
        failing_since=attempted_at, updated_at=now
    )
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    since = endpoint.failing_since if endpoint is not None else None
    if endpoint is None or not endpoint.enabled or since is None:
        return
    if since > now - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS):
        return
    succeeded_since = WebhookAttempt.objects.filter(
        delivery__endpoint_id=endpoint_id, succeeded=True, attempted_at__gte=since
    ).exists()
    if succeeded_since:
        return
    reason = MSG_DISABLED.format(
        since=since.isoformat(), hours=settings.WEBHOOK_DISABLE_AFTER_HOURS
    )
    disabled = WebhookEndpoint.objects.filter(
        pk=endpoint_id, enabled=True, failing_since=since
    ).update(enabled=False, disabled_at=now, disabled_reason=reason, updated_at=now)
    if disabled:
        logger.warning("Webhook endpoint %s (%s) disabled: %s", endpoint_id, endpoint.url, reason)


@dataclass(frozen=True)
class SweepReport:
    """What one sweep found: events given their deliveries, deliveries sent again."""

    dispatched_events: int
    requeued_deliveries: int


def deliveries_sweep() -> SweepReport:
    """Do what lost task messages left undone: fan out events written more than
    UNDISPATCHED_AFTER_SECONDS ago and still undispatched, and enqueue pending deliveries of
    enabled endpoints overdue by WEBHOOK_SWEEP_GRACE_SECONDS (a lost message, a worker killed
    mid-attempt, an endpoint enabled again). At most SWEEP_BATCH of each."""
    now = timezone.now()
    positions = list(
        Event.objects.filter(
            dispatched_at__isnull=True,
            created_at__lt=now - timedelta(seconds=UNDISPATCHED_AFTER_SECONDS),
        )
        .order_by("position")
        .values_list("position", flat=True)[:SWEEP_BATCH]
    )
    for position in positions:
        try:
            deliveries_create(position)
        except Exception:  # one event's failure must not keep the others waiting
            logger.exception("Webhook sweep: the fan-out of event %s failed", position)
    cutoff = now - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    overdue = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lt=cutoff
    )
    ids = list(
        overdue.filter(endpoint__enabled=True)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    # Due now, so the next sweep does not enqueue them again while they wait in the queue. No
    # join in this UPDATE (see _claim): a delivery claimed meanwhile is no longer overdue when
    # its row is re-checked, and keeps its claim.
    overdue.filter(pk__in=ids).update(next_attempt_at=now, updated_at=now)
    _enqueue(ids)
    return SweepReport(dispatched_events=len(positions), requeued_deliveries=len(ids))


def delivery_retry(caller: Caller, endpoint_id: object, delivery_id: object) -> WebhookDelivery:
    """Send a delivery that succeeded or failed once more, now: one manual attempt (no
    automatic schedule after it). A pending delivery is refused: its attempt is coming. To a
    disabled endpoint it waits, pending, until the endpoint is enabled again."""
    endpoint = endpoint_get(caller, endpoint_id)
    try:
        parsed = uuid.UUID(str(delivery_id))
    except ValueError:
        raise DeliveryNotFound() from None
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update().filter(pk=parsed, endpoint=endpoint).first()
        )
        if delivery is None:
            raise DeliveryNotFound()
        if delivery.status == DeliveryStatus.PENDING:
            raise DeliveryAlreadyScheduled()
        delivery.status = DeliveryStatus.PENDING
        delivery.manual = True
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "manual", "next_attempt_at", "updated_at"])
        delivery_ids = [delivery.pk]
        transaction.on_commit(lambda: _enqueue(delivery_ids))
    return delivery
