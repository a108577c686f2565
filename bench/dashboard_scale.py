"""The org dashboard at 10,000 versions: server time per page, p99 < 300 ms.

The dashboard is computed per request (the report's queries, then the page with a link
into the Temporal UI for every listed version and section), and it reloads itself every
minute in every open tab, so its server time is paid again and again. This benchmark
seeds a SQLite registry with ``catalog_scale``'s bulk seeding (1 to 4 versions per asset,
every stage), moves some versions to ``EvalFailed`` this week so every governance list
is filled, and times ``GET /dashboard`` on the server the way ``agentreg serve`` builds it
(the same routes, the metrics middleware included), over loopback: first with the
registry unchanged, then with a registry write (a use, a vote, a stage change, in turn)
before every other page, reporting pages after a write and pages between writes apart.

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
from sqlmodel import Session, col

from agent_registry import server_metrics
from agent_registry.api.app import build_web_app
from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import UsageEvent
from agent_registry.config import Settings
from agent_registry.dashboard import routes
from agent_registry.dashboard.page import render_dashboard
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.registry import store
from agent_registry.registry.db import make_engine, session_scope
from agent_registry.registry.tables import Asset, AssetVersion
from bench.catalog_scale import seed, sqlite_url
from bench.report import Figure, ms, percentile, write_section

TARGET_P99 = 0.300
"""Seconds of server time per dashboard page at 10,000 versions."""

EVAL_FAILED_EVERY = 7
"""Of the versions not yet published, every 7th failed its eval this week."""


class Writes:
    """Registry writes of the kinds a running registry sees, in turn.

    Each changes the report generation, so the page after it cannot be served from the
    shared report as it was.

    A use recorded, a reviewer's vote on a version in review, and a version moving from
    Submitted to InReview (a stage change with its audit event), each in the store's own
    transaction as the server and the workers write them.
    """

    def __init__(self, engine: sa.Engine, catalog: DatabaseCatalog) -> None:
        self._engine = engine
        self._catalog = catalog
        with session_scope(engine) as session:
            self._in_review = _refs(session, Stage.IN_REVIEW)
            self._submitted = _refs(session, Stage.SUBMITTED)
        self.done = 0

    def write(self) -> None:
        """One write, of the next kind in turn."""
        serial, self.done = self.done, self.done + 1
        kind = serial % 3
        if kind == 0:
            self._catalog.record_usage([_use(serial)])
            return
        with session_scope(self._engine) as session:
            if kind == 1:
                store.record_decision(
                    session,
                    ref=self._in_review[serial % len(self._in_review)],
                    decision_key=f"bench-dashboard-{serial}-{time.time_ns()}",
                    reviewer=f"reviewer-{serial}",
                    decision=Decision.APPROVE,
                    reason=None,
                    source="bench",
                )
            else:
                store.set_stage(
                    session,
                    ref=self._submitted.pop(),
                    stage=Stage.IN_REVIEW,
                    actor="bench",
                    event_key=f"bench-dashboard-stage-{serial}-{time.time_ns()}",
                )


def _use(serial: int) -> UsageEvent:
    return UsageEvent(
        kind=AssetKind.SKILL,
        name="bench-dashboard",
        user="bench",
        at=datetime.now(UTC),
        event_id=f"bench-dashboard-{serial}-{time.time_ns()}",
    )


def _refs(session: Session, stage: Stage) -> list[AssetRef]:
    query = (
        sa.select(col(Asset.kind), col(Asset.name), col(AssetVersion.version))
        .join(Asset, col(AssetVersion.asset_id) == col(Asset.id))
        .where(col(AssetVersion.stage) == stage.value)
        .order_by(col(AssetVersion.id))
    )
    return [
        AssetRef(kind=AssetKind(kind), name=name, version=version)
        for kind, name, version in session.connection().execute(query)
    ]


async def measure(
    catalog: DatabaseCatalog, requests: int, *, writes: Writes | None
) -> tuple[list[float], list[float]]:
    """Seconds per ``GET /dashboard`` over loopback, after a few unmeasured ones.

    With ``writes``, every other request follows a registry write (untimed), so pages
    after a write and pages of an unchanged registry interleave as they do on a running
    registry. Returns the timings of pages of an unchanged registry, then of pages
    right after a write.
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
        unchanged: list[float] = []
        after_write: list[float] = []
        for serial in range(requests):
            written = writes is not None and serial % 2 == 0
            if written and writes is not None:
                await asyncio.to_thread(writes.write)
            started = time.perf_counter()
            reply = await client.get("/dashboard")
            body = await reply.read()
            (after_write if written else unchanged).append(time.perf_counter() - started)
            assert reply.status == 200
            assert body
        return unchanged, after_write
    finally:
        await client.close()


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
    parser.add_argument(
        "--changed", type=int, default=100, help="requests after a write (as many between)"
    )
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
            timings, _ = asyncio.run(measure(catalog, args.requests, writes=None))
            writes = Writes(engine, catalog)
            between, changed = asyncio.run(measure(catalog, 2 * args.changed, writes=writes))
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
        Figure("p99, GET /dashboard between writes", ms(percentile(between, 0.99))),
        Figure("p50, GET /dashboard after a write", ms(percentile(changed, 0.50))),
        Figure(
            "p99, GET /dashboard after a write",
            ms(p99_changed),
            f"< {ms(TARGET_P99)}",
            p99_changed < TARGET_P99,
        ),
        Figure("a full report (`catalog.report()`, one call)", ms(compute)),
        Figure("the page alone (one render)", ms(render)),
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
            f"{2 * args.changed} requests, every other one right after a registry write "
            "(untimed; in turn a use recorded, a reviewer's vote, a version moved to "
            "InReview): the page after a write brings the report's facts up to date from "
            "what changed (`catalog/report_facts.py`), the page between writes is served "
            "from the shared report. "
            "Each list shows its first 100 rows, with a Temporal UI link per row and per "
            "section. The time is the client's, from sending the request to reading the "
            "whole body, so it bounds the server's time from above. The seeded dates lie "
            "in early 2025: every published version is overdue for re-certification and "
            "listed."
        ),
    )


if __name__ == "__main__":
    main()
