"""Who a REST request acts for: DRF's hooks around the clients' one key check and rate limit."""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from clients import ratelimit
from clients.authentication import SCHEME, AuthenticationRefused, caller_for_authorization
from payouts.callers import Caller, staff_caller


class BearerKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>`: the request acts for the key's client."""

    def authenticate(self, request: Request) -> tuple[Caller, Caller] | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None  # perhaps a staff session; if not, HasCaller answers 401
        try:
            caller = caller_for_authorization(header)
        except AuthenticationRefused as refused:
            raise exceptions.AuthenticationFailed(refused.message, refused.code.value) from None
        return caller, caller

    def authenticate_header(self, request: Request) -> str:
        # Being first, it names the scheme of every 401's WWW-Authenticate.
        return SCHEME


class BearerKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The OpenAPI security scheme of BearerKeyAuthentication: Swagger UI's Authorize button."""

    target_class = BearerKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        scheme = build_bearer_security_scheme_object("Authorization", SCHEME)
        return {**scheme, "description": "A client's API key: `Authorization: Bearer <key>`."}


class StaffSessionAuthentication(SessionAuthentication):
    """A staff user logged into the admin: sees every client's payouts; CSRF is enforced."""

    def authenticate(self, request: Request) -> tuple[Any, Caller] | None:
        # Staff first: any other session is no credential at all (401), CSRF token or not.
        user = getattr(request._request, "user", None)
        caller = staff_caller(user)
        if caller is None:
            return None
        self.enforce_csrf(request)
        return user, caller


class StaffSessionScheme(SessionScheme):  # type: ignore[no-untyped-call]
    target_class = "rest_api.authentication.StaffSessionAuthentication"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            **super().get_security_definition(auto_schema),  # type: ignore[no-untyped-call]
            "description": "A staff user's admin session; writes need the X-CSRFToken header.",
        }


class HasCaller(BasePermission):
    """Every payout call needs a client's key or a staff session."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Caller)


class ClientRateThrottle(BaseThrottle):
    """PAYOUT_RATE_LIMIT per client; over it, DRF answers 429 with Retry-After."""

    def allow_request(self, request: Request, view: Any) -> bool:
        self.retry_after = (
            ratelimit.retry_after(request.auth) if isinstance(request.auth, Caller) else None
        )
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after


def caller_of(request: Request) -> Caller:
    """The caller HasCaller let through."""
    caller = request.auth
    assert isinstance(caller, Caller)
    return caller
