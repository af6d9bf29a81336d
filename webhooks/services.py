"""Every write of webhook endpoints: create, edit, delete and rotate the signing secret, each in
one transaction, with every input rule checked here for the REST API and the admin alike."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients.models import Client
from events.models import EventType
from payouts import errors as payout_errors
from payouts.callers import Caller
from payouts.errors import ErrorCode, FieldError, InputRefused
from payouts.validators import validate_storable_text
from webhooks import errors
from webhooks.errors import (
    EndpointClientRequired,
    EndpointInvalid,
    EndpointLimitReached,
    EndpointNotFound,
    TargetRefused,
)
from webhooks.models import (
    DESCRIPTION_MAX_LENGTH,
    ENDPOINTS_PER_CLIENT_MAX,
    WebhookDelivery,
    WebhookEndpoint,
)
from webhooks.selectors import endpoint_get, endpoint_list, parse_endpoint_id
from webhooks.signing import new_secret, previous_secrets_after_rotation
from webhooks.targets import resolve_target

logger = logging.getLogger(__name__)

EDITABLE_FIELDS: tuple[str, ...] = ("url", "description", "event_types", "enabled")
REQUIRED_FIELDS: tuple[str, ...] = ("url",)
READ_ONLY_FIELDS: tuple[str, ...] = (
    "id",
    "secret",
    "disabled_at",
    "disabled_reason",
    "created_at",
    "updated_at",
)


def _parse_url(value: object) -> str:
    if not isinstance(value, str):
        raise InputRefused(ErrorCode.INVALID, errors.MSG_URL_NOT_TEXT)
    if value == "":
        raise InputRefused(ErrorCode.BLANK, payout_errors.MSG_BLANK)
    return resolve_target(value).url


def _parse_event_types(value: object) -> list[str]:
    """Known event types, each once, stored in the catalogue's order; [] is every type."""
    if not isinstance(value, list):
        raise InputRefused(ErrorCode.INVALID, errors.MSG_EVENT_TYPES_NOT_LIST)
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise InputRefused(ErrorCode.INVALID, errors.MSG_EVENT_TYPE_NOT_TEXT)
        if item not in EventType.values:
            choices = ", ".join(EventType.values)
            message = errors.MSG_EVENT_TYPE_UNKNOWN.format(value=item, choices=choices)
            raise InputRefused(ErrorCode.INVALID_CHOICE, message)
        if item in seen:
            raise InputRefused(ErrorCode.INVALID, errors.MSG_EVENT_TYPE_REPEATED.format(value=item))
        seen.add(item)
    return [event_type for event_type in EventType.values if event_type in seen]


def _parse_description(value: object) -> str:
    if not isinstance(value, str):
        raise InputRefused(ErrorCode.INVALID, payout_errors.MSG_DESCRIPTION_INVALID)
    if len(value) > DESCRIPTION_MAX_LENGTH:
        limit = {"limit_value": DESCRIPTION_MAX_LENGTH}
        raise InputRefused(ErrorCode.MAX_LENGTH, payout_errors.MSG_DESCRIPTION_TOO_LONG % limit)
    try:
        validate_storable_text(value)
    except ValidationError:
        raise InputRefused(ErrorCode.INVALID_TEXT, payout_errors.MSG_INVALID_TEXT) from None
    return value


def _parse_enabled(value: object) -> bool:
    if not isinstance(value, bool):
        raise InputRefused(ErrorCode.INVALID, errors.MSG_ENABLED_NOT_BOOLEAN)
    return value


_PARSERS: dict[str, Callable[[object], object]] = {
    "url": _parse_url,
    "description": _parse_description,
    "event_types": _parse_event_types,
    "enabled": _parse_enabled,
}


def endpoint_clean(data: object, *, creating: bool) -> dict[str, Any]:
    """The cleaned values of the endpoint fields sent, or EndpointInvalid listing every error.

    The URL is resolved and its addresses checked here (webhooks.targets), so call it outside
    any transaction: a slow resolver must not hold locks.
    """
    if not isinstance(data, Mapping):
        raise EndpointInvalid(
            [FieldError("", ErrorCode.NOT_AN_OBJECT, errors.MSG_NOT_AN_OBJECT_BODY)]
        )
    field_errors: list[FieldError] = []
    for name in data:
        if name == "secret":
            field_errors.append(
                FieldError(name, ErrorCode.READ_ONLY_FIELD, errors.MSG_SECRET_READ_ONLY)
            )
        elif name in READ_ONLY_FIELDS:
            field_errors.append(
                FieldError(name, ErrorCode.READ_ONLY_FIELD, payout_errors.MSG_READ_ONLY_FIELD)
            )
        elif name not in EDITABLE_FIELDS:
            field_errors.append(
                FieldError(str(name), ErrorCode.UNKNOWN_FIELD, payout_errors.MSG_UNKNOWN_FIELD)
            )
    cleaned: dict[str, Any] = {}
    for field in EDITABLE_FIELDS:
        if field not in data:
            if creating and field in REQUIRED_FIELDS:
                field_errors.append(
                    FieldError(field, ErrorCode.REQUIRED, payout_errors.MSG_REQUIRED)
                )
            continue
        if data[field] is None:
            field_errors.append(FieldError(field, ErrorCode.NULL, payout_errors.MSG_NULL))
            continue
        try:
            cleaned[field] = _PARSERS[field](data[field])
        except (InputRefused, TargetRefused) as refused:
            field_errors.append(FieldError(field, refused.code, refused.message))
    if field_errors:
        raise EndpointInvalid(field_errors)
    return cleaned


