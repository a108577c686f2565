"""Notices to people: submitters by DM, reviewers in the review thread, the platform team.

Every notice is logged, the channel of last resort: without a Slack token the product
still works, with notices in the log and reviews through the CLI. With one, the worker
injects :class:`activities.slack_notices.SlackNotices`; workflows import this module
(to call the activity by method reference) without loading the Slack SDK.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from temporalio import activity

from activities.models import Notice

if TYPE_CHECKING:
    from activities.slack_notices import SlackNotices

logger = logging.getLogger(__name__)


class NoticeActivities:
    """Delivers notices to the log and, with a bot token, to Slack.

    Args:
        slack: Delivers in Slack; None when no bot token is configured.
    """

    def __init__(self, *, slack: SlackNotices | None) -> None:
        self._slack = slack

    @activity.defn(name="send_notice")
    async def send_notice(self, notice: Notice) -> None:
        """Log the notice, then deliver it in Slack when Slack is configured.

        Idempotent: Slack gets one post per ``notice.key``; a notice without a key is
        only logged.
        """
        recipient = f" ({notice.recipient})" if notice.recipient else ""
        logger.info(
            "notice %s for %s%s about %s: %s",
            notice.event,
            notice.audience.value,
            recipient,
            notice.ref,
            notice.text,
        )
        if self._slack is None or not notice.key:
            return
        await self._slack.deliver(notice)
