"""What the service logs about a payout, and the request and payout ids its every line carries.

A request's id (X-Request-ID) travels in each task message it causes (`request_id`); while a
consumer runs a task, the task's request and payout ids are bound to the log context, so that
every line logged meanwhile, Huey's own included, carries them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from contextvars import Token
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from django.db import transaction
from django.utils import timezone
from huey import signals
from huey.api import Task
from huey.contrib.djhuey import post_execute, signal

from payouts.providers import Declined, Outcome, Paid, Rejected, Retryable, Unknown

if TYPE_CHECKING:
    from payouts.services import NextAttempt

logger = logging.getLogger(__name__)

# The outcome of one attempt, as its log line names it, and how loud the line is: a decline is
# the provider's expected answer, not an error; a refused request or a lost answer needs a look.
OUTCOMES: dict[type[Outcome], tuple[str, int]] = {
    Paid: ("paid", logging.INFO),
    Declined: ("declined", logging.INFO),
    Rejected: ("rejected", logging.WARNING),
    Retryable: ("retryable", logging.INFO),
    Unknown: ("unknown", logging.WARNING),
}


def outcome_name(outcome: Outcome) -> str:
    return OUTCOMES[type(outcome)][0]


def _detail(outcome: Outcome) -> str:
    match outcome:
        case Paid(provider_reference=reference):
            return reference
        case Declined(code=code, message=message):
            return f"{code}: {message}"
        case Rejected(message=reason) | Retryable(reason=reason) | Unknown(reason=reason):
            return reason


def attempt_settled(
    payout_id: object,
    attempt: int,
    max_attempts: int,
    outcome: Outcome,
    *,
    next_attempt: NextAttempt | None = None,
    delay: float = 0.0,
) -> None:
    """The one line of an attempt: its number of the budget, its outcome and, when there is
    one, the attempt that follows and when it is due."""
    name, level = OUTCOMES[type(outcome)]
    fields: dict[str, Any] = {
        "payout_id": str(payout_id),
        "attempt": attempt,
        "max_attempts": max_attempts,
        "outcome": name,
    }
    if isinstance(outcome, Paid):
        fields["provider_reference"] = outcome.provider_reference
    if isinstance(outcome, Declined):
        fields["failure_code"] = outcome.code
    then = ""
    if next_attempt is not None:
        due = timezone.now() + timedelta(seconds=delay)
        fields |= {
            "next_attempt": next_attempt.number,
            "next_max_attempts": next_attempt.max_attempts,
            "next_attempt_at": due.isoformat(),
            "retry_in_seconds": round(delay, 3),
        }
        then = (
            f"; attempt {next_attempt.number} of {next_attempt.max_attempts} "
            f"at {due:%Y-%m-%d %H:%M:%S} UTC (in {delay:.1f} s)"
        )
    logger.log(
        level,
        "Payout %s attempt %s of %s: %s (%s)%s",
        payout_id,
        attempt,
        max_attempts,
        name,
        _detail(outcome),
        then,
        extra=fields,
    )


def payout_finished(
    payout_id: object, status: str, failure_code: str = "", reason: str = ""
) -> None:
    """A payout reached its final status: FAILED is a warning, with its failure code. Logged
    once the change commits: a rolled-back one never happened."""
    fields = {"payout_id": str(payout_id), "status": status}
    if failure_code:
        transaction.on_commit(
            lambda: logger.warning(
                "Payout %s FAILED (%s): %s",
                payout_id,
                failure_code,
                reason,
                extra=fields | {"failure_code": failure_code},
            )
        )
    else:
        transaction.on_commit(lambda: logger.info("Payout %s %s", payout_id, status, extra=fields))


def payout_changed(payout_id: object, change: str) -> None:
    """A client's or staff's write: created, updated, deleted; logged once it commits."""
    fields = {"payout_id": str(payout_id)}
    transaction.on_commit(lambda: logger.info("Payout %s %s", payout_id, change, extra=fields))


RECOVERY_ACTIONS = {
    "requeued_pending": "enqueued again: no message for it in the queue",
    "retried_processing": "retried: its consumer stopped mid-attempt",
    "failed_processing": "failed: its consumer stopped mid-attempt and no attempt is left",
}


def payout_recovered(payout_id: object, action: str, by: str = "Recovery sweep") -> None:
    """The recovery sweep, or an operator's re-enqueue (`by`), took a payout back (`action`: a
    RecoveryReport field): one line for both, so a search on `recovery` finds either."""
    logger.warning(
        "%s: payout %s %s",
        by,
        payout_id,
        RECOVERY_ACTIONS[action],
        extra={"payout_id": str(payout_id), "recovery": action},
    )


def current_request_id() -> str | None:
    """The id of the request (or task) being served, for the task messages it causes."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return str(request_id) if request_id else None


# What each running task bound, to restore when it ends (a task may run inside a request when
# Huey is immediate, and that request's own id must come back).
_bound: dict[str, Mapping[str, Token[Any]]] = {}


def task_context(task: Task) -> dict[str, str]:
    """A task's lines carry the request id in its message, or a new one for a message without
    (a periodic task, a message from before request ids), and the payout's id."""
    kwargs = task.kwargs or {}
    context = {"task": task.name, "request_id": kwargs.get("request_id") or str(uuid.uuid4())}
    if kwargs.get("payout_id"):
        context["payout_id"] = str(kwargs["payout_id"])
    return context


@signal(signals.SIGNAL_EXECUTING)
def bind_task_context(signal_name: str, task: Task, *_: Any) -> None:
    _bound[task.id] = structlog.contextvars.bind_contextvars(**task_context(task))


@post_execute()
def unbind_task_context(task: Task, *_: Any) -> None:
    tokens = _bound.pop(task.id, None)
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)
