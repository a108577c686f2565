"""Posting to Slack at most once per key, however often an activity is retried."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from agent_registry.lifecycle.contract import SlackMessageRef
from agent_registry.registry.db import session_scope
from agent_registry.registry.slack_messages import find_message, remember_message

logger = logging.getLogger(__name__)

METADATA_EVENT_TYPE = "agent_registry_post"
"""The metadata event type every registry post carries, with its key in the payload."""

LOOKUP_UNAVAILABLE = frozenset(
    {"missing_scope", "not_in_channel", "channel_not_found", "thread_not_found"}
)
"""Slack's answers when the bot may not read a conversation back: post instead (a rare
duplicate beats a lost review request)."""

LOOKUP_PAGE_SIZE = 200
LOOKUP_MAX_PAGES = 5
"""A retry reads at most this many pages of the conversation, newest first."""

LOOKUP_CLOCK_MARGIN = timedelta(minutes=5)
"""Read from this long before the activity was first scheduled (clocks disagree)."""

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


class SlackPoster:
    """Posts a message under an idempotency key, or updates the one already posted.

    The key is the workflow's deterministic key for the activity call, so a retried
    activity finds the message its earlier attempt posted and does not post again:
    in the registry database, or, when the attempt died between posting and recording,
    in Slack itself by the key the message carries in its metadata.
    """

    def __init__(self, client: AsyncWebClient, engine: Engine) -> None:
        self._client = client
        self._engine = engine
        self._channel_ids: dict[str, str] = {}

    async def post(
        self,
        *,
        key: str,
        channel: str,
        text: str,
        purpose: str,
        attempt: int,
        since: datetime | None = None,
        blocks: Sequence[Block] | None = None,
        thread: SlackMessageRef | None = None,
    ) -> SlackMessageRef:
        """Post once under ``key``; on a repeat, refresh the posted message instead.

        Args:
            key: Idempotency key of the calling activity.
            channel: Channel id or name to post to.
            text: Plain-text body (the notification and fallback text).
            purpose: What the message is, recorded with it.
            attempt: The calling activity's attempt; from the second on, Slack is
                searched for a message posted but not recorded by an earlier attempt.
            since: When the calling activity was first scheduled: no earlier attempt
                posted before then, so the search starts there.
            blocks: Block Kit layout, when the message has one.
            thread: Post as a reply in this message's thread.

        Returns:
            Where the message lives.
        """
        existing = await asyncio.to_thread(self._find, key)
        if existing is None and attempt > 1:
            found = await self._find_in_slack(
                key, channel=channel, thread=thread, since=since, purpose=purpose
            )
            if found is not None:
                existing = await asyncio.to_thread(self._remember, key, found, purpose)
        if existing is not None:
            if blocks is not None:
                await self._client.chat_update(
                    channel=existing.channel, ts=existing.ts, text=text, blocks=blocks
                )
            return existing
        response = await self._client.chat_postMessage(
            channel=thread.channel if thread else channel,
            thread_ts=thread.ts if thread else None,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
            metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": key}},
        )
        posted = SlackMessageRef(channel=str(response["channel"]), ts=str(response["ts"]))
        return await asyncio.to_thread(self._remember, key, posted, purpose)

    async def update(self, message: SlackMessageRef, *, text: str, blocks: Sequence[Block]) -> None:
        """Replace a posted message in place (``chat.update`` is idempotent by nature)."""
        await self._client.chat_update(
            channel=message.channel, ts=message.ts, text=text, blocks=blocks
        )

    async def _find_in_slack(
        self,
        key: str,
        *,
        channel: str,
        thread: SlackMessageRef | None,
        since: datetime | None,
        purpose: str,
    ) -> SlackMessageRef | None:
        """The message carrying ``key`` in its metadata, or None (also when Slack won't say)."""
        oldest = None if since is None else f"{(since - LOOKUP_CLOCK_MARGIN).timestamp():.6f}"
        try:
            channel_id = thread.channel if thread else await self._resolve(channel)
            if channel_id is None:
                logger.warning(
                    "cannot look up an earlier %s post: no channel named %s is visible",
                    purpose,
                    channel,
                )
                return None
            try:
                return await self._scan(key, channel_id, thread=thread, oldest=oldest)
            except SlackApiError as error:
                if thread is not None or error.response.get("error") != "not_in_channel":
                    raise
                # The bot posts to the review channel without being a member
                # (chat:write.public); reading it back needs membership.
                await self._client.conversations_join(channel=channel_id)
                return await self._scan(key, channel_id, thread=thread, oldest=oldest)
        except SlackApiError as error:
            code = error.response.get("error")
            if code not in LOOKUP_UNAVAILABLE:
                raise
            logger.warning(
                "cannot look up an earlier %s post (Slack said %s; the bot needs "
                "channels:history, groups:history, im:history, channels:read, "
                "groups:read and channels:join): posting, which may duplicate it",
                purpose,
                code,
            )
        return None

    async def _scan(
        self, key: str, channel: str, *, thread: SlackMessageRef | None, oldest: str | None
    ) -> SlackMessageRef | None:
        async for message in self._messages(channel, thread=thread, oldest=oldest):
            if _carries_key(message, key):
                return SlackMessageRef(channel=channel, ts=str(message["ts"]))
        return None

    async def _messages(
        self, channel: str, *, thread: SlackMessageRef | None, oldest: str | None
    ) -> AsyncIterator[Mapping[str, Any]]:
        """The conversation's messages (a thread's replies) since ``oldest``, page by page."""
        cursor: str | None = None
        for _ in range(LOOKUP_MAX_PAGES):
            if thread is None:
                response = await self._client.conversations_history(
                    channel=channel,
                    oldest=oldest,
                    limit=LOOKUP_PAGE_SIZE,
                    cursor=cursor,
                    include_all_metadata=True,
                )
            else:
                response = await self._client.conversations_replies(
                    channel=channel,
                    ts=thread.ts,
                    oldest=oldest,
                    limit=LOOKUP_PAGE_SIZE,
                    cursor=cursor,
                    include_all_metadata=True,
                )
            for message in response.get("messages") or []:
                yield message
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return

    async def _resolve(self, channel: str) -> str | None:
        """The id of a channel given by id or ``#name`` (reading history needs the id)."""
        if _CHANNEL_ID.match(channel):
            return channel
        name = channel.removeprefix("#")
        if name not in self._channel_ids:
            cursor: str | None = None
            for _ in range(LOOKUP_MAX_PAGES):
                response = await self._client.conversations_list(
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=1000,
                    cursor=cursor,
                )
                for listed in response.get("channels") or []:
                    self._channel_ids[str(listed["name"])] = str(listed["id"])
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if name in self._channel_ids or not cursor:
                    break
        return self._channel_ids.get(name)

    def _find(self, key: str) -> SlackMessageRef | None:
        with session_scope(self._engine) as session:
            row = find_message(session, key=key)
            return None if row is None else SlackMessageRef(channel=row.channel, ts=row.ts)

    def _remember(self, key: str, message: SlackMessageRef, purpose: str) -> SlackMessageRef:
        with session_scope(self._engine) as session:
            row = remember_message(
                session, key=key, channel=message.channel, ts=message.ts, purpose=purpose
            )
            return SlackMessageRef(channel=row.channel, ts=row.ts)


def _carries_key(message: Mapping[str, Any], key: str) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != METADATA_EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, Mapping) and payload.get("key") == key
