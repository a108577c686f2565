"""The org dashboard at 10,000 versions: server time per page, p99 < 300 ms.

The dashboard is computed per request (the report's queries, then the page with a link
into the Temporal UI for every listed version and section), and it reloads itself every
minute in every open tab, so its server time is paid again and again. This benchmark
seeds a SQLite registry with ``catalog_scale``'s bulk seeding (1 to 4 versions per asset,
every stage), moves some versions to ``EvalFailed`` this week so every governance list
is filled, and times ``GET /dashboard`` on the server the way ``agentreg serve`` builds it
(the same routes, the metrics middleware included), over loopback.

The seeded dates are in early 2025, so every published version is overdue for
re-certification: the page lists thousands of versions with their links, a heavier page
than a healthy registry shows.

Run as ``.venv/bin/python -m bench.dashboard_scale [--versions N] [--requests N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from agent_registry import server_metrics
from agent_registry.api.app import build_web_app
from agent_registry.assets.refs import AssetKind
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import UsageEvent
from agent_registry.config import Settings
from agent_registry.dashboard import routes
from agent_registry.dashboard.page import render_dashboard
from agent_registry.lifecycle import Stage
from agent_registry.registry.db import make_engine
from agent_registry.registry.tables import AssetVersion
from bench.catalog_scale import seed, sqlite_url
from bench.report import Figure, ms, percentile, write_section

TARGET_P99 = 0.300
"""Seconds of server time per dashboard page at 10,000 versions."""

EVAL_FAILED_EVERY = 7
"""Of the versions not yet published, every 7th failed its eval this week."""


async def measure(
    catalog: DatabaseCatalog, requests: int, *, write_before_each: bool
) -> list[float]:
    """Seconds per ``GET /dashboard`` over loopback, after a few unmeasured ones.

    With ``write_before_each``, a use is recorded (untimed) before every request, so the
    registry has changed and the report is computed again for each page.
    """
    settings = Settings(_env_file=None)
    app = build_web_app(
        settings, catalog, extra_routes=[routes.add_routes, server_metrics.add_routes]
    )
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        for _ in range(3):
            assert (await client.get("/dashboard")).status == 200
        timings: list[float] = []
        for serial in range(requests):
            if write_before_each:
                catalog.record_usage([_use(serial)])
            started = time.perf_counter()
            reply = await client.get("/dashboard")
            body = await reply.read()
            timings.append(time.perf_counter() - started)
            assert reply.status == 200
            assert body
        return timings
    finally:
        await client.close()


def _use(serial: int) -> UsageEvent:
    return UsageEvent(
        kind=AssetKind.SKILL,
        name="bench-dashboard",
        user="bench",
        at=datetime.now(UTC),
        event_id=f"bench-dashboard-{serial}-{time.time_ns()}",
    )


def fail_some_evals(engine: sa.Engine, now: datetime) -> int:
    """Move every ``EVAL_FAILED_EVERY``-th unpublished version to EvalFailed, this week."""
    unpublished = (Stage.SUBMITTED.value, Stage.IN_REVIEW.value)
    with engine.begin() as connection:
        table = AssetVersion.__table__  # type: ignore[attr-defined]
        ids = [
            row[0]
            for row in connection.execute(
                sa.select(table.c.id).where(table.c.stage.in_(unpublished)).order_by(table.c.id)
            )
        ][::EVAL_FAILED_EVERY]
        connection.execute(
            sa.update(table)
            .where(table.c.id.in_(ids))
            .values(
                stage=Stage.EVAL_FAILED.value,
                submitted_at=now - timedelta(days=2),
                updated_at=now - timedelta(days=2),
            )
        )
    return len(ids)


def main() -> None:
    """Seed, measure and write the section of docs/performance.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--changed", type=int, default=40, help="requests after a write")
    args = parser.parse_args()
    rng = random.Random(20)  # noqa: S311 - a reproducible seed, not a secret
    now = datetime.now(UTC)
    with sqlite_url() as url:
        engine = make_engine(url)
        try:
            seeded = seed(engine, args.versions, rng)
            failed = fail_some_evals(engine, now)
            catalog = DatabaseCatalog(engine)
            report = catalog.report()
            started = time.perf_counter()
            page = render_dashboard(report)
            render = time.perf_counter() - started
            started = time.perf_counter()
            catalog.report()
            compute = time.perf_counter() - started
            timings = asyncio.run(measure(catalog, args.requests, write_before_each=False))
            changed = asyncio.run(measure(catalog, args.changed, write_before_each=True))
        finally:
            engine.dispose()
    listed = (
        len(report.pending_reviews)
        + len(report.recertifications_due)
        + len(report.deprecations)
        + len(report.eval_failures)
    )
    p99 = percentile(timings, 0.99)
    p99_changed = percentile(changed, 0.99)
    figures = [
        Figure("p50, GET /dashboard", ms(percentile(timings, 0.50))),
        Figure("p99, GET /dashboard", ms(p99), f"< {ms(TARGET_P99)}", p99 < TARGET_P99),
        Figure("p50, GET /dashboard after a write", ms(percentile(changed, 0.50))),
        Figure(
            "p99, GET /dashboard after a write",
            ms(p99_changed),
            f"< {ms(TARGET_P99)}",
            p99_changed < TARGET_P99,
        ),
        Figure("of which: the report (one call)", ms(compute)),
        Figure("of which: the page (one render)", ms(render)),
        Figure("page size", f"{len(page.encode()) / 1024:.0f} KiB"),
        Figure("versions in the governance lists (100 of each shown)", f"{listed:,}"),
    ]
    write_section(
        "dashboard_scale",
        title=f"Dashboard at {seeded.versions:,} versions: server time per page",
        command=f".venv/bin/python -m bench.dashboard_scale --versions {args.versions} "
        f"--requests {args.requests} --changed {args.changed}",
        figures=figures,
        notes=(
            f"{seeded.versions:,} versions of {seeded.assets:,} assets seeded as "
            "`bench.catalog_scale` seeds them (SQLite), "
            f"{failed} of them then moved to EvalFailed this week. {args.requests} requests "
            "of `GET /dashboard` after 3 unmeasured ones, one at a time over loopback, to "
            "the application `agentreg serve` builds (dashboard routes, metrics "
            "middleware), with the registry unchanged: each checks the report generation "
            "(`catalog/report_state.py`) and renders the page from the shared report "
            "(`dashboard/shared.py`, at most 10 s old). Then "
            f"{args.changed} requests each after a use was recorded (untimed), so each "
            "computes the whole report again: the page right after any registry write. "
            "Each list shows its first 100 rows, with a Temporal UI link per row and per "
            "section. The time is the client's, from sending the request to reading the "
            "whole body, so it bounds the server's time from above. The seeded dates lie "
            "in early 2025: every published version is overdue for re-certification and "
            "listed."
        ),
    )


if __name__ == "__main__":
    main()
