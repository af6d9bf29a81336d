"""The PostgreSQL database Huey's stats recorder writes to: one that reconnects after a restart."""

from __future__ import annotations

import peewee
from playhouse.shortcuts import ReconnectMixin


class StatsDatabase(ReconnectMixin, peewee.PostgresqlDatabase):  # type: ignore[misc]
    """peewee keeps a connection per thread and, unlike Django's pool, never replaces a dead
    one: after PostgreSQL restarted, the dashboard answered 500 and every consumer logged a
    failed flush twice a second until it was restarted itself. These are psycopg's words for a
    connection the server ended; peewee's mixin reconnects once and runs the statement again.
    """

    reconnect_errors = (
        (peewee.OperationalError, "terminating connection"),
        (peewee.OperationalError, "the connection is closed"),
        (peewee.OperationalError, "server closed the connection"),
        (peewee.InterfaceError, "connection already closed"),
        (peewee.InterfaceError, "the connection is closed"),
    )
