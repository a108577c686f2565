"""Heartbeats from a background ticker while a sync activity does one long piece of work.

A sync activity that blocks (the live MCP probe waits on a subprocess for up to the
policy's probe timeout) cannot heartbeat between steps. Without heartbeats Temporal only
notices a worker killed mid-activity when the start-to-close timeout expires (minutes);
with them, a short heartbeat timeout hands the activity to another worker in seconds.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from temporalio import activity

HEARTBEAT_EVERY = 5.0
"""Seconds between heartbeats: well inside any heartbeat timeout of 15 s or more.

The SDK throttles what it sends to the server, so ticking often costs little.
"""


@contextmanager
def heartbeating(every: float = HEARTBEAT_EVERY) -> Iterator[None]:
    """Heartbeat the current activity every ``every`` seconds until the block ends.

    The ticker thread runs in a copy of the caller's context: ``activity.heartbeat``
    finds its activity through context variables set on the activity's own thread, and a
    plain new thread would not see them.

    Args:
        every: Seconds between heartbeats.

    Yields:
        Nothing; the block is the work to cover.
    """
    stop = threading.Event()
    context = contextvars.copy_context()

    def tick() -> None:
        activity.heartbeat()
        while not stop.wait(every):
            activity.heartbeat()

    ticker = threading.Thread(
        target=context.run, args=(tick,), name="activity-heartbeat", daemon=True
    )
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
