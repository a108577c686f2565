"""Slack answers 429 (Retry-After) and 500 past the client's own retries, across a lifecycle."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.slack.client import SERVER_ERROR_RETRIES
from tests.faults.helpers import ALICE, REVIEWS, assert_published_exactly_once, eventually
from tests.slack_double import SlackDouble, slack_settings
from tests.support import (
    copy_example,
    latest_run,
    make_settings,
    running_worker,
    submit_path,
    vote,
    wait_for_stage,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_slack_storm_beyond_client_retries_posts_each_message_once(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    double: SlackDouble,
) -> None:
    # More 500s than the client retries (1 + SERVER_ERROR_RETRIES calls), after a 429
    # storm: the first activity attempt fails and Temporal's retry posts the message.
    server_errors = SERVER_ERROR_RETRIES + 2
    double.rate_limit("chat.postMessage", times=3, retry_after=1)
    double.server_error("chat.postMessage", times=server_errors)
    settings = slack_settings(make_settings(tmp_path, sqlite_url), double)
    client = dev_env.client
    dm = double.dm_channel(ALICE.id)
    async with running_worker(client, settings, sqlite_engine):
        handle = await submit_path(
            client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
        )
        status = await wait_for_stage(
            handle, Stage.IN_REVIEW, until=lambda s: s.review_message is not None, timeout=60
        )
        [review] = double.messages_in(REVIEWS)
        assert status.review_message is not None and status.review_message.ts == review.ts
        statuses = [c.status for c in double.calls_to("chat.postMessage")]
        assert statuses == [429] * 3 + [500] * server_errors + [200]

        # Server errors again while the approval edits the review message and the
        # submitter is told of the publication.
        double.server_error("chat.update", times=server_errors)
        double.server_error("chat.postMessage", times=server_errors)
        await vote(handle, Decision.APPROVE, "rita@example.com")
        final = await wait_for_stage(
            latest_run(client, handle),
            Stage.PUBLISHED,
            until=lambda s: s.recertify_by is not None,
            timeout=60,
        )
        await eventually(lambda: len(double.messages_in(dm)) >= 1)
        await eventually(lambda: "rita@example.com" in str(double.messages_in(REVIEWS)[0].blocks))
        await asyncio.sleep(1)  # nothing else arrives late

    [review_after] = double.messages_in(REVIEWS)  # still one message, edited in place
    assert review_after.ts == review.ts and review_after.edits >= 1
    assert double.replies_to(REVIEWS, review.ts) == []
    [notice] = double.messages_in(dm)
    assert "Published" in notice.text or "published" in notice.text
    assert len(double.calls_to("chat.postMessage", ok_only=True)) == 2  # request + notice
    assert [c.stage for c in final.history].count(Stage.PUBLISHED) == 1
    assert_published_exactly_once(sqlite_engine, final.ref, handle.id)
