"""The subscribers benchmark's client reads the payout of an event as the server names it."""

from __future__ import annotations

import uuid

from benchmarks.subscriber_client import payout_id_of
from graphql_api.types import global_id_for


def test_the_client_reads_the_payout_id_in_the_servers_global_id():
    payout_id = uuid.uuid4()

    assert payout_id_of(str(global_id_for(payout_id))) == str(payout_id)
