"""Worker Versioning on the real dev server: a new build takes new work, and a published
lifecycle moves to it at its next continue-as-new while the old build finishes its own."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import Engine
from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from agent_registry.config import Settings
from agent_registry.lifecycle.contract import ATTEST_UPDATE, AttestInput, VoteResult
from agent_registry.lifecycle.stages import Stage
from tests.support import (
    POLICIES,
    approve_until_published,
    copy_example,
    latest_run,
    make_settings,
    principal,
    running_worker,
    submit_path,
    wait_for_stage,
)

OWNER = "bob@example.com"
"""The code-reviewer example's author, who may attest it."""


async def _make_current(client: Client, settings: Settings) -> None:
    """Make ``settings.build_id`` the deployment's current build, once its worker polls."""
    assert settings.build_id is not None
    request = SetWorkerDeploymentCurrentVersionRequest(
        namespace=client.namespace,
        deployment_name=settings.deployment_name,
        build_id=settings.build_id,
        identity="test",
    )
    for _ in range(100):
        try:
            await client.workflow_service.set_worker_deployment_current_version(request)
            return
        except RPCError:  # the build registers with its first poll
            await asyncio.sleep(0.2)
    raise AssertionError(f"build {settings.build_id} never became current")


async def _build_of(handle: WorkflowHandle[object, object]) -> str:
    description = await handle.describe()
    versioning = description.raw_description.workflow_execution_info.versioning_info
    return versioning.deployment_version.build_id


async def test_a_new_build_takes_new_work_and_published_lifecycles_move_at_continue_as_new(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    client = dev_env.client
    base = make_settings(tmp_path, sqlite_url, policy=POLICIES / "seconds.toml")
    deployment = f"agent-registry-{uuid.uuid4().hex[:8]}"
    old = base.model_copy(update={"deployment_name": deployment, "build_id": "build-1"})
    new = base.model_copy(update={"deployment_name": deployment, "build_id": "build-2"})

    async with running_worker(client, old, sqlite_engine):
        await _make_current(client, old)
        first = await submit_path(client, old, copy_example("subagents/code-reviewer.md", tmp_path))
        first = await approve_until_published(client, first)
        assert await _build_of(first) == "build-1"

        # The probe queue is not versioned: the first build's probe worker serves both.
        async with running_worker(client, new, sqlite_engine, probe=False):
            await _make_current(client, new)
            second = await submit_path(client, new, copy_example("skills/release-notes", tmp_path))
            await wait_for_stage(second, Stage.IN_REVIEW)
            assert await _build_of(second) == "build-2"  # new work takes the new build
            assert await _build_of(first) == "build-1"  # pinned: never replayed on new code

            # The published one's cycle ends (4 s in this policy) and runs on its own
            # build; once attested it continues as new on the current build.
            due = await wait_for_stage(first, Stage.RECERTIFYING, timeout=60)
            assert due.life is not None
            await first.execute_update(
                ATTEST_UPDATE, AttestInput(principal=principal(OWNER)), result_type=VoteResult
            )
            moved = latest_run(client, first)
            await wait_for_stage(
                moved, Stage.PUBLISHED, until=lambda s: s.recertifications == 1, timeout=60
            )
            assert (await moved.describe()).run_id != first.result_run_id
            assert await _build_of(moved) == "build-2"
