"""Each view's query, run against a real Temporal's visibility, lists the lifecycles of
exactly the versions the dashboard's section lists: the link lands on the same set."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import OrgReport
from agent_registry.lifecycle.stages import Stage
from agent_registry.lifecycle.visibility import (
    AWAITING_SUNSET,
    EVAL_FAILURES,
    PAST_SLA,
    PENDING_REVIEWS,
    RECERTIFICATIONS_DUE,
    lifecycle_workflow_id,
    view,
)
from tests.support import (
    approve_until_published,
    copy_example,
    make_settings,
    running_worker,
    submit_path,
    wait_for_stage,
)


def section(report: OrgReport, key: str) -> set[str]:
    """The workflow ids of the versions a dashboard section lists."""
    refs = {
        PENDING_REVIEWS: [r.ref for r in report.pending_reviews],
        PAST_SLA: [r.ref for r in report.pending_reviews if r.sla_breached],
        RECERTIFICATIONS_DUE: [d.ref for d in report.recertifications_due],
        AWAITING_SUNSET: [d.ref for d in report.deprecations],
        EVAL_FAILURES: [f.ref for f in report.eval_failures],
    }[key]
    return {lifecycle_workflow_id(ref) for ref in refs}


async def listed(client: Client, query: str) -> set[str]:
    return {execution.id async for execution in client.list_workflows(query)}


async def same_set(client: Client, report: OrgReport, key: str, task_queue: str) -> None:
    """Visibility is eventually consistent: wait until the view lists the section's set."""
    # The dev server is shared by the session's tests: look at this test's queue only.
    query = f'{view(key, report.generated_at).query} AND TaskQueue="{task_queue}"'
    expected = section(report, key)
    deadline = asyncio.get_running_loop().time() + 20
    while (found := await listed(client, query)) != expected:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{key} at {report.generated_at}: {found} != {expected}")
        await asyncio.sleep(0.3)


async def test_each_view_lists_in_temporal_what_its_section_lists(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    client = dev_env.client
    async with running_worker(client, settings, sqlite_engine):
        reviewing = await submit_path(client, settings, copy_example("skills/pdf-tables", tmp_path))
        await wait_for_stage(reviewing, Stage.IN_REVIEW)
        failing = await submit_path(
            client, settings, copy_example("failing/leaky-deploy-helper", tmp_path)
        )
        await wait_for_stage(failing, Stage.EVAL_FAILED)
        published = await wait_for_stage(
            await approve_until_published(
                client,
                await submit_path(client, settings, copy_example("skills/release-notes", tmp_path)),
            ),
            Stage.PUBLISHED,
        )
        assert published.recertify_by is not None

        def report_at(moment: datetime) -> OrgReport:
            return DatabaseCatalog(sqlite_engine, clock=lambda: moment).report()

        now = report_at(datetime.now().astimezone()).generated_at
        moments = {
            "now": now,
            "past the review SLA": now + timedelta(days=3),
            "re-certification in 10 days": published.recertify_by - timedelta(days=10),
            "a week and more later": now + timedelta(days=8),
        }
        reports = {label: report_at(moment) for label, moment in moments.items()}
        # Each moment lists something in a section, and leaves something out.
        assert section(reports["now"], PENDING_REVIEWS)
        assert not section(reports["now"], PAST_SLA)
        assert section(reports["past the review SLA"], PAST_SLA)
        assert not section(reports["now"], RECERTIFICATIONS_DUE)
        assert section(reports["re-certification in 10 days"], RECERTIFICATIONS_DUE)
        assert section(reports["now"], EVAL_FAILURES)
        assert not section(reports["a week and more later"], EVAL_FAILURES)
        for report in reports.values():
            for key in (
                PENDING_REVIEWS,
                PAST_SLA,
                RECERTIFICATIONS_DUE,
                AWAITING_SUNSET,
                EVAL_FAILURES,
            ):
                await same_set(client, report, key, settings.task_queue)
