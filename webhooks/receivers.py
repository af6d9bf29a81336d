"""Webhooks' side of the event stream: each committed event gets its fan-out task."""

from __future__ import annotations

from typing import Any

from events.models import Event
from webhooks.tasks import enqueue_fan_out


def fan_out_committed_event(sender: type[Event], event: Event, **_: Any) -> None:
    """Enqueue the event's fan-out. If this raises (the queue is down), events' send_robust
    logs it and the sweep fans the event out later: the change itself is committed already."""
    enqueue_fan_out(event.position)
