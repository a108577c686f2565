"""Notices in Slack: the submitter by DM, reviewers in the review thread, the platform team.

The Slack side of :mod:`activities.notices`, built by the worker when a bot token is set.
Kept apart from the activity definition, which workflows import inside their sandbox:
this module loads the Slack SDK (and, through the poster, the database layer).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from temporalio import activity

from activities.models import Audience, Notice
from activities.slack_posting import SlackPoster
from activities.ui_links import calling_workflow_link
from agent_registry.lifecycle.notices import NoticeEvent
from agent_registry.policy.loader import load_policy
from agent_registry.slack.messages import attestation_request_blocks
from agent_registry.slack.mrkdwn import escape_mrkdwn
from agent_registry.slack.notice_texts import attestation_text, notice_text

logger = logging.getLogger(__name__)

NOT_A_SLACK_USER = frozenset({"users_not_found", "user_not_found", "account_inactive"})
"""Slack's answers when a submitter has no (active) Slack account: log, don't retry."""

ATTESTATION_EVENTS = {
    NoticeEvent.ATTESTATION_REQUESTED: False,
    NoticeEvent.ATTESTATION_REMINDER: True,
}
"""Notices that ask for an attestation, each with whether it is the reminder: they carry
an Attest button, so the owner answers where they read the question."""


class SlackNotices:
    """Posts each notice once per key, where its audience reads it.

    Args:
        poster: Posts under the notice's idempotency key.
        web_client: Finds a submitter's DM channel by email.
        policy_path: The policy file, read for the review and platform channels.
        ui_url: The Temporal Web UI, for links to the lifecycle.
    """

    def __init__(
        self,
        *,
        poster: SlackPoster,
        web_client: AsyncWebClient,
        policy_path: Path | None,
        ui_url: str,
    ) -> None:
        self._poster = poster
        self._client = web_client
        self._policy_path = policy_path
        self._ui_url = ui_url

    async def deliver(self, notice: Notice) -> None:
        """Post the notice (a retry with the same key posts nothing new).

        A submitter Slack does not know is logged and skipped, not retried.
        """
        text, blocks = self._slack_content(notice)
        if notice.audience is Audience.SUBMITTER:
            channel = await self._direct_channel(notice.recipient)
            if channel is None:
                return
        elif notice.audience is Audience.REVIEWERS:
            channel = load_policy(self._policy_path).review.channel
        else:
            channel = load_policy(self._policy_path).review.platform_channel
        thread = notice.thread if notice.audience is Audience.REVIEWERS else None
        info = activity.info()
        await self._poster.post(
            key=notice.key,
            channel=channel,
            text=text,
            purpose=notice.event,
            attempt=info.attempt,
            since=info.scheduled_time,
            blocks=blocks,
            thread=thread,
        )

    def _slack_content(self, notice: Notice) -> tuple[str, Sequence[Block] | None]:
        """The Slack text and, for a notice that asks for an action, its blocks."""
        reminder = ATTESTATION_EVENTS.get(notice.event)
        if reminder is None or notice.snapshot is None:
            return self._slack_text(notice), None
        snapshot = notice.snapshot
        link = calling_workflow_link(self._ui_url)
        text = attestation_text(snapshot, deadline=notice.deadline, reminder=reminder)
        blocks = attestation_request_blocks(
            snapshot, ui_link=link, deadline=notice.deadline, reminder=reminder
        )
        return text, blocks

    def _slack_text(self, notice: Notice) -> str:
        """The Slack wording for the event, or the plain text escaped for mrkdwn."""
        if notice.snapshot is not None:
            link = calling_workflow_link(self._ui_url)
            rendered = notice_text(
                notice.event, notice.snapshot, ui_link=link, waited=notice.waited
            )
            if rendered is not None:
                return rendered
        return escape_mrkdwn(notice.text)

    async def _direct_channel(self, recipient: str | None) -> str | None:
        """The DM channel with a submitter, found by email; None when Slack has no such user."""
        if recipient is None or "@" not in recipient:
            logger.info("notice not sent to Slack: %r is not an email Slack can look up", recipient)
            return None
        try:
            user = await self._client.users_lookupByEmail(email=recipient)
        except SlackApiError as error:
            if error.response.get("error") in NOT_A_SLACK_USER:
                logger.info("notice not sent to Slack: no Slack user has that email")
                return None
            raise
        opened = await self._client.conversations_open(users=str(user["user"]["id"]))
        return str(opened["channel"]["id"])
