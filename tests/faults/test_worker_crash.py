"""The shipped worker process is SIGKILLed mid-lifecycle and restarted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from agent_registry.lifecycle.client import query_status
from agent_registry.lifecycle.stages import Decision, Stage
from tests.faults.helpers import WorkerProcess, assert_published_exactly_once, worker_env
from tests.support import (
    copy_example,
    latest_run,
    make_settings,
    submit_path,
    vote,
    wait_for_stage,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_worker_killed_in_review_and_during_publication_publishes_once(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    client = dev_env.client
    worker = WorkerProcess(worker_env(settings, client.service_client.config.target_host), tmp_path)
    await worker.start()
    try:
        handle = await submit_path(
            client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
        )
        await wait_for_stage(handle, Stage.IN_REVIEW, timeout=60)

        # Killed while the lifecycle waits for a reviewer: nothing is in flight.
        worker.kill()
        await worker.start()
        await wait_for_stage(handle, Stage.IN_REVIEW)

        # Killed right after the approval is accepted: record_decision / publish_version
        # may be running and are lost with the process; Temporal retries them after their
        # start-to-close timeout (30 s), on the restarted worker.
        await vote(handle, Decision.APPROVE, "rita@example.com")
        worker.kill()
        await worker.start()
        final = await wait_for_stage(
            latest_run(client, handle),
            Stage.PUBLISHED,
            until=lambda s: s.recertify_by is not None,
            timeout=90,
        )
        assert (await query_status(latest_run(client, handle))).stage is Stage.PUBLISHED
    finally:
        worker.kill()

    assert final.approvers == ["rita@example.com"]
    assert [c.stage for c in final.history].count(Stage.PUBLISHED) == 1
    assert_published_exactly_once(sqlite_engine, final.ref, handle.id)
