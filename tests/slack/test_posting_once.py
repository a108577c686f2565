"""A retried post finds the message an earlier attempt posted but never recorded.

``SlackPoster`` records each posted message under its idempotency key. When the record
is lost (the worker died, or the database write failed, right after Slack accepted the
post), the retry looks the message up in Slack by the key in its metadata.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine
from sqlmodel import Session

from activities.slack_posting import METADATA_EVENT_TYPE, SlackPoster
from agent_registry.lifecycle.contract import SlackMessageRef
from agent_registry.registry.slack_messages import find_message, remember_message
from agent_registry.registry.tables import SlackMessage
from agent_registry.slack.client import retry_handlers
from tests.slack_double import DEFAULT_TOKEN, SlackDouble

REVIEWS = "agent-registry-reviews"
REVIEWS_ID = "C0REVIEWS1"
LOOKUPS = ("conversations.list", "conversations.history", "conversations.replies")


class DatabaseWriteError(Exception):
    """The registry database failing the write that records a posted message."""


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble(channels={REVIEWS: REVIEWS_ID, "elsewhere": "C0ELSEWHERE"}) as running:
        yield running


@pytest.fixture
def poster(double: SlackDouble, sqlite_engine: Engine) -> SlackPoster:
    return SlackPoster(_client(double), sqlite_engine)


@pytest.fixture
def record_lost_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first record after a post fails, as when the worker dies right after posting."""
    failures = [DatabaseWriteError("connection reset")]

    def flaky(session: Session, **fields: str) -> SlackMessage:
        if failures:
            raise failures.pop()
        return remember_message(session, **fields)

    monkeypatch.setattr("activities.slack_posting.remember_message", flaky)


def _lookups(double: SlackDouble) -> list[str]:
    return [call.method for call in double.calls if call.method in LOOKUPS]


def _recorded(engine: Engine, key: str) -> SlackMessageRef | None:
    with Session(engine) as session:
        row = find_message(session, key=key)
        return None if row is None else SlackMessageRef(channel=row.channel, ts=row.ts)


async def _post_failing_then_retry(
    poster: SlackPoster, *, key: str, channel: str, **kwargs: Any
) -> SlackMessageRef:
    since = datetime.now(UTC)
    with pytest.raises(DatabaseWriteError):
        await poster.post(key=key, channel=channel, attempt=1, since=since, **kwargs)
    return await poster.post(key=key, channel=channel, attempt=2, since=since, **kwargs)


@pytest.mark.usefixtures("record_lost_once")
async def test_a_retry_after_a_lost_record_does_not_post_the_review_request_again(
    double: SlackDouble, poster: SlackPoster, sqlite_engine: Engine
) -> None:
    blocks = [SectionBlock(text="*review* v2")]
    found = await _post_failing_then_retry(
        poster,
        key="wf/review-request/1",
        channel=f"#{REVIEWS}",
        text="review",
        purpose="review-request",
        blocks=blocks,
    )

    [message] = double.messages_in(REVIEWS)  # one message, not two
    assert found == SlackMessageRef(channel=REVIEWS_ID, ts=message.ts)
    assert message.metadata == {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"key": "wf/review-request/1"},
    }
    assert message.edits == 1 and "v2" in str(message.blocks)  # refreshed like a repeat
    assert _recorded(sqlite_engine, "wf/review-request/1") == found
    assert len(double.calls_to("chat.postMessage", ok_only=True)) == 1

    # Recorded now: a later attempt finds the record and asks Slack nothing.
    before = len(_lookups(double))
    again = await poster.post(
        key="wf/review-request/1", channel=f"#{REVIEWS}", text="review", purpose="x", attempt=3
    )
    assert again == found and len(_lookups(double)) == before


@pytest.mark.usefixtures("record_lost_once")
async def test_a_retry_after_a_lost_record_does_not_reply_in_the_thread_again(
    double: SlackDouble, poster: SlackPoster, sqlite_engine: Engine
) -> None:
    review = await _client(double).chat_postMessage(channel=REVIEWS_ID, text="review")
    thread = SlackMessageRef(channel=REVIEWS_ID, ts=str(review["ts"]))
    # Another message in the thread and one at the top level: neither carries the key.
    await _client(double).chat_postMessage(channel=REVIEWS_ID, thread_ts=thread.ts, text="hi")

    found = await _post_failing_then_retry(
        poster,
        key="wf/review-reminder/1",
        channel=REVIEWS_ID,
        text="reminder",
        purpose="review-reminder",
        thread=thread,
    )

    replies = double.replies_to(REVIEWS, thread.ts)
    assert [reply.text for reply in replies] == ["hi", "reminder"]  # the reminder once
    assert found == SlackMessageRef(channel=REVIEWS_ID, ts=replies[1].ts)
    assert _recorded(sqlite_engine, "wf/review-reminder/1") == found
    assert _lookups(double) == ["conversations.replies"]


