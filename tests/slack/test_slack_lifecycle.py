"""The lifecycle's own Slack traffic: the review request, its thread, DMs, rate limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from agent_registry.config import Settings
from agent_registry.lifecycle.stages import Decision, Stage
from tests.slack_double import Message, SlackDouble, SlackUser, slack_settings
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

REVIEWS = "agent-registry-reviews"
PLATFORM = "agent-registry-platform"
ALICE = SlackUser("U0ALICE", "alice", "alice@example.com", "Alice Submitter")


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble(
        users=[ALICE], channels={REVIEWS: "C0REVIEWS", PLATFORM: "C0PLATFORM"}
    ) as running:
        yield running


def _slack_settings(tmp_path: Path, db_url: str, double: SlackDouble) -> Settings:
    return slack_settings(make_settings(tmp_path, db_url), double)


async def _eventually(check: object, *, timeout: float = 20.0) -> None:
    assert callable(check)
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.1)


def _text(message: Message) -> str:
    return message.text + " ".join(str(block) for block in message.blocks)


async def test_a_slow_review_is_reminded_in_its_thread_then_escalated(
    ts_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    double: SlackDouble,
) -> None:
    settings = _slack_settings(tmp_path, sqlite_url, double)
    async with running_worker(ts_env.client, settings, sqlite_engine):
        handle = await submit_path(
            ts_env.client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
        )
        status = await wait_for_stage(
            handle, Stage.IN_REVIEW, until=lambda s: s.review_message is not None
        )
        assert status.review_message is not None
        [review] = double.messages_in(REVIEWS)
        assert "code-reviewer" in _text(review)

        await skip_time(ts_env, timedelta(days=2, hours=1))
        await _eventually(lambda: len(double.replies_to(REVIEWS, review.ts)) == 1)
        [reminder] = double.replies_to(REVIEWS, review.ts)
        assert "waited 2d" in reminder.text
        assert double.messages_in(PLATFORM) == []

        await skip_time(ts_env, timedelta(days=2))
        await _eventually(lambda: len(double.messages_in(PLATFORM)) == 1)
        [escalation] = double.messages_in(PLATFORM)
        assert "code-reviewer" in escalation.text and "without a decision" in escalation.text

        await vote(handle, Decision.APPROVE, "rita@example.com")
        final = await wait_for_stage(
            handle, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
        )
    assert final.stage is Stage.PUBLISHED
    [review_after] = double.messages_in(REVIEWS)  # still one message, edited in place
    assert review_after.ts == review.ts and review_after.edits >= 1
    assert "rita@example.com" in _text(review_after)
    assert len(double.replies_to(REVIEWS, review.ts)) == 1


async def test_a_rate_limit_storm_while_posting_ends_in_one_review_message(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    double: SlackDouble,
) -> None:
    double.rate_limit("chat.postMessage", times=3, retry_after=1)
    settings = _slack_settings(tmp_path, sqlite_url, double)
    async with running_worker(dev_env.client, settings, sqlite_engine):
        handle = await submit_path(
            dev_env.client, settings, copy_example("skills/release-notes", tmp_path)
        )
        await wait_for_stage(handle, Stage.IN_REVIEW, until=lambda s: s.review_message is not None)
    assert len(double.messages_in(REVIEWS)) == 1
    assert len(double.calls_to("chat.postMessage", ok_only=True)) == 1
    assert len(double.calls_to("chat.postMessage")) == 4  # three 429s, then the post


async def test_the_submitter_is_told_in_a_dm_what_became_of_their_asset(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    double: SlackDouble,
) -> None:
    settings = _slack_settings(tmp_path, sqlite_url, double)
    dm = double.dm_channel(ALICE.id)
    async with running_worker(dev_env.client, settings, sqlite_engine):
        failing = await submit_path(
            dev_env.client, settings, copy_example("failing/leaky-deploy-helper", tmp_path)
        )
        await wait_for_stage(failing, Stage.EVAL_FAILED)
        await _eventually(lambda: len(double.messages_in(dm)) == 1)
        assert "failed its evals" in double.messages_in(dm)[0].text
        assert "AKIAZ7Q3P4LMN2X5RT8W" not in double.messages_in(dm)[0].text
        await failing.terminate(reason="test done")

        handle = await submit_path(
            dev_env.client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
        )
        await wait_for_stage(handle, Stage.IN_REVIEW)
        await vote(
            handle, Decision.REQUEST_CHANGES, "rita@example.com", reason="name the base branch"
        )
        await _eventually(lambda: len(double.messages_in(dm)) == 2)
        assert "name the base branch" in double.messages_in(dm)[1].text
        await handle.terminate(reason="test done")
