"""Who a read or a write acts for: a client through one of its keys, a staff user, or the worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from clients.models import Client
from payouts.models import ActorKind


@dataclass(frozen=True)
class Caller:
    """The scope of a request and the name its changes are recorded under.

    A client's caller sees and changes only that client's payouts. A staff user (an operator,
    through the admin or a session on the APIs) sees every client's payouts; `client` is then
    the client a staff write acts for, if any.
    """

    actor_kind: ActorKind
    actor: str = ""
    client: Client | None = None

    # DRF reads these of request.user, which is the caller for a request made with a key.
    is_authenticated = True
    is_anonymous = False

    @classmethod
    def for_key(cls, client: Client, key_prefix: str) -> Caller:
        return cls(ActorKind.CLIENT, key_prefix, client)

    @classmethod
    def for_staff(cls, username: str, client: Client | None = None) -> Caller:
        return cls(ActorKind.STAFF, username, client)

    @property
    def sees_every_client(self) -> bool:
        return self.actor_kind is not ActorKind.CLIENT

    def scope(self) -> Q:
        """The payouts this caller may see and change."""
        if self.sees_every_client:
            return Q()
        assert self.client is not None
        return Q(client=self.client)


WORKER = Caller(ActorKind.WORKER)


def staff_caller(user: Any) -> Caller | None:
    """The caller a logged-in session acts as: an active staff user's, or none for any other
    user (who counts as unauthenticated)."""
    if user is None or not (user.is_active and user.is_staff):
        return None
    return Caller.for_staff(user.get_username())
