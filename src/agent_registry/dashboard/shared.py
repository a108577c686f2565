"""The org report, shared by every reader while the registry has not changed.

Every open dashboard reloads itself each minute, and Prometheus scrapes the server's
governance gauges every 15 s; each used to compute the whole report (a few hundred
milliseconds at 10,000 versions, ``bench/dashboard_scale.py``). A reader reuses the last
report when the catalog's report generation (a few indexed aggregates, see
:mod:`agent_registry.catalog.report_state`) is the one it was computed at and it is
younger than :data:`MAX_AGE` (dates move on: an SLA runs out without any write). Readers
arriving while a computation runs wait for it rather than starting their own. A catalog
without a generation (the API client) is computed for every reader. A failed
computation is not kept. The database catalog computes it from facts it keeps in memory
and updates from what changed (:mod:`agent_registry.catalog.report_facts`), so the first
page after a write is not a full recomputation either.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web

from agent_registry.api.context import CATALOG
from agent_registry.catalog.models import OrgReport

MAX_AGE = 10.0
"""Seconds an unchanged registry's report is served again: how late a deadline passing
with no write in between can show (the page says when its report was generated)."""


class SharedReport:
    """``compute``'s report, recomputed when ``generation`` changes or it ages out."""

    def __init__(
        self,
        compute: Callable[[], OrgReport],
        *,
        generation: Callable[[], str] | None,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._compute = compute
        self._max_age = max_age
        self._clock = clock
        self._lock = asyncio.Lock()
        self._generation = generation
        self._report: OrgReport | None = None
        self._computed_at = 0.0
        self._computed_for = ""

    async def get(self) -> OrgReport:
        """The shared report, computed now (in a thread) when none is fresh enough.

        Raises:
            Exception: Whatever the computation raised; nothing is kept then.
        """
        async with self._lock:
            current = await asyncio.to_thread(self._generation) if self._generation else None
            if (
                current is not None
                and self._report is not None
                and current == self._computed_for
                and self._clock() - self._computed_at < self._max_age
            ):
                return self._report
            report = await asyncio.to_thread(self._compute)
            self._report, self._computed_at = report, self._clock()
            self._computed_for = current or ""
            return report


SHARED_REPORT = web.AppKey("shared_report", SharedReport)


def shared_report(app: web.Application) -> SharedReport:
    """The application's shared report, made on first use from its catalog."""
    if SHARED_REPORT not in app:
        catalog = app[CATALOG]
        # Looked up on the class: the database catalog has it, the API client has not.
        has_generation = callable(getattr(type(catalog), "report_generation", None))
        generation = catalog.report_generation if has_generation else None  # type: ignore[attr-defined]
        # The database catalog keeps the report's facts and reads only what a write
        # changed (``catalog/report_facts.py``): the page after a write stays fast.
        has_live = callable(getattr(type(catalog), "live_report", None))
        compute = catalog.live_report if has_live else catalog.report  # type: ignore[attr-defined]
        app[SHARED_REPORT] = SharedReport(compute, generation=generation)
    return app[SHARED_REPORT]
