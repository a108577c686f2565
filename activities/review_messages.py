"""The review request in Slack: posted when a review opens, updated as its state changes.

Updated after each vote, and again when the approved version is deprecated or retired,
so the message never offers an action the lifecycle would refuse. The message is built
and delivered by :class:`activities.review_messenger.ReviewMessenger`, injected, so that
workflows import this module (to call the activities by method reference) without
loading the Slack SDK or the database layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from activities.models import ReviewMessageUpdate, ReviewRequestInput
from agent_registry.lifecycle.contract import SlackMessageRef

if TYPE_CHECKING:
    from activities.review_messenger import ReviewMessenger


class ReviewMessageActivities:
    """Keeps one Slack message per review round true to the review's state."""

    def __init__(self, messenger: ReviewMessenger) -> None:
        self._messenger = messenger

    @activity.defn(name="post_review_request")
    async def post_review_request(self, request: ReviewRequestInput) -> SlackMessageRef | None:
        """Post the review request to the policy's review channel, once per ``request.key``.

        Returns:
            Where the message lives, or None when Slack is not configured (the request
            is then logged, and reviews go through the CLI).
        """
        return await self._messenger.post(request)

    @activity.defn(name="update_review_message")
    async def update_review_message(self, request: ReviewMessageUpdate) -> None:
        """Show who voted and what is still missing, or the decision, in place."""
        await self._messenger.update(request)
