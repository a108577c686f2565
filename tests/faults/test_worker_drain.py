"""SIGTERM drains a probe worker: the probe in flight finishes before the process exits,
and the lifecycle goes on to a single publication."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from activities.probe import PROBE_ACTIVITY
from agent_registry.lifecycle.stages import Decision, Stage
from tests.faults.helpers import (
    WorkerProcess,
    assert_published_exactly_once,
    evaluation_attempts,
    evaluation_running,
    worker_env,
)
from tests.mcp_probe.support import READ_TOOLS, bundled_server, needs_sandbox
from tests.support import latest_run, make_settings, submit_path, vote, wait_for_stage

pytestmark = [pytest.mark.asyncio(loop_scope="session"), needs_sandbox]

PROBE_SECONDS = 4
"""How long the submitted server takes to start: the probe is in flight that long, well
inside the probe worker's 10-second graceful shutdown."""


async def test_sigterm_lets_the_probe_in_flight_finish_and_the_lifecycle_publishes_once(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    client = dev_env.client
    settings = make_settings(tmp_path, sqlite_url)
    env = worker_env(settings, client.service_client.config.target_host)
    probe_env = {k: v for k, v in env.items() if k != "AGENT_REGISTRY_DATABASE_URL"}
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    worker = WorkerProcess(env, tmp_path)
    first = WorkerProcess(probe_env, tmp_path / "first", args=["--probe"])
    second = WorkerProcess(probe_env, tmp_path / "second", args=["--probe"])
    bundled_server(tmp_path / "notes", "slow_start.py", tools=READ_TOOLS, args=[str(PROBE_SECONDS)])
    await worker.start()
    await first.start()
    try:
        handle = await submit_path(client, settings, tmp_path / "notes")
        await evaluation_running(handle, activity=PROBE_ACTIVITY)
        first.stop()  # SIGTERM, as an orchestrator rolling the deployment sends
        assert first.returncode == 0, first.log.read_text()
        assert b"shutting down" in first.log.read_bytes()

        await second.start()
        await wait_for_stage(handle, Stage.IN_REVIEW, timeout=60)
        await vote(handle, Decision.APPROVE, "rita@example.com")
        final = await wait_for_stage(
            latest_run(client, handle),
            Stage.PUBLISHED,
            until=lambda s: s.recertify_by is not None,
            timeout=60,
        )
    finally:
        worker.kill()
        first.kill()
        second.kill()

    # The probe ran once, to completion, on the probe worker that was told to stop.
    attempts, completed = await evaluation_attempts(handle, activity=PROBE_ACTIVITY)
    assert attempts == [1] and completed == 1
    assert_published_exactly_once(sqlite_engine, final.ref, handle.id)
