"""The Slack app reviewers click in: buttons and modals become lifecycle workflow updates.

Every interaction is acknowledged first (Slack gives an app three seconds), then the
clicker is resolved to a reviewer identity by asking Slack, and the decision is sent to
the asset's workflow as an update. The workflow's validators decide whether the vote is
allowed; a refusal comes back at once and is shown to the clicker only (ephemeral), so
a refused click changes nothing anyone else sees.

Update ids are derived from the click (decision, channel, message, user): Slack retries
a delivery it thinks failed and people double-click, and Temporal deduplicates updates
by id within a run, so either counts once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from agent_registry.assets.refs import AssetRef, InvalidRefError
from agent_registry.config import Settings
from agent_registry.contract import DECISION_UPDATES, ReviewInput, VoteResult
from agent_registry.lifecycle import Decision
from agent_registry.policy import Policy
from agent_registry.policy_loader import PolicyError
from agent_registry.slack.actions import (
    APPROVE_ACTION,
    REASON_BLOCK,
    REASON_INPUT,
    REASON_MODAL_CALLBACK,
    REJECT_ACTION,
    REQUEST_CHANGES_ACTION,
)
from agent_registry.slack.identity import IdentityError, Reviewer, resolve_reviewer
from agent_registry.slack.messages import reason_modal
from agent_registry.temporal import LIFECYCLE_STAGE

logger = logging.getLogger(__name__)

PolicyLoader = Callable[[], Policy]
"""Reads the policy in force; called per click so a policy change needs no restart."""

UPDATE_RPC_TIMEOUT = timedelta(seconds=20)
"""Per call to Temporal: a vote waits for a worker to validate it. With no worker running
the SDK would keep waiting; the reviewer is better told, and the update id makes a
second click safe."""

SOURCE = "slack"
"""``ReviewInput.source`` of every vote cast here."""

NOT_OURS = "This button is not one of ours (it names no asset version); nothing was recorded."
EMPTY_REASON = "Say why, so the submitter knows what to change."

_REASON_DECISIONS: dict[str, Decision] = {
    REJECT_ACTION: Decision.REJECT,
    REQUEST_CHANGES_ACTION: Decision.REQUEST_CHANGES,
}
_DECISION_WORDS: dict[Decision, str] = {
    Decision.APPROVE: "approval",
    Decision.REJECT: "rejection",
    Decision.REQUEST_CHANGES: "change request",
}


class ReasonContext(BaseModel):
    """What the reason modal carries in ``private_metadata`` (JSON).

    The modal is a separate interaction: it does not know which message it came from,
    so the button handler packs the asset and the message's place in here.

    Attributes:
        ref: The asset version, ``kind/name@version``.
        decision: ``reject`` or ``request_changes``.
        channel: The review message's channel id.
        message_ts: The review message's ts.
    """

    ref: str
    decision: Decision
    channel: str
    message_ts: str


@dataclass(frozen=True)
class Click:
    """One decision a Slack user made, wherever it came from (a button or a modal).

    Attributes:
        user_id: The Slack user.
        channel: The review message's channel (where refusals are shown).
        message_ts: The review message's ts.
        ref_text: The asset reference as the button or modal carried it.
        decision: What the user decided.
    """

    user_id: str
    channel: str
    message_ts: str
    ref_text: str
    decision: Decision

    @property
    def update_id(self) -> str:
        """The workflow update id: one per user, decision and review message.

        Slack redelivers an interaction it did not see acknowledged, and a double click
        sends the same action twice; both map to this id, which Temporal deduplicates.
        A different message (a later review round) is a different vote.
        """
        return f"slack/{self.decision.value}/{self.channel}/{self.message_ts}/{self.user_id}"


def build_app(
    *,
    settings: Settings,
    temporal: Client,
    policy_loader: PolicyLoader,
    web_client: AsyncWebClient,
) -> AsyncApp:
    """Build the Bolt app that turns review clicks into lifecycle updates.

    Args:
        settings: Supplies the signing secret that verifies HTTP requests.
        temporal: A connected Temporal client (pydantic data converter).
        policy_loader: Reads the policy in force (for the Slack user groups to check).
        web_client: The bot's Web API client (see
            :func:`agent_registry.slack.client.make_web_client`).

    Returns:
        The app, for HTTP mode (``/slack/events``) or Socket Mode alike.
    """
    app = AsyncApp(
        name="agent-registry",
        signing_secret=_signing_secret(settings),
        client=web_client,
        request_verification_enabled=True,
        logger=logging.getLogger("agent_registry.slack.bolt"),
    )
    handlers = ReviewHandlers(temporal=temporal, policy_loader=policy_loader)
    app.action(APPROVE_ACTION)(handlers.on_approve)
    app.action(REJECT_ACTION)(handlers.on_reason_button)
    app.action(REQUEST_CHANGES_ACTION)(handlers.on_reason_button)
    app.view(REASON_MODAL_CALLBACK)(handlers.on_reason_submitted)
    return app


def _signing_secret(settings: Settings) -> str:
    """The signing secret, or a random one nobody knows when none is configured.

    Socket Mode needs no signing secret, yet Bolt's verifier refuses an empty one; a
    random secret lets the app be built and still refuses every HTTP request, should
    it be served over HTTP by mistake.
    """
    configured = settings.slack_signing_secret
    if configured is not None and configured.get_secret_value().strip():
        return configured.get_secret_value().strip()
    return secrets.token_hex(32)


class ReviewHandlers:
    """The listeners of the review buttons and the reason modal.

    Args:
        temporal: The Temporal client updates go through.
        policy_loader: Reads the policy in force.
    """

    def __init__(self, *, temporal: Client, policy_loader: PolicyLoader) -> None:
        self._temporal = temporal
        self._policy_loader = policy_loader

    async def on_approve(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Approve button: acknowledge, then vote."""
        await ack()
        click = _click_from_action(body, Decision.APPROVE)
        if click is None:
            return
        await self._decide(client, click, reason=None)

    async def on_reason_button(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Reject / Request changes button: acknowledge, then ask for the reason in a modal.

        The vote is cast when the modal is submitted; opening it changes nothing.
        """
        await ack()
        action_id = _text(_first_action(body), "action_id")
        decision = _REASON_DECISIONS.get(action_id)
        if decision is None:
            return
        click = _click_from_action(body, decision)
        if click is None:
            return
        try:
            ref = AssetRef.parse(click.ref_text)
        except InvalidRefError:
            await self._tell(client, click, NOT_OURS, outcome="malformed", ref=click.ref_text)
            return
        context = ReasonContext(
            ref=str(ref), decision=decision, channel=click.channel, message_ts=click.message_ts
        )
        view = reason_modal(
            decision=decision, ref=str(ref), private_metadata=context.model_dump_json()
        )
        try:
            # The trigger id expires three seconds after the click: open the modal first.
            await client.views_open(trigger_id=_text(body, "trigger_id"), view=view)
        except SlackApiError as error:
            await self._tell(
                client,
                click,
                f"Slack would not open the form ({_slack_error(error)}); please click again.",
                outcome="modal-failed",
                ref=str(ref),
            )
            return
        _log_click(click, ref=str(ref), reviewer=None, outcome="modal-opened", detail="")

    async def on_reason_submitted(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Reason modal submitted: refuse an empty reason in the form, else vote."""
        view = body.get("view")
        view = view if isinstance(view, Mapping) else {}
        try:
            context = ReasonContext.model_validate_json(_text(view, "private_metadata") or "{}")
        except ValidationError:
            await ack(
                response_action="errors",
                errors={REASON_BLOCK: "This form is not one of ours; nothing was recorded."},
            )
            logger.warning(
                "slack view submission with unreadable private_metadata from %s",
                _text(_mapping(body, "user"), "id"),
            )
            return
        reason = _reason(view).strip()
        if not reason:
            await ack(response_action="errors", errors={REASON_BLOCK: EMPTY_REASON})
            return
        await ack()
        click = Click(
            user_id=_text(_mapping(body, "user"), "id"),
            channel=context.channel,
            message_ts=context.message_ts,
            ref_text=context.ref,
            decision=context.decision,
        )
        await self._decide(client, click, reason=reason)

    # ----- the vote ------------------------------------------------------------------

    async def _decide(self, client: AsyncWebClient, click: Click, *, reason: str | None) -> None:
        """Resolve the clicker, send the update, and tell the clicker the outcome."""
        try:
            ref = AssetRef.parse(click.ref_text)
        except InvalidRefError:
            await self._tell(client, click, NOT_OURS, outcome="malformed", ref=click.ref_text)
            return
        reviewer = await self._reviewer(client, click, ref=ref)
        if reviewer is None:
            return
        handle = self._temporal.get_workflow_handle(ref.workflow_id)
        vote = ReviewInput(
            reviewer=reviewer.identity,
            reason=reason,
            source=SOURCE,
            verified_groups=reviewer.verified_groups,
        )
        try:
            result: VoteResult = await handle.execute_update(
                DECISION_UPDATES[click.decision],
                vote,
                id=click.update_id,
                result_type=VoteResult,
                rpc_timeout=UPDATE_RPC_TIMEOUT,
            )
        except WorkflowUpdateFailedError as error:
            why = _refusal(error)
            await self._tell(
                client,
                click,
                f"Your {_DECISION_WORDS[click.decision]} of {ref} was not recorded: {why}",
                outcome="refused",
                ref=str(ref),
                reviewer=reviewer,
                detail=why,
            )
            return
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            await self._tell(
                client,
                click,
                f"The registry did not confirm your {_DECISION_WORDS[click.decision]} of {ref} "
                f"in time (is its worker running?). Clicking again is safe: a vote that went "
                f"through is not counted twice.",
                outcome="unconfirmed",
                ref=str(ref),
                reviewer=reviewer,
            )
            return
        except RPCError as error:
            text, outcome = await self._closed_or_unavailable(ref, error)
            await self._tell(
                client, click, text, outcome=outcome, ref=str(ref), reviewer=reviewer, detail=""
            )
            return
        await self._tell(
            client,
            click,
            f"{ref}: {result.message}",
            outcome="accepted",
            ref=str(ref),
            reviewer=reviewer,
            detail=result.stage.value,
        )

    async def _reviewer(
        self, client: AsyncWebClient, click: Click, *, ref: AssetRef
    ) -> Reviewer | None:
        """The clicker as a reviewer, or None after telling them why that failed."""
        try:
            policy = self._policy_loader()
        except PolicyError as error:
            logger.error("slack click cannot be checked: the policy does not load: %s", error)
            await self._tell(
                client,
                click,
                "The registry's policy cannot be read right now, so your vote was not "
                "recorded; the platform team can see why in the app's log.",
                outcome="policy-error",
                ref=str(ref),
            )
            return None
        try:
            return await resolve_reviewer(client, user_id=click.user_id, policy=policy)
        except IdentityError as error:
            await self._tell(
                client,
                click,
                f"Your vote on {ref} was not recorded: {error}",
                outcome="identity-error",
                ref=str(ref),
                detail=str(error),
            )
            return None

    async def _closed_or_unavailable(self, ref: AssetRef, error: RPCError) -> tuple[str, str]:
        """Phrase an RPC failure: a closed lifecycle, an unknown one, or Temporal down."""
        if error.status is not RPCStatusCode.NOT_FOUND:
            logger.error("temporal refused a slack vote on %s: %s", ref, error.message)
            return (
                f"The registry cannot reach its workflow engine right now; nothing was "
                f"recorded for {ref}. Please try again in a minute.",
                "unavailable",
            )
        # An update on a closed workflow is NOT_FOUND too; describe tells the two apart.
        try:
            description = await self._temporal.get_workflow_handle(ref.workflow_id).describe()
        except RPCError:
            return f"{ref} was never submitted; nothing was recorded.", "unknown-asset"
        stage = description.typed_search_attributes.get(LIFECYCLE_STAGE) or "closed"
        return f"{ref} is {stage}; its review is over.", "closed"

    async def _tell(
        self,
        client: AsyncWebClient,
        click: Click,
        text: str,
        *,
        outcome: str,
        ref: str,
        reviewer: Reviewer | None = None,
        detail: str = "",
    ) -> None:
        """Log the click's outcome and show ``text`` to the clicker only."""
        _log_click(click, ref=ref, reviewer=reviewer, outcome=outcome, detail=detail)
        try:
            await client.chat_postEphemeral(channel=click.channel, user=click.user_id, text=text)
        except SlackApiError as error:
            # The vote's fate does not depend on this message; the log has the outcome.
            logger.warning(
                "could not tell slack user %s in %s about %s: %s",
                click.user_id,
                click.channel,
                ref,
                _slack_error(error),
            )


# ----- payload reading -------------------------------------------------------------------


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _first_action(body: Mapping[str, Any]) -> Mapping[str, Any]:
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], Mapping):
        return actions[0]
    return {}


