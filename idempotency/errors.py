"""Why a request under an Idempotency-Key was refused; each says which HTTP status it is."""

from __future__ import annotations

from idempotency.models import KEY_MAX_LENGTH
from payouts.errors import ErrorCode, PayoutError

MSG_KEY_INVALID = (
    f"The Idempotency-Key header must be 1 to {KEY_MAX_LENGTH} printable ASCII characters "
    "(space to ~)."
)
MSG_KEY_MISMATCH = (
    "This Idempotency-Key was already used for a different request ({method} {path} with "
    "another body). Send a new key with a new request, or repeat the first request exactly."
)
MSG_KEY_IN_USE = (
    "A request with this Idempotency-Key is still in progress. It is safe to retry: once it "
    "finishes, the same request with the same key returns its response."
)
MSG_MULTIPLE_MUTATIONS = (
    "An Idempotency-Key covers one mutation, and this operation has {count}. Send each "
    "createPayout in a request of its own, each with its own key."
)


class IdempotencyRefused(PayoutError):
    http_status: int = 400


class IdempotencyKeyInvalid(IdempotencyRefused):
    code = ErrorCode.IDEMPOTENCY_KEY_INVALID
    message = MSG_KEY_INVALID


class IdempotencyKeyMismatch(IdempotencyRefused):
    """The key was first used with another request: replaying its answer would be wrong."""

    http_status = 422
    code = ErrorCode.IDEMPOTENCY_KEY_MISMATCH

    def __init__(self, method: str, path: str) -> None:
        super().__init__(MSG_KEY_MISMATCH.format(method=method, path=path))


class IdempotencyKeyInUse(IdempotencyRefused):
    """The first request with the key has not finished: the client should retry shortly."""

    http_status = 409
    code = ErrorCode.IDEMPOTENCY_KEY_IN_USE
    message = MSG_KEY_IN_USE
    # Seconds the client is told to wait (Retry-After) before it retries.
    retry_after = 1


class IdempotencyKeyMultipleMutations(IdempotencyRefused):
    code = ErrorCode.IDEMPOTENCY_KEY_MULTIPLE_MUTATIONS

    def __init__(self, count: int) -> None:
        super().__init__(MSG_MULTIPLE_MUTATIONS.format(count=count))
