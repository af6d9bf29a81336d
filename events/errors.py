"""Refusals of the event stream's reads."""

from __future__ import annotations

from payouts.errors import PayoutNotFound

MSG_EVENT_NOT_FOUND = "Event not found."
MSG_AFTER_NOT_FOUND = "No event of yours has this id."


class EventNotFound(PayoutNotFound):
    """No event of the caller's has this id (another client's is not found either)."""

    message = MSG_EVENT_NOT_FOUND
