"""Leases: locks held in the database for a bounded time, so a holder that dies cannot keep one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.utils import timezone

from payouts.models import Lease


@contextmanager
def lease(name: str, *, seconds: float) -> Iterator[bool]:
    """Hold the lease `name` for at most `seconds`; yields whether it was taken.

    A holder that is killed never releases it, so it simply expires: the next caller after
    that takes it over. Taking it is one conditional UPDATE, so two callers never both win.
    """
    token = uuid.uuid4()
    now = timezone.now()
    Lease.objects.get_or_create(name=name, defaults={"expires_at": now})
    taken = Lease.objects.filter(name=name, expires_at__lte=now).update(
        holder=token, expires_at=now + timedelta(seconds=seconds)
    )
    try:
        yield taken == 1
    finally:
        if taken:
            Lease.objects.filter(name=name, holder=token).update(
                holder=None, expires_at=timezone.now()
            )
