"""The lifecycle runs the probe on the probe task queue, and only after the static bar."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.probe import PROBE_ACTIVITY
from agent_registry.lifecycle import Stage
from tests.mcp_probe.support import needs_sandbox
from tests.support import copy_example, make_settings, running_worker, submit_path, wait_for_stage

pytestmark = [pytest.mark.asyncio(loop_scope="session"), needs_sandbox]


async def _scheduled(handle: WorkflowHandle[object, object]) -> list[tuple[str, str]]:
    """(activity, task queue) of every activity the lifecycle scheduled."""
    found = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            found.append((attributes.activity_type.name, attributes.task_queue.name))
    return found


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
    scheduled = await _scheduled(handle)
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
    assert [name for name, _ in await _scheduled(handle) if name == PROBE_ACTIVITY] == []
