"""Notices to people: submitters, reviewers, the platform team.

Without a Slack token the product still works: notices go to the log, and reviews go
through the CLI.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from pydantic import BaseModel
from temporalio import activity

from agent_registry.assets.refs import AssetRef

logger = logging.getLogger(__name__)


class Audience(StrEnum):
    """Who a notice is for."""

    SUBMITTER = "submitter"
    REVIEWERS = "reviewers"
    PLATFORM = "platform"


class Notice(BaseModel):
    """One notice about one asset version.

    Attributes:
        ref: The asset version.
        event: What happened (``review-requested``, ``published``, …).
        audience: Who it is for.
        recipient: The person, for submitter notices.
        text: The message.
        link: Where to look (the workflow in the Temporal UI).
    """

    ref: AssetRef
    event: str
    audience: Audience
    recipient: str | None = None
    text: str
    link: str | None = None


class NoticeActivities:
    """Delivers notices to the log, the channel of last resort."""

    @activity.defn(name="send_notice")
    def send_notice(self, notice: Notice) -> None:
        """Log the notice with the asset and audience, so an operator can follow along."""
        recipient = f" ({notice.recipient})" if notice.recipient else ""
        link = f" {notice.link}" if notice.link else ""
        logger.info(
            "notice %s for %s%s about %s: %s%s",
            notice.event,
            notice.audience.value,
            recipient,
            notice.ref,
            notice.text,
            link,
        )
