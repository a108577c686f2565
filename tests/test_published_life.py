"""A published version's life on the time-skipping server: re-certification, deprecation,
supersession and retirement, with every duration from policy."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from agent_registry import temporal
from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.client import LifecycleHandle, query_status
from agent_registry.lifecycle.contract import (
    ATTEST_UPDATE,
    DEPRECATE_UPDATE,
    AssetStatus,
    AttestInput,
    DeprecateInput,
    VoteResult,
)
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from tests.support import (
    POLICIES,
    approve_until_published,
    copy_example,
    latest_run,
    make_settings,
    principal,
    running_worker,
    skip_time,
    submit_path,
    wait_for_stage,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

OWNER = "bob@example.com"
"""The code-reviewer example's author: its owner team, as far as the policy knows."""


async def _publish(
    client: Client, settings: object, path: Path, *, version: str | None = None
) -> LifecycleHandle:
    handle = await submit_path(client, settings, path, version=version)  # type: ignore[arg-type]
    return await approve_until_published(client, handle)


async def _attest(handle: LifecycleHandle, attester: str = OWNER) -> VoteResult:
    result: VoteResult = await handle.execute_update(
        ATTEST_UPDATE,
        AttestInput(principal=principal(attester)),
        id=str(uuid.uuid4()),
        result_type=VoteResult,
    )
    return result


async def _deprecate(handle: LifecycleHandle, request: DeprecateInput) -> VoteResult:
    result: VoteResult = await handle.execute_update(
        DEPRECATE_UPDATE, request, id=str(uuid.uuid4()), result_type=VoteResult
    )
    return result


def _refusal(error: WorkflowUpdateFailedError) -> str:
    assert isinstance(error.cause, ApplicationError)
    return error.cause.message


async def _next_cycle(env: WorkflowEnvironment, handle: LifecycleHandle) -> AssetStatus:
    status = await query_status(handle)
    assert status.recertify_by is not None
    await skip_time(env, status.recertify_by - await env.get_current_time() + timedelta(hours=1))
    return await wait_for_stage(handle, Stage.RECERTIFYING, until=lambda s: s.life is not None)


async def test_a_year_three_recertifications_a_lapse_deprecation_and_retirement(
    ts_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url, policy=POLICIES / "year.toml")
    client = ts_env.client
    async with running_worker(client, settings, sqlite_engine):
        handle = await _publish(
            client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
        )
        published = await query_status(handle)
        assert published.recertify_by is not None

        for cycle in (1, 2, 3):
            await _next_cycle(ts_env, handle)
            with pytest.raises(WorkflowUpdateFailedError) as stranger:
                await _attest(handle, "mallory@example.com")
            assert "is not in team" in _refusal(stranger.value)
            await _attest(handle)
            status = await wait_for_stage(
                latest_run(client, handle),
                Stage.PUBLISHED,
                until=lambda s, c=cycle: s.recertifications == c,
            )
            assert status.recertify_by is not None
            handle = latest_run(client, handle)

        await _next_cycle(ts_env, handle)  # day ~360: nobody attests this time
        await skip_time(ts_env, timedelta(days=15))
        lapsed = await wait_for_stage(handle, Stage.DEPRECATED)
        assert lapsed.deprecation is not None
        assert "lapsed" in lapsed.deprecation.reason
        assert lapsed.recertify_by is None

        await skip_time(ts_env, timedelta(days=31))  # past the 30-day sunset
        final = await wait_for_stage(handle, Stage.RETIRED)
    assert final.recertifications == 3
    with Session(sqlite_engine) as session:
        row = store.get_version(session, ref=final.ref)
        assert row.stage == Stage.RETIRED.value
        assert row.retired_at is not None
        assert row.deprecation_reason is not None and "lapsed" in row.deprecation_reason
        actions = [event.action for event in store.audit_for(session, ref=final.ref)]
    assert actions.count("recertified") == 3
    assert "deprecated" in actions and actions[-1] == "retired"


