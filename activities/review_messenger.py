"""The review message's content and delivery, behind :mod:`activities.review_messages`.

Posted to the policy's review channel when a review opens (or, without Slack, logged),
and kept in step with the review's state. Kept apart from the activity definitions,
which workflows import inside their sandbox: this module loads the Slack SDK and the
database layer, and only the worker, which builds :class:`ReviewMessenger`, needs them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from slack_sdk.models.blocks import Block
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity

from activities.models import ReviewMessageUpdate, ReviewRequestInput
from activities.slack_posting import SlackPoster
from activities.ui_links import calling_workflow_link
from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import parse_asset
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetRef
from agent_registry.assets.scope_summary import comparable_manifest, declared_scope_lines
from agent_registry.lifecycle.contract import SlackMessageRef
from agent_registry.policy.loader import load_policy
from agent_registry.registry import store
from agent_registry.registry.db import read_scope
from agent_registry.slack import messages
from agent_registry.slack.changes import manifest_changes
from agent_registry.slack.snapshot import ReviewSnapshot

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _ReviewContext:
    """What a review message shows besides the snapshot: link, scope and changes."""

    ui_link: str
    description: str | None
    scope_lines: list[str]
    changes: list[str] | None = None
    previous_version: str | None = None
    probe_stderr: str | None = None


class ReviewMessenger:
    """Keeps one Slack message per review round true to the review's state.

    Args:
        poster: Posts under the call's idempotency key; None without a bot token.
        engine: The registry database, read for what the message shows.
        policy_path: The policy file, read for the review channel.
        limits: Bundle limits for reading stored bundles back.
        ui_url: The Temporal Web UI, for the link to the lifecycle.
    """

    def __init__(
        self,
        *,
        poster: SlackPoster | None,
        engine: Engine,
        policy_path: Path | None,
        limits: BundleLimits,
        ui_url: str,
    ) -> None:
        self._poster = poster
        self._engine = engine
        self._policy_path = policy_path
        self._limits = limits
        self._ui_url = ui_url

    async def post(self, request: ReviewRequestInput) -> SlackMessageRef | None:
        """Post the review request to the policy's review channel.

        Returns:
            Where the message lives, or None when Slack is not configured (the request
            is then logged, and reviews go through the CLI).
        """
        status = request.snapshot
        if self._poster is None:
            logger.info(
                "notice review-requested for reviewers about %s: %s",
                status.ref,
                messages.review_text(status),
            )
            return None
        context = await asyncio.to_thread(self._context, status)
        blocks = _open_review_blocks(status, context)
        channel = load_policy(self._policy_path).review.channel
        info = activity.info()
        return await self._poster.post(
            key=request.key,
            channel=channel,
            text=messages.review_text(status),
            blocks=blocks,
            purpose="review-request",
            attempt=info.attempt,
            since=info.scheduled_time,
        )

    async def update(self, request: ReviewMessageUpdate) -> None:
        """Show who voted and what is still missing, or the decision, in place."""
        if self._poster is None:
            return
        status = request.snapshot
        context = await asyncio.to_thread(self._context, status)
        decision = request.decision
        if decision is None:
            blocks = _open_review_blocks(status, context)
        else:
            blocks = messages.decided_blocks(
                status,
                ui_link=context.ui_link,
                decided_by=decision.reviewer,
                decided_at=decision.at,
                outcome=decision.decision,
                reason=decision.reason,
            )
        await self._poster.update(request.message, text=messages.review_text(status), blocks=blocks)

    def _context(self, status: ReviewSnapshot) -> _ReviewContext:
        """What the message shows besides the snapshot, read from the registry.

        The probed server's stderr is read here, by run key, and not carried in the
        lifecycle's state: that is what ``agentreg status`` and the submitter see.
        """
        link = calling_workflow_link(self._ui_url)
        if status.content_hash is None:
            return _ReviewContext(link, None, [])
        with read_scope(self._engine) as session:
            stderr = None
            if status.eval is not None:
                stderr = store.probe_stderr_for_reviewers(session, run_key=status.eval.run_key)
            current = self._parse(session, status.ref, status.content_hash)
            described = current.manifest.description if current.manifest else None
            scope = declared_scope_lines(current)
            previous = store.latest_published(session, kind=status.ref.kind, name=status.ref.name)
            if previous is None or previous.version == status.ref.version:
                return _ReviewContext(link, described, scope, probe_stderr=stderr)
            before = self._parse(session, status.ref, previous.content_hash)
            changes = manifest_changes(
                comparable_manifest(before), comparable_manifest(current), kind=status.ref.kind
            )
            return _ReviewContext(link, described, scope, changes, previous.version, stderr)

    def _parse(self, session: Session, ref: AssetRef, content_hash: str) -> ParsedAsset:
        archive = store.get_blob(session, content_hash=content_hash)
        return parse_asset(bundle_from_archive(archive, limits=self._limits), ref.kind)


def _open_review_blocks(status: ReviewSnapshot, context: _ReviewContext) -> list[Block]:
    """The review request with its votes so far (none when it is first posted)."""
    return messages.progress_blocks(
        status,
        ui_link=context.ui_link,
        changes=context.changes,
        scope_lines=context.scope_lines,
        previous_version=context.previous_version,
        similar=status.eval.similar if status.eval else None,
        description=context.description,
        probe_stderr=context.probe_stderr,
    )
