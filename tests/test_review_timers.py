"""Review SLA reminders, escalation and the revision window, on the time-skipping server."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from agent_registry.lifecycle.stages import Decision, Stage
from tests.support import (
    copy_example,
    make_settings,
    running_worker,
    skip_time,
    submit_path,
    vote,
    wait_for_stage,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _notices(caplog: pytest.LogCaptureFixture, event: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"notice {event} ")]


async def test_a_slow_review_is_reminded_then_escalated_then_still_decided(
    ts_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    settings = make_settings(tmp_path, sqlite_url)
    async with running_worker(ts_env.client, settings, sqlite_engine):
        handle = await submit_path(
            ts_env.client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
        )
        await wait_for_stage(handle, Stage.IN_REVIEW)
        assert len(_notices(caplog, "review-requested")) == 1
        assert _notices(caplog, "review-reminder") == []

        await skip_time(ts_env, timedelta(days=2, hours=1))  # past the default 2d SLA
        status = await wait_for_stage(handle, Stage.IN_REVIEW)
        assert len(_notices(caplog, "review-reminder")) == 1
        assert _notices(caplog, "review-escalated") == []

        await skip_time(ts_env, timedelta(days=2))  # past the 4d escalation limit
        await wait_for_stage(handle, Stage.IN_REVIEW)
        escalated = _notices(caplog, "review-escalated")
        assert len(escalated) == 1 and "for platform" in escalated[0]
        assert "In review for 4d" in escalated[0]

        await vote(handle, Decision.APPROVE, "rita@example.com")
        final = await wait_for_stage(
            handle, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
        )
    assert final.stage is Stage.PUBLISHED
    assert status.review_deadline is not None
    assert len(_notices(caplog, "review-reminder")) == 1  # once, not every poll


async def test_an_eval_failure_without_revision_ends_after_the_window(
    ts_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    async with running_worker(ts_env.client, settings, sqlite_engine):
        handle = await submit_path(
            ts_env.client, settings, copy_example("failing/leaky-deploy-helper", tmp_path)
        )
        # Awaiting the result lets the server skip the 30-day revision window.
        final = await handle.result()
    assert final.stage is Stage.EVAL_FAILED
    assert final.outcome_reason == "no revision arrived within the revision window"