async def test_first_attempts_post_with_the_key_and_never_read_slack_back(
    double: SlackDouble, poster: SlackPoster
) -> None:
    review = await poster.post(
        key="wf/review-request/1",
        channel=f"#{REVIEWS}",
        text="review",
        purpose="review-request",
        attempt=1,
        blocks=[SectionBlock(text="review")],
    )
    await poster.post(
        key="wf/review-reminder/1",
        channel=REVIEWS_ID,
        text="reminder",
        purpose="review-reminder",
        attempt=1,
        thread=review,
    )

    assert _lookups(double) == []
    assert [call.method for call in double.calls] == ["chat.postMessage"] * 2
    keys = [call.params["metadata"]["event_payload"]["key"] for call in double.calls]
    assert keys == ["wf/review-request/1", "wf/review-reminder/1"]


@pytest.mark.usefixtures("record_lost_once")
@pytest.mark.parametrize(
    ("channel", "method", "error"),
    [
        (REVIEWS_ID, "conversations.history", "missing_scope"),
        (REVIEWS_ID, "conversations.join", "missing_scope"),
        (f"#{REVIEWS}", "conversations.list", "missing_scope"),
    ],
)
async def test_a_lookup_slack_refuses_still_posts(
    double: SlackDouble,
    poster: SlackPoster,
    caplog: pytest.LogCaptureFixture,
    channel: str,
    method: str,
    error: str,
) -> None:
    if method == "conversations.join":  # a bot that may not join the channel
        double.fail_with("conversations.history", "not_in_channel", times=1)
    double.fail_with(method, error, times=1)
    with caplog.at_level(logging.WARNING, logger="activities.slack_posting"):
        retried = await _post_failing_then_retry(
            poster, key="wf/review-request/1", channel=channel, text="review", purpose="review"
        )

    # A duplicate, rather than a review request nobody sees.
    messages = double.messages_in(REVIEWS)
    assert len(messages) == 2 and retried.ts == messages[1].ts
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert error in warning.getMessage() and "history" in warning.getMessage()
    assert DEFAULT_TOKEN not in warning.getMessage()


@pytest.mark.usefixtures("record_lost_once")
async def test_a_bot_outside_the_channel_joins_it_to_find_its_post(
    double: SlackDouble, poster: SlackPoster
) -> None:
    double.fail_with("conversations.history", "not_in_channel", times=1)

    found = await _post_failing_then_retry(
        poster, key="wf/review-request/1", channel=REVIEWS_ID, text="review", purpose="review"
    )

    [message] = double.messages_in(REVIEWS)
    assert found.ts == message.ts
    assert [call.params.get("channel") for call in double.calls_to("conversations.join")] == [
        REVIEWS_ID
    ]


@pytest.mark.usefixtures("record_lost_once")
async def test_a_lookup_that_fails_otherwise_fails_the_attempt_without_posting(
    double: SlackDouble, poster: SlackPoster
) -> None:
    double.server_error("conversations.history", times=10)
    with pytest.raises(SlackApiError):
        await _post_failing_then_retry(
            poster, key="wf/review-request/1", channel=REVIEWS_ID, text="review", purpose="x"
        )

    assert len(double.messages_in(REVIEWS)) == 1  # Temporal retries; nothing posted twice


@pytest.mark.usefixtures("record_lost_once")
async def test_the_lookup_reads_only_since_the_activity_was_scheduled(
    double: SlackDouble, poster: SlackPoster
) -> None:
    await _post_failing_then_retry(
        poster, key="wf/review-request/1", channel=REVIEWS_ID, text="review", purpose="x"
    )

    [history] = double.calls_to("conversations.history")
    assert float(history.params["oldest"]) > 0
    assert int(history.params["limit"]) <= 1000
    assert history.params["include_all_metadata"] in ("1", "true", True)


def _client(double: SlackDouble) -> AsyncWebClient:
    return AsyncWebClient(
        token=DEFAULT_TOKEN, base_url=double.base_url, retry_handlers=retry_handlers()
    )
