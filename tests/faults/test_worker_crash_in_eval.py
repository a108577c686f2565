"""The shipped probe worker process is SIGKILLed while its probe activity runs.

The live probe runs on a probe worker (``agentreg-worker --probe``) beside the lifecycle
worker. The probe activity heartbeats, so Temporal notices the lost attempt at the
heartbeat timeout (seconds) instead of the start-to-close timeout (minutes), and the
restarted probe worker probes again: one eval run recorded, one publication, one notice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from activities.probe import PROBE_ACTIVITY
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.registry.tables import AssetVersion, EvalRun
from tests.faults.helpers import (
    ALICE,
    REVIEWS,
    WorkerProcess,
    assert_published_exactly_once,
    evaluation_attempts,
    evaluation_running,
    eventually,
    worker_env,
)
from tests.mcp_probe.support import READ_TOOLS, bundled_server, needs_sandbox
from tests.slack_double import DEFAULT_TOKEN, SlackDouble
from tests.support import latest_run, make_settings, submit_path, vote, wait_for_stage

pytestmark = [pytest.mark.asyncio(loop_scope="session"), needs_sandbox]

PROBE_SECONDS = 4
"""How long the submitted server takes to start: the window the kill lands in."""


async def test_worker_killed_during_evaluation_is_retried_at_heartbeat_timeout_and_publishes_once(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    double: SlackDouble,
) -> None:
    client = dev_env.client
    settings = make_settings(tmp_path, sqlite_url)
    slack = {
        "AGENT_REGISTRY_SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "AGENT_REGISTRY_SLACK_API_URL": double.base_url,
    }
    env = worker_env(settings, client.service_client.config.target_host, slack)
    worker = WorkerProcess(env, tmp_path)
    probe_env = {k: v for k, v in env.items() if k not in slack}
    del probe_env["AGENT_REGISTRY_DATABASE_URL"]  # a probe worker holds no credential
    probe_worker = WorkerProcess(probe_env, tmp_path, args=["--probe"])
    bundled_server(tmp_path / "notes", "slow_start.py", tools=READ_TOOLS, args=[str(PROBE_SECONDS)])
    dm = double.dm_channel(ALICE.id)
    await worker.start()
    await probe_worker.start()
    try:
        handle = await submit_path(client, settings, tmp_path / "notes")
        await evaluation_running(handle, activity=PROBE_ACTIVITY)
        # The probe is waiting on the slow server: nothing of this attempt is recorded.
        probe_worker.kill()
        await probe_worker.start()

        # Retried after the 20 s heartbeat timeout, far inside the 5-minute
        # start-to-close timeout this wait would otherwise need.
        status = await wait_for_stage(
            handle, Stage.IN_REVIEW, until=lambda s: s.review_message is not None, timeout=45
        )
        assert status.eval is not None and status.eval.passed, status.eval
        await vote(handle, Decision.APPROVE, "rita@example.com")
        final = await wait_for_stage(
            latest_run(client, handle),
            Stage.PUBLISHED,
            until=lambda s: s.recertify_by is not None,
            timeout=60,
        )
        await eventually(lambda: len(double.messages_in(dm)) >= 1)
        await asyncio.sleep(1)  # nothing else arrives late
    finally:
        worker.kill()
        probe_worker.kill()

    # The killed attempt left no completion; the second attempt ran to the end, once.
    attempts, completed = await evaluation_attempts(handle, activity=PROBE_ACTIVITY)
    assert attempts == [2] and completed == 1

    # One eval run for the version, under the run key the workflow sent.
    assert status.eval is not None
    with Session(sqlite_engine) as session:
        [version] = session.exec(
            select(AssetVersion).where(
                AssetVersion.workflow_id == handle.id, AssetVersion.version == final.ref.version
            )
        ).all()
        runs = session.exec(select(EvalRun).where(EvalRun.version_id == version.id)).all()
    assert [run.run_key for run in runs] == [status.eval.run_key]

    [review] = double.messages_in(REVIEWS)  # one review message, edited in place
    assert double.replies_to(REVIEWS, review.ts) == []
    [notice] = double.messages_in(dm)
    assert "Published" in notice.text or "published" in notice.text
    assert [c.stage for c in final.history].count(Stage.PUBLISHED) == 1
    assert_published_exactly_once(sqlite_engine, final.ref, handle.id)
