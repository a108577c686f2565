"""The lifecycle end to end on the real Temporal dev server and both databases."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.testing import WorkflowEnvironment

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.lifecycle.client import query_status
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.registry import store
from agent_registry.registry.tables import AssetVersion
from tests.mcp_probe.support import needs_sandbox
from tests.support import (
    POLICIES,
    copy_example,
    count_published_events,
    make_settings,
    revise_path,
    running_worker,
    submit_path,
    vote,
    wait_for_stage,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _refusal(error: WorkflowUpdateFailedError) -> str:
    cause = error.cause
    assert isinstance(cause, ApplicationError)
    return cause.message


async def _listed(client: Client, query: str) -> bool:
    """Whether a visibility query finds exactly one run (visibility lags a little)."""
    for _ in range(100):
        if len([w async for w in client.list_workflows(query)]) == 1:
            return True
        await asyncio.sleep(0.1)
    return False


def _published(engine: Engine, ref: AssetRef) -> AssetVersion:
    with Session(engine) as session:
        return store.get_version(session, ref=ref)


@pytest.mark.parametrize(
    ("example", "kind"),
    [
        ("skills/release-notes", AssetKind.SKILL),
        ("subagents/code-reviewer.md", AssetKind.SUBAGENT),
        pytest.param("mcp-servers/time", AssetKind.MCP_SERVER, marks=needs_sandbox),
    ],
)
async def test_each_kind_is_evaluated_reviewed_and_published(
    dev_env: WorkflowEnvironment,
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    example: str,
    kind: AssetKind,
) -> None:
    settings = make_settings(tmp_path, db_url)
    client = dev_env.client
    async with running_worker(client, settings, engine):
        handle = await submit_path(client, settings, copy_example(example, tmp_path))
        in_review = await wait_for_stage(handle, Stage.IN_REVIEW)
        assert in_review.ref.kind is kind
        assert in_review.eval is not None and in_review.eval.passed
        assert in_review.review_deadline is not None

        await vote(handle, Decision.APPROVE, "rita@example.com")
        final = await wait_for_stage(
            handle, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
        )

    assert final.stage is Stage.PUBLISHED
    row = _published(engine, final.ref)
    assert row.stage == Stage.PUBLISHED.value
    assert row.content_hash == final.content_hash and len(row.content_hash) == 64
    assert row.approvers == ["rita@example.com"]
    assert count_published_events(engine, final.ref) == 1
    description = await handle.describe()
    attributes = description.typed_search_attributes
    from agent_registry import temporal

    assert attributes.get(temporal.LIFECYCLE_STAGE) == "Published"
    assert attributes.get(temporal.ASSET_KIND) == kind.value
    assert attributes.get(temporal.OWNER_TEAM) == final.owner_team
    assert await _listed(client, f'WorkflowId = "{handle.id}" AND LifecycleStage = "Published"')


async def test_reject_ends_the_lifecycle_with_the_reason(
    dev_env: WorkflowEnvironment, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, db_url)
    async with running_worker(dev_env.client, settings, engine):
        handle = await submit_path(
            dev_env.client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
        )
        await wait_for_stage(handle, Stage.IN_REVIEW)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await vote(handle, Decision.REJECT, "rita@example.com")
        assert "reason is required" in _refusal(refused.value)

        await vote(handle, Decision.REJECT, "rita@example.com", reason="duplicates pr-reviewer")
        final = await handle.result()

    assert final.stage is Stage.REJECTED
    assert final.outcome_reason == "duplicates pr-reviewer"
    with Session(engine) as session:
        version = store.get_version(session, ref=final.ref)
        assert version.stage == Stage.REJECTED.value
        assert version.id is not None
        decisions = store.decisions_for(session, version_id=version.id)
    assert [(d.reviewer, d.decision, d.reason) for d in decisions] == [
        ("rita@example.com", Decision.REJECT.value, "duplicates pr-reviewer")
    ]


async def test_changes_requested_then_revised_then_approved(
    dev_env: WorkflowEnvironment, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, db_url)
    skill = copy_example("skills/release-notes", tmp_path)
    async with running_worker(dev_env.client, settings, engine):
        handle = await submit_path(dev_env.client, settings, skill)
        first = await wait_for_stage(handle, Stage.IN_REVIEW)
        await vote(handle, Decision.REQUEST_CHANGES, "rita@example.com", reason="add an example")
        await wait_for_stage(handle, Stage.CHANGES_REQUESTED)

        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await vote(handle, Decision.APPROVE, "carol@example.com")
        assert "not in review" in _refusal(refused.value)

        (skill / "SKILL.md").write_text(
            (skill / "SKILL.md").read_text()
            + "\n## Example\n\nNotes for 1.5.0 start with the date.\n"
        )
        result = await revise_path(handle, settings, skill, changelog="Adds an example")
        assert "revision received" in result.message
        second = await wait_for_stage(handle, Stage.IN_REVIEW)
        assert second.revision == 1
        assert second.content_hash != first.content_hash
        await vote(handle, Decision.APPROVE, "rita@example.com")
        final = await wait_for_stage(
            handle, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
        )

    assert final.stage is Stage.PUBLISHED
    assert _published(engine, final.ref).content_hash == second.content_hash
    assert [c.stage for c in final.history] == [
        Stage.SUBMITTED,
        Stage.EVALUATING,
        Stage.IN_REVIEW,
        Stage.CHANGES_REQUESTED,
        Stage.EVALUATING,
        Stage.IN_REVIEW,
        Stage.PUBLISHED,
    ]


async def test_eval_failure_waits_for_a_revision_that_passes(
    dev_env: WorkflowEnvironment, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, db_url)
    skill = copy_example("failing/leaky-deploy-helper", tmp_path)
    async with running_worker(dev_env.client, settings, engine):
        handle = await submit_path(dev_env.client, settings, skill)
        failed = await wait_for_stage(handle, Stage.EVAL_FAILED)
        assert failed.eval is not None and failed.eval.blocking >= 1
        assert any(f.check_id.startswith("secrets.") for f in failed.eval.top_findings)
        assert all("AKIAZ7Q3P4LMN2X5RT8W" not in f.message for f in failed.eval.top_findings)

        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await vote(handle, Decision.APPROVE, "rita@example.com")
        assert "not in review" in _refusal(refused.value)

        text = (
            (skill / "SKILL.md")
            .read_text()
            .replace(
                "export AWS_ACCESS_KEY_ID=AKIAZ7Q3P4LMN2X5RT8W", "aws sso login --profile staging"
            )
        )
        (skill / "SKILL.md").write_text(text)
        with pytest.raises(WorkflowUpdateFailedError) as stranger:
            await revise_path(handle, settings, skill, author="mallory@example.com")
        assert "neither the submitter nor an author" in _refusal(stranger.value)
        await revise_path(handle, settings, skill)
        revised = await wait_for_stage(handle, Stage.IN_REVIEW)
        assert revised.eval is not None and revised.eval.passed
        await handle.terminate(reason="test done")

    with Session(engine) as session:
        version = store.get_version(session, ref=revised.ref)
        assert version.id is not None
        latest = store.latest_eval(session, version_id=version.id)
    assert latest is not None and latest[0].passed


async def test_a_version_is_submitted_once(
    dev_env: WorkflowEnvironment, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, db_url)
    subagent = copy_example("subagents/code-reviewer.md", tmp_path)
    version = f"2.0.0-t{uuid.uuid4().hex[:10]}"
    async with running_worker(dev_env.client, settings, engine):
        handle = await submit_path(dev_env.client, settings, subagent, version=version)
        with pytest.raises(WorkflowAlreadyStartedError):
            await submit_path(dev_env.client, settings, subagent, version=version)
        await wait_for_stage(handle, Stage.IN_REVIEW)
        await vote(handle, Decision.APPROVE, "rita@example.com")
        published = await wait_for_stage(
            handle, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
        )

        # Same version, other content, after publication: refused, nothing changes.
        subagent.write_text(subagent.read_text().replace("senior engineer", "staff engineer"))
        with pytest.raises(WorkflowAlreadyStartedError):
            await submit_path(dev_env.client, settings, subagent, version=version)

    assert await _listed(dev_env.client, f'WorkflowId = "{handle.id}"')
    assert _published(engine, published.ref).content_hash == published.content_hash


async def test_self_approval_and_double_votes_are_refused_with_the_reason(
    dev_env: WorkflowEnvironment, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    # The test policy asks two approvals even for a low-risk asset.
    settings = make_settings(tmp_path, db_url, policy=POLICIES / "two_approvals.toml")
    async with running_worker(dev_env.client, settings, engine):
        handle = await submit_path(
            dev_env.client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
        )
        await wait_for_stage(handle, Stage.IN_REVIEW)
        with pytest.raises(WorkflowUpdateFailedError) as own:
            await vote(handle, Decision.APPROVE, "alice@example.com")
        assert "cannot review it" in _refusal(own.value)
        with pytest.raises(WorkflowUpdateFailedError) as author:
            await vote(handle, Decision.APPROVE, "BOB@example.com")  # the listed author
        assert "cannot review it" in _refusal(author.value)

        first = await vote(handle, Decision.APPROVE, "carol@example.com")
        assert "still needs 1 more approval" in first.message
        with pytest.raises(WorkflowUpdateFailedError) as twice:
            await vote(handle, Decision.APPROVE, "carol@example.com")
        assert "already voted" in _refusal(twice.value)

        status = await query_status(handle)
        assert status.waiting_for.startswith("waiting for 1 more approval")
        assert [v.reviewer for v in status.votes] == ["carol@example.com"]
        await vote(handle, Decision.APPROVE, "dave@example.com")
        final = await wait_for_stage(
            handle, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
        )
    assert final.stage is Stage.PUBLISHED
    assert sorted(_published(engine, final.ref).approvers) == [
        "carol@example.com",
        "dave@example.com",
    ]


async def test_high_risk_needs_two_approvals_one_from_security(
    dev_env: WorkflowEnvironment, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, db_url, policy=POLICIES / "security_group.toml")
    subagent = copy_example("failing/unbounded-fixer.md", tmp_path)
    async with running_worker(dev_env.client, settings, engine):
        handle = await submit_path(dev_env.client, settings, subagent)
        status = await wait_for_stage(handle, Stage.IN_REVIEW)
        assert status.eval is not None and status.eval.risk_tier.value == "high"
        assert status.plan is not None and status.plan.approvals_required == 2

        await vote(handle, Decision.APPROVE, "carol@example.com")
        second = await vote(handle, Decision.APPROVE, "dave@example.com")
        assert "an approver from security" in second.message
        status = await query_status(handle)
        assert status.waiting_for.startswith("waiting for an approver from security")

        await vote(handle, Decision.APPROVE, "sec-lead@example.com")
        final = await wait_for_stage(
            handle, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
        )
    assert final.stage is Stage.PUBLISHED
    assert final.approvers == ["carol@example.com", "dave@example.com", "sec-lead@example.com"]


async def test_worker_restart_mid_review_still_publishes_exactly_once(
    dev_env: WorkflowEnvironment, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, db_url)
    async with running_worker(dev_env.client, settings, engine):
        handle = await submit_path(
            dev_env.client, settings, copy_example("skills/release-notes", tmp_path)
        )
        await wait_for_stage(handle, Stage.IN_REVIEW)
    # No worker now: the vote is accepted once a worker is back.
    async with running_worker(dev_env.client, settings, engine):
        await vote(handle, Decision.APPROVE, "rita@example.com")
        final = await wait_for_stage(
            handle, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
        )
    assert final.stage is Stage.PUBLISHED
    assert count_published_events(engine, final.ref) == 1
    with Session(engine) as session:
        rows = session.exec(  # type: ignore[call-overload]
            select(func.count()).select_from(AssetVersion).where(AssetVersion.stage == "Published")
        ).one()[0]
    assert rows == 1