def _lock(caller: Caller, endpoint_id: object) -> WebhookEndpoint:
    """Lock an endpoint the caller may change; another client's is not found."""
    try:
        return endpoint_list(caller).select_for_update().get(pk=parse_endpoint_id(endpoint_id))
    except WebhookEndpoint.DoesNotExist:
        raise EndpointNotFound() from None


def endpoint_create(caller: Caller, data: object) -> tuple[WebhookEndpoint, str]:
    """Validate and store an endpoint of the caller's client; returns it with its signing
    secret, which no read shows again.

    At most ENDPOINTS_PER_CLIENT_MAX per client: the client's row is locked while they are
    counted, so two concurrent creates cannot both take the last place.
    """
    client = caller.client
    if client is None:
        raise EndpointClientRequired()
    cleaned = endpoint_clean(data, creating=True)
    secret = new_secret()
    with transaction.atomic():
        # Held until the commit: the next create of this client counts after this one.
        Client.objects.select_for_update().filter(pk=client.pk).first()
        if WebhookEndpoint.objects.filter(client=client).count() >= ENDPOINTS_PER_CLIENT_MAX:
            raise EndpointLimitReached(ENDPOINTS_PER_CLIENT_MAX)
        endpoint = WebhookEndpoint.objects.create(client=client, secret=secret, **cleaned)
    logger.info(
        "Webhook endpoint %s created for client %s by %s %s",
        endpoint.id,
        client.pk,
        caller.actor_kind,
        caller.actor,
    )
    return endpoint, secret


def endpoint_update(caller: Caller, endpoint_id: object, data: object) -> WebhookEndpoint:
    """Apply a partial edit of url, description, event_types and enabled.

    Enabling a disabled endpoint clears the record of its automatic disabling and its failure
    clock: it starts afresh. Disabling it stops its deliveries and records nothing else.
    """
    # Found first, so another client's endpoint is 404 whatever the body holds.
    endpoint_get(caller, endpoint_id)
    cleaned = endpoint_clean(data, creating=False)
    with transaction.atomic():
        endpoint = _lock(caller, endpoint_id)
        changed = {
            field: value for field, value in cleaned.items() if getattr(endpoint, field) != value
        }
        if changed.get("enabled") is True:
            changed |= {"disabled_at": None, "disabled_reason": "", "failing_since": None}
        if not changed:
            return endpoint
        for field, value in changed.items():
            setattr(endpoint, field, value)
        endpoint.save(update_fields=[*changed, "updated_at"])
    logger.info(
        "Webhook endpoint %s updated (%s) by %s %s",
        endpoint.id,
        ", ".join(changed),
        caller.actor_kind,
        caller.actor,
    )
    return endpoint


@transaction.atomic
def endpoint_delete(caller: Caller, endpoint_id: object) -> None:
    """Delete an endpoint and, with it, the record of its deliveries."""
    # Its deliveries locked before the endpoint, in the order a worker recording an attempt
    # takes them (its delivery, then the endpoint): the worker waits, then finds its delivery
    # gone, rather than adding an attempt under this delete (which would then fail), and the
    # two never wait on each other. Another client's id locks nothing it could use: the lookup
    # below refuses it and the transaction ends.
    deliveries = WebhookDelivery.objects.filter(endpoint_id=parse_endpoint_id(endpoint_id))
    list(deliveries.select_for_update().values_list("pk"))
    endpoint = _lock(caller, endpoint_id)
    endpoint.delete()
    logger.info(
        "Webhook endpoint %s deleted by %s %s", endpoint_id, caller.actor_kind, caller.actor
    )


def endpoint_rotate_secret(caller: Caller, endpoint_id: object) -> tuple[WebhookEndpoint, str]:
    """Give the endpoint a new signing secret, returned once; the secret it replaces keeps
    signing beside it for PREVIOUS_SECRET_VALIDITY, as does every earlier one not yet expired
    (webhooks.signing.previous_secrets_after_rotation), and expired ones are dropped.
    """
    now = timezone.now()
    secret = new_secret()
    with transaction.atomic():
        endpoint = _lock(caller, endpoint_id)
        endpoint.previous_secrets = previous_secrets_after_rotation(endpoint, now)
        endpoint.secret = secret
        endpoint.save(update_fields=["secret", "previous_secrets", "updated_at"])
    logger.info(
        "Webhook endpoint %s: secret rotated by %s %s",
        endpoint.id,
        caller.actor_kind,
        caller.actor,
    )
    return endpoint, secret
