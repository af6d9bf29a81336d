"""The no-op baseline task, run by the same consumer as process_payout."""

from __future__ import annotations

import time

from huey.contrib.djhuey import task


@task()
def noop() -> float:
    """Do nothing but report when it ran: the consumer's floor cost per task.

    The returned finish time lands in Huey's result store, where the harness reads it.
    """
    return time.time()
