"""Posting to Slack at most once per key, however often an activity is retried."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from agent_registry.contract import SlackMessageRef
from agent_registry.registry.db import session_scope
from agent_registry.registry.slack_messages import find_message, remember_message


class SlackPoster:
    """Posts a message under an idempotency key, or updates the one already posted.

    The key is the workflow's deterministic key for the activity call, so a retried
    activity finds the message its earlier attempt posted and does not post again.
    """

    def __init__(self, client: AsyncWebClient, engine: Engine) -> None:
        self._client = client
        self._engine = engine

    async def post(
        self,
        *,
        key: str,
        channel: str,
        text: str,
        purpose: str,
        blocks: Sequence[Block] | None = None,
        thread: SlackMessageRef | None = None,
    ) -> SlackMessageRef:
        """Post once under ``key``; on a repeat, refresh the posted message instead.

        Args:
            key: Idempotency key of the calling activity.
            channel: Channel id or name to post to.
            text: Plain-text body (the notification and fallback text).
            purpose: What the message is, recorded with it.
            blocks: Block Kit layout, when the message has one.
            thread: Post as a reply in this message's thread.

        Returns:
            Where the message lives.
        """
        existing = await asyncio.to_thread(self._find, key)
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
        )
        posted = SlackMessageRef(channel=str(response["channel"]), ts=str(response["ts"]))
        return await asyncio.to_thread(self._remember, key, posted, purpose)

    async def update(self, message: SlackMessageRef, *, text: str, blocks: Sequence[Block]) -> None:
        """Replace a posted message in place (``chat.update`` is idempotent by nature)."""
        await self._client.chat_update(
            channel=message.channel, ts=message.ts, text=text, blocks=blocks
        )

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
