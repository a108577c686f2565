"""The Temporal dev server is stopped and restarted with lifecycles waiting in review."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agent_registry.cli.submit import prepare_submission
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.staging import start_lifecycle
from agent_registry.temporal import connect
from tests.faults.helpers import (
    DevServer,
    WorkerProcess,
    assert_published_exactly_once,
    worker_env,
)
from tests.support import copy_example, latest_run, make_settings, vote, wait_for_stage

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_server_restart_with_reviews_in_flight_publishes_each_once(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    server = DevServer(tmp_path / "temporal.db", tmp_path / "temporal.log")
    await server.start()
    settings = make_settings(tmp_path, sqlite_url)
    worker = WorkerProcess(worker_env(settings, server.address), tmp_path)
    handles = []
    try:
        client = await connect(address=server.address)
        await worker.start()
        for example in ("subagents/code-reviewer.md", "skills/release-notes"):
            submission = prepare_submission(
                settings,
                copy_example(example, tmp_path),
                submitter="alice@example.com",
                team=None,
                version=f"1.0.0-t{uuid.uuid4().hex[:10]}",
            )
            handles.append(await start_lifecycle(client, settings, submission=submission))
        for handle in handles:
            await wait_for_stage(handle, Stage.IN_REVIEW, timeout=60)

        server.stop()
        await asyncio.sleep(1)
        await server.start()

        # The worker process kept running through the outage and reconnects by itself.
        for handle in handles:
            await wait_for_stage(handle, Stage.IN_REVIEW, timeout=60)
            await vote(handle, Decision.APPROVE, "rita@example.com")
        finals = [
            await wait_for_stage(
                latest_run(client, handle),
                Stage.PUBLISHED,
                until=lambda s: s.recertify_by is not None,
                timeout=60,
            )
            for handle in handles
        ]
        for handle in handles:
            await latest_run(client, handle).terminate(reason="test finished")
    finally:
        worker.stop()
        server.stop()

    for handle, final in zip(handles, finals, strict=True):
        assert [c.stage for c in final.history].count(Stage.PUBLISHED) == 1
        assert_published_exactly_once(sqlite_engine, final.ref, handle.id)
