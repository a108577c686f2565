"""The lifecycle runs the probe on the probe task queue, and only after the static bar."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from activities.probe import PROBE_ACTIVITY
from agent_registry.lifecycle.stages import Stage
from agent_registry.vocabulary.findings import Severity
from tests.mcp_probe.support import needs_sandbox
from tests.support import (
    copy_example,
    make_settings,
    running_worker,
    scheduled_activities,
    skip_time,
    submit_path,
    wait_for_stage,
)
from worker import build_worker
from workflows.activity_options import PROBE_DEADLINE

pytestmark = [pytest.mark.asyncio(loop_scope="session"), needs_sandbox]


async def test_mcp_server_is_probed_on_the_probe_queue_after_the_static_bar(
    dev_env: WorkflowEnvironment, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, db_url)
    async with running_worker(dev_env.client, settings, engine):
        handle = await submit_path(
            dev_env.client, settings, copy_example("mcp-servers/time", tmp_path)
        )
        status = await wait_for_stage(handle, Stage.IN_REVIEW)

    assert status.eval is not None and status.eval.passed
    scheduled = await scheduled_activities(handle)
    evals = [i for i, (name, _) in enumerate(scheduled) if name == "evaluate_version"]
    probes = [i for i, (name, _) in enumerate(scheduled) if name == PROBE_ACTIVITY]
    assert len(probes) == 1 and len(evals) == 2
    assert evals[0] < probes[0] < evals[1], "static bar, then the probe, then the judgement"
    assert scheduled[probes[0]][1] == settings.probe_task_queue


async def test_bundle_the_static_bar_blocks_starts_no_probe(
    dev_env: WorkflowEnvironment, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, db_url)
    folder = copy_example("mcp-servers/time", tmp_path)
    scope = folder / "scope.yaml"
    scope.write_text(
        scope.read_text() + "\n# token: ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8" + "\n"
    )
    async with running_worker(dev_env.client, settings, engine):
        handle = await submit_path(dev_env.client, settings, folder)
        status = await wait_for_stage(handle, Stage.EVAL_FAILED)

    assert status.eval is not None and not status.eval.passed
    assert [name for name, _ in await scheduled_activities(handle) if name == PROBE_ACTIVITY] == []


async def test_no_probe_worker_ends_in_a_blocking_finding_not_a_hang(
    ts_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    with build_worker(ts_env.client, settings, engine=sqlite_engine) as worker:
        async with worker:  # the lifecycle worker only: nobody polls the probe queue
            handle = await submit_path(
                ts_env.client, settings, copy_example("mcp-servers/time", tmp_path)
            )
            await wait_for_stage(
                handle, Stage.EVALUATING, until=lambda s: "probe worker" in s.waiting_for
            )
            await skip_time(ts_env, PROBE_DEADLINE + timedelta(minutes=1))
            status = await wait_for_stage(handle, Stage.EVAL_FAILED)

    assert status.eval is not None and not status.eval.passed
    [finding] = [f for f in status.eval.top_findings if f.check_id == "probe.failed"]
    assert "the live probe of the MCP server did not complete" in finding.message
    assert finding.severity is Severity.BLOCK