def _click_from_action(body: Mapping[str, Any], decision: Decision) -> Click | None:
    """The click in a ``block_actions`` payload; None (logged) when it is not on a message."""
    container = _mapping(body, "container")
    channel = _text(container, "channel_id") or _text(_mapping(body, "channel"), "id")
    message_ts = _text(container, "message_ts") or _text(_mapping(body, "message"), "ts")
    user_id = _text(_mapping(body, "user"), "id")
    if not (channel and message_ts and user_id):
        # Only review messages carry these buttons; without a message there is nowhere
        # to answer and no stable id for the vote.
        logger.warning("slack %s click outside a message ignored", decision.value)
        return None
    return Click(
        user_id=user_id,
        channel=channel,
        message_ts=message_ts,
        ref_text=_text(_first_action(body), "value"),
        decision=decision,
    )


def _reason(view: Mapping[str, Any]) -> str:
    values = _mapping(_mapping(view, "state"), "values")
    field = _mapping(_mapping(values, REASON_BLOCK), REASON_INPUT)
    return _text(field, "value")


def _refusal(error: WorkflowUpdateFailedError) -> str:
    cause = error.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or error)


def _slack_error(error: SlackApiError) -> str:
    data = getattr(error.response, "data", None)
    if isinstance(data, Mapping) and data.get("error"):
        return str(data["error"])
    return "no answer"


def _log_click(
    click: Click, *, ref: str, reviewer: Reviewer | None, outcome: str, detail: str
) -> None:
    """One structured line per click outcome: who, which asset, what, and how it ended."""
    fields = {
        "slack_user": click.user_id,
        "reviewer": reviewer.identity if reviewer else None,
        "reviewer_name": reviewer.display if reviewer else None,
        "ref": ref,
        "decision": click.decision.value,
        "outcome": outcome,
        "detail": detail,
        "update_id": click.update_id,
    }
    logger.info(
        "slack click user=%s reviewer=%s ref=%s decision=%s outcome=%s detail=%s",
        click.user_id,
        fields["reviewer"] or "-",
        ref,
        click.decision.value,
        outcome,
        detail or "-",
        extra={"slack_click": fields},
    )
