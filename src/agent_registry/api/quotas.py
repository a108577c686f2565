"""Per-principal quotas on the writes anyone signed in can make: staging and telemetry.

Without them one caller could stage 20 MB of bundles or count 2,000 fake uses in a
loop. Each principal gets a budget per window (bytes staged, events recorded); past it
the request is refused with 429 and ``Retry-After``, the seconds until enough of the
window has passed. The book is kept in the server's memory: with several servers each
enforces its own share, which bounds the total by the number of servers.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from agent_registry.api.errors import ApiError


@dataclass(frozen=True)
class Quota:
    """How much one principal may spend in a window.

    Attributes:
        amount: Units (bytes, events) per window.
        window: Seconds.
        unit: What is counted, for the refusal.
    """

    amount: int
    window: float
    unit: str


STAGING_BYTES = Quota(amount=16 * 1024 * 1024, window=3600.0, unit="bytes staged")
"""A day of heavy submitting fits; a loop of PUTs does not."""
INSTALL_EVENTS = Quota(amount=500, window=3600.0, unit="installs recorded")
USAGE_EVENTS = Quota(amount=5000, window=3600.0, unit="uses recorded")


@dataclass
class QuotaBook:
    """What each principal spent recently, per quota (a sliding window of spends)."""

    clock: Callable[[], float] = time.monotonic
    _spent: dict[tuple[str, str], deque[tuple[float, int]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, who: str, quota: Quota, amount: int) -> None:
        """Spend ``amount`` of ``who``'s ``quota``, or refuse.

        Raises:
            ApiError: 429 with ``Retry-After`` when the spend does not fit the window.
        """
        now = self.clock()
        with self._lock:
            spends = self._spent.setdefault((who, quota.unit), deque())
            while spends and spends[0][0] <= now - quota.window:
                spends.popleft()
            used = sum(amount for _, amount in spends)
            if used + amount <= quota.amount:
                spends.append((now, amount))
                return
            wait = _wait(spends, used + amount - quota.amount, now, quota.window)
        raise ApiError(
            429,
            f"{who} is over the quota of {quota.amount} {quota.unit} per "
            f"{quota.window / 3600:g} hour(s); retry in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )


def _wait(spends: deque[tuple[float, int]], excess: int, now: float, window: float) -> int:
    """Seconds until enough old spends leave the window for ``excess`` more units."""
    freed = 0
    for at, amount in spends:
        freed += amount
        if freed >= excess:
            return max(1, math.ceil(at + window - now))
    return max(1, math.ceil(window))


QUOTAS: web.AppKey[QuotaBook] = web.AppKey("agent_registry.api.quotas")
"""The application's quota book, created with its routes."""
