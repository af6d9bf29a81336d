"""Factories of the delivery tests: endpoints on a local receiver, events, their deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from typing import Any

from django.utils import timezone
from pytest_django.fixtures import Settings

from clients.models import Client
from events.models import Event, EventType
from payouts import services
from payouts.callers import Caller
from tests.conftest import payout_payload
from webhooks.delivery import deliveries_create
from webhooks.models import WebhookDelivery, WebhookEndpoint

SECRET_KEY = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(SECRET_KEY).decode()


def allow_loopback(settings: Settings) -> None:
    """The local receiver is plain HTTP on 127.0.0.1: both refused by default."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


def endpoint_for(client: Client, url: str, **fields: Any) -> WebhookEndpoint:
    """An endpoint added an hour ago: it receives the events the test writes, before or after
    it calls this (an endpoint receives what happens from its creation on)."""
    endpoint = WebhookEndpoint.objects.create(client=client, url=url, secret=SECRET, **fields)
    endpoint.created_at = timezone.now() - timedelta(hours=1)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(created_at=endpoint.created_at)
    return endpoint


def payout_event(caller: Caller) -> Event:
    """A payout created for the caller's client, and its payout.created event (not fanned out:
    the test's transaction never commits)."""
    payout = services.payout_create(caller, payout_payload())
    return Event.objects.get(payout=payout, type=EventType.CREATED)


def delivery_of(event: Event, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """The event fanned out, without enqueueing anything: its delivery to `endpoint`."""
    deliveries_create(event.position)
    return WebhookDelivery.objects.get(event=event, endpoint=endpoint)


def expected_signature(message_id: str, timestamp: str, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(SECRET_KEY, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
