"""What the event stream announces to its readers in the process that wrote it (webhooks;
live subscriptions read the stream itself, see events.relay)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `event` (an events.models.Event) once the transaction that wrote it has committed,
# in the process that wrote it. A receiver that raises is logged and never fails the change;
# an event whose announcement was lost (the process died first) is found by the webhooks sweep.
event_committed = Signal()
