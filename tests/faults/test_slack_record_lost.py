"""The record of a posted Slack message lost right after the post, across a lifecycle.

The window a worker crash opens between ``chat.postMessage`` and the database write
that records the message's key: here the write itself fails once, after Slack accepted
the post, for the review request and for the submitter's published notice. Temporal
retries each activity, and the retry finds the message by the key in its metadata.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.registry.slack_messages import remember_message
from agent_registry.registry.tables import SlackMessage
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


class RecordLostError(Exception):
    """The database write after a successful post failing (the worker dying there)."""


@pytest.fixture
def lost_records(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail the first record of each of these purposes; the list empties as they fail."""
    pending = ["review-request", "published"]

    def losing(session: Session, *, purpose: str, **fields: str) -> SlackMessage:
        if purpose in pending:
            pending.remove(purpose)
            raise RecordLostError(f"record of the {purpose} post lost")
        return remember_message(session, purpose=purpose, **fields)

    monkeypatch.setattr("activities.slack_posting.remember_message", losing)
    return pending


async def test_a_post_whose_record_is_lost_is_not_posted_again(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    double: SlackDouble,
    lost_records: list[str],
) -> None:
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
        [review] = double.messages_in(REVIEWS)  # the retry found it, posted nothing new
        assert status.review_message is not None and status.review_message.ts == review.ts
        assert double.calls_to("conversations.history", ok_only=True)

        await vote(handle, Decision.APPROVE, "rita@example.com")
        final = await wait_for_stage(
            latest_run(client, handle),
            Stage.PUBLISHED,
            until=lambda s: s.recertify_by is not None,
            timeout=60,
        )
        await eventually(lambda: not lost_records)
        await eventually(lambda: len(double.messages_in(dm)) >= 1)
        await eventually(lambda: "rita@example.com" in str(double.messages_in(REVIEWS)[0].blocks))
        await asyncio.sleep(3)  # a retry of the notice would have posted again by now

    assert lost_records == []  # both records were lost once
    [review_after] = double.messages_in(REVIEWS)  # still one message, edited in place
    assert review_after.ts == review.ts and review_after.edits >= 1
    assert double.replies_to(REVIEWS, review.ts) == []
    [notice] = double.messages_in(dm)
    assert "Published" in notice.text or "published" in notice.text
    assert len(double.calls_to("chat.postMessage", ok_only=True)) == 2  # request + notice
    assert [c.stage for c in final.history].count(Stage.PUBLISHED) == 1
    assert_published_exactly_once(sqlite_engine, final.ref, handle.id)