async def test_a_tightened_policy_fails_the_next_recertification(
    ts_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    shutil.copy(POLICIES / "year.toml", policy)
    settings = make_settings(tmp_path, sqlite_url, policy=policy)
    client = ts_env.client
    async with running_worker(client, settings, sqlite_engine):
        handle = await _publish(client, settings, copy_example("skills/release-notes", tmp_path))
        # The bar rises after publication: shipping scripts now blocks.
        policy.write_text(
            policy.read_text().replace(
                '"spec.*" = "block"', '"spec.*" = "block"\n"scope.skill-scripts" = "block"'
            )
        )
        status = await query_status(handle)
        assert status.recertify_by is not None
        await skip_time(
            ts_env, status.recertify_by - await ts_env.get_current_time() + timedelta(hours=1)
        )
        failed = await wait_for_stage(handle, Stage.DEPRECATED)
    assert failed.deprecation is not None
    assert "eval bar now blocks" in failed.deprecation.reason
    assert "scope.skill-scripts" in failed.deprecation.reason


async def test_publishing_a_newer_version_deprecates_the_older_one(
    ts_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url, policy=POLICIES / "year.toml")
    client = ts_env.client
    patch = uuid.uuid4().int % 10**6
    older, newer = f"3.0.{patch}", f"3.0.{patch + 1}"
    path = copy_example("subagents/code-reviewer.md", tmp_path)
    async with running_worker(client, settings, sqlite_engine):
        first = await _publish(client, settings, path, version=older)
        await _publish(client, settings, path, version=newer)
        superseded = await wait_for_stage(latest_run(client, first), Stage.DEPRECATED)
    assert superseded.deprecation is not None
    assert superseded.deprecation.replacement == f"subagent/code-reviewer@{newer}"
    with Session(sqlite_engine) as session:
        latest = store.latest_published(session, kind=superseded.ref.kind, name="code-reviewer")
        row = store.get_version(session, ref=AssetRef.parse(f"subagent/code-reviewer@{older}"))
    assert latest is not None and latest.version == newer
    assert row.replacement == f"subagent/code-reviewer@{newer}"


async def test_history_stays_short_after_twenty_cycles(
    ts_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url, policy=POLICIES / "year.toml")
    client = ts_env.client
    lengths = []
    async with running_worker(client, settings, sqlite_engine):
        handle = await _publish(
            client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
        )
        for cycle in range(1, 21):
            await _next_cycle(ts_env, handle)
            await _attest(handle)
            await wait_for_stage(
                latest_run(client, handle),
                Stage.PUBLISHED,
                until=lambda s, c=cycle: s.recertifications == c,
            )
            handle = latest_run(client, handle)
            lengths.append(len((await handle.fetch_history()).events))
        await handle.terminate(reason="test done")
    assert max(lengths) <= 60, lengths
    assert lengths[-1] <= lengths[0] + 5  # no growth from cycle to cycle


async def test_deprecation_on_demand_is_for_the_owner_and_platform_teams(
    ts_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url, policy=POLICIES / "year.toml")
    client = ts_env.client
    async with running_worker(client, settings, sqlite_engine):
        handle = await _publish(
            client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
        )
        with pytest.raises(WorkflowUpdateFailedError) as outsider:
            await _deprecate(
                handle, DeprecateInput(principal=principal("mallory@example.com"), reason="no")
            )
        assert "may not deprecate" in _refusal(outsider.value)
        with pytest.raises(WorkflowUpdateFailedError) as no_reason:
            await _deprecate(handle, DeprecateInput(principal=principal(OWNER), reason=" "))
        assert "reason is required" in _refusal(no_reason.value)
        with pytest.raises(WorkflowUpdateFailedError) as early:
            await _attest(handle)
        assert "only when it is due" in _refusal(early.value)

        sunset = await ts_env.get_current_time() + timedelta(days=7)
        await _deprecate(
            handle,
            DeprecateInput(
                principal=principal("platform-lead@example.com"),
                reason="replaced by the org-wide reviewer",
                replacement="subagent/pr-reviewer@2.0.0",
                sunset=sunset,
            ),
        )
        deprecated = await wait_for_stage(handle, Stage.DEPRECATED)
        assert deprecated.deprecation is not None
        assert deprecated.deprecation.sunset_at == sunset
        with pytest.raises(WorkflowUpdateFailedError) as twice:
            await _deprecate(handle, DeprecateInput(principal=principal(OWNER), reason="again"))
        assert "only a published version" in _refusal(twice.value)
        await skip_time(ts_env, timedelta(days=8))
        final = await wait_for_stage(handle, Stage.RETIRED)
    with Session(sqlite_engine) as session:
        row = store.get_version(session, ref=final.ref)
    assert row.replacement == "subagent/pr-reviewer@2.0.0"
    assert row.retired_at is not None


async def test_the_platform_team_finds_what_is_due_from_the_temporal_ui(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url, policy=POLICIES / "year.toml")
    client = dev_env.client
    async with running_worker(client, settings, sqlite_engine):
        handle = await _publish(
            client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
        )
        status = await query_status(handle)
        assert status.recertify_by is not None
        attributes = (await handle.describe()).typed_search_attributes
        assert attributes.get(temporal.RECERTIFY_BY) == status.recertify_by
        assert attributes.get(temporal.LIFECYCLE_STAGE) == "Published"
        assert "re-certification due" in status.waiting_for
        within = (status.recertify_by + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = f'WorkflowId = "{handle.id}" AND RecertifyBy < "{within}"'
        for _ in range(100):
            if [w.id async for w in client.list_workflows(query)] == [handle.id]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"{query} did not find the published version")
        await handle.terminate(reason="test done")
