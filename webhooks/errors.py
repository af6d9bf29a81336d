"""Why a webhook endpoint, or a URL to send webhooks to, was refused.

The errors extend the payouts domain's, with codes from its one table (payouts.errors.ErrorCode),
so both APIs and the admin map them as they map a payout's.
"""

from __future__ import annotations

from payouts.errors import (
    ClientRequired,
    ErrorCode,
    PayoutError,
    PayoutInvalid,
    PayoutNotFound,
)

MSG_NOT_FOUND = "Webhook endpoint not found."
MSG_DELIVERY_NOT_FOUND = "Webhook delivery not found."
MSG_ALREADY_SCHEDULED = (
    "This delivery is already scheduled: it is pending, and its next attempt will be made "
    "without a retry."
)
MSG_CLIENT_REQUIRED = (
    "Webhook endpoints are created with a client's API key; a staff session can read, edit and "
    "delete them."
)
MSG_LIMIT = "A client may have at most {limit} webhook endpoints: delete one to add another."
MSG_NOT_AN_OBJECT_BODY = "Expected a JSON object of webhook endpoint fields."
MSG_SECRET_READ_ONLY = (
    "The signing secret is made by the server: POST to the endpoint's rotate-secret/ to replace it."
)

MSG_URL_NOT_TEXT = 'URL must be a string such as "https://example.com/webhooks".'
MSG_URL_TOO_LONG = "URL must be at most {limit} characters."
MSG_URL_INVALID = (
    "Enter an absolute URL with a host name or IP address, such as "
    "https://example.com/webhooks (no spaces, control characters or backslashes)."
)
MSG_URL_SCHEME = 'URL scheme "{scheme}" is not supported: webhooks are sent to https:// URLs.'
MSG_URL_NOT_HTTPS = "URL must start with https://: this server sends no webhooks over http://."
MSG_URL_CREDENTIALS = (
    "URL must not hold a user name or password: receivers authenticate webhooks by their signature."
)
MSG_URL_UNRESOLVABLE = 'The URL\'s host "{host}" does not resolve to any address.'
MSG_URL_PRIVATE_ADDRESS = (
    'The URL\'s host "{host}" resolves to an address that is not public '
    "(loopback, private, link-local, shared, reserved or multicast): webhooks are sent to "
    "public addresses only."
)

MSG_EVENT_TYPES_NOT_LIST = (
    'event_types must be a list of event types, such as ["payout.completed"]; an empty list '
    "is every type."
)
MSG_EVENT_TYPE_UNKNOWN = 'Unknown event type "{value}". Use any of: {choices}.'
MSG_EVENT_TYPE_NOT_TEXT = 'Event types are strings, such as "payout.completed".'
MSG_EVENT_TYPE_REPEATED = 'Event type "{value}" is listed more than once.'
MSG_ENABLED_NOT_BOOLEAN = "enabled must be true or false."


class EndpointNotFound(PayoutNotFound):
    """No endpoint of the caller's has this id: another client's is not found either."""

    message = MSG_NOT_FOUND


class EndpointClientRequired(ClientRequired):
    message = MSG_CLIENT_REQUIRED


class EndpointInvalid(PayoutInvalid):
    """Input broke one or more endpoint rules; nothing was written."""


class EndpointLimitReached(PayoutError):
    code = ErrorCode.WEBHOOK_ENDPOINT_LIMIT

    def __init__(self, limit: int) -> None:
        super().__init__(MSG_LIMIT.format(limit=limit))


class TargetRefused(PayoutError):
    """A URL webhooks may not be sent to: malformed, not https, or pointing at an address that
    is not public. Refuses a create or an edit, and is recorded as the error of a delivery
    attempt."""

    field = "url"

    def __init__(self, code: ErrorCode, message: str) -> None:
        self.code = code
        super().__init__(message)


class DeliveryNotFound(PayoutNotFound):
    """No delivery with this id to the caller's endpoint."""

    message = MSG_DELIVERY_NOT_FOUND


class DeliveryAlreadyScheduled(PayoutError):
    """A manual retry of a delivery that is still pending: its next attempt is coming anyway."""

    code = ErrorCode.DELIVERY_ALREADY_SCHEDULED
    message = MSG_ALREADY_SCHEDULED
