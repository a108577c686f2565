"""The Slack app people click in: buttons and modals become lifecycle workflow updates.

Reviewers approve, reject or request changes on the review message; the owner team
attests a re-certification from its DM; the owner and platform teams deprecate a
published version from its review message. Every interaction is acknowledged first
(Slack gives an app three seconds), then the clicker is resolved to an identity by
asking Slack, and the request is sent to the asset's workflow as an update. The
workflow's validators decide whether it is allowed; a refusal comes back at once and is
shown to the clicker only (ephemeral), so a refused click changes nothing anyone else
sees.

Update ids are derived from the click (action, channel, message, user): Slack retries
a delivery it thinks failed and people double-click, and Temporal deduplicates updates
by id (the lifecycle carries the ids it applied across continue-as-new), so either
counts once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import Client

from agent_registry.assets.refs import AssetRef, InvalidRefError
from agent_registry.config import Settings
from agent_registry.identity.http import RefusalLog
from agent_registry.lifecycle.client import (
    LifecycleClient,
    LifecycleClosedError,
    LifecycleError,
    LifecycleNotFoundError,
    LifecycleUnavailableError,
    UpdateRefusedError,
    UpdateUnconfirmedError,
)
from agent_registry.lifecycle.contract import (
    AttestInput,
    DeprecateInput,
    ReviewInput,
    VoteResult,
)
from agent_registry.lifecycle.stages import Decision
from agent_registry.policy.loader import PolicyError
from agent_registry.policy.model import Policy
from agent_registry.slack.actions import (
    APPROVE_ACTION,
    ATTEST_ACTION,
    DEPRECATE_ACTION,
    DEPRECATE_MODAL_CALLBACK,
    DEPRECATE_REASON_BLOCK,
    DEPRECATE_REASON_INPUT,
    DEPRECATE_REPLACEMENT_BLOCK,
    DEPRECATE_REPLACEMENT_INPUT,
    REASON_BLOCK,
    REASON_INPUT,
    REASON_MODAL_CALLBACK,
    REJECT_ACTION,
    REQUEST_CHANGES_ACTION,
)
from agent_registry.slack.identity import IdentityError, Reviewer, resolve_reviewer
from agent_registry.slack.messages import deprecate_modal, reason_modal

logger = logging.getLogger(__name__)

PolicyLoader = Callable[[], Policy]
"""Reads the policy in force; called per click so a policy change needs no restart."""

UPDATE_RPC_TIMEOUT = timedelta(seconds=20)
"""Per call to Temporal: a request waits for a worker to validate it. With no worker
running the SDK would keep waiting; the clicker is better told, and the update id makes
a second click safe."""

ATTEST = "attest"
DEPRECATE = "deprecate"
"""Click actions (in update ids and logs) besides the review decisions' own values."""

NOT_OURS = "This button is not one of ours (it names no asset version); nothing was recorded."
FORM_NOT_OURS = "This form is not one of ours; nothing was recorded."
EMPTY_REASON = "Say why, so the submitter knows what to change."
EMPTY_DEPRECATION_REASON = "Say why, so everyone who uses this version knows."

REVIEW_OVER = "its review is over"
NOTHING_TO_ATTEST = "its lifecycle is over; there is nothing to attest"
NOTHING_TO_DEPRECATE = "its lifecycle is over; there is nothing left to deprecate"
"""What the clicker is told about a lifecycle that has ended, per kind of click."""

_REASON_DECISIONS: dict[str, Decision] = {
    REJECT_ACTION: Decision.REJECT,
    REQUEST_CHANGES_ACTION: Decision.REQUEST_CHANGES,
}


class MessageContext(BaseModel):
    """What a modal carries in ``private_metadata`` (JSON).

    A modal is a separate interaction: it does not know which message it came from, so
    the button handler packs the asset and the message's place in here, for the update
    id and for answering in the message's channel.

    Attributes:
        ref: The asset version, ``kind/name@version``.
        channel: The clicked message's channel id.
        message_ts: The clicked message's ts.
    """

    ref: str
    channel: str
    message_ts: str


class ReasonContext(MessageContext):
    """The reason modal's ``private_metadata``: the review message's place and the decision.

    Attributes:
        decision: ``reject`` or ``request_changes``.
    """

    decision: Decision


_Context = TypeVar("_Context", bound=MessageContext)


@dataclass(frozen=True)
class Click:
    """One request a Slack user made, wherever it came from (a button or a modal).

    Attributes:
        user_id: The Slack user.
        channel: The clicked message's channel (where the answer is shown).
        message_ts: The clicked message's ts.
        ref_text: The asset reference as the button or modal carried it.
        action: What the user asked for: a review decision's value, ``attest`` or
            ``deprecate``.
    """

    user_id: str
    channel: str
    message_ts: str
    ref_text: str
    action: str

    @property
    def update_id(self) -> str:
        """The workflow update id: one per user, action and message.

        Slack redelivers an interaction it did not see acknowledged, and a double click
        sends the same action twice; both map to this id, which Temporal deduplicates.
        A different message (a later review round, the next re-certification's DM) is a
        different request.
        """
        return f"slack/{self.action}/{self.channel}/{self.message_ts}/{self.user_id}"


@dataclass(frozen=True)
class Request:
    """How to speak of one kind of click to the person who made it.

    Attributes:
        words: The request as a noun (``approval``, ``attestation``, ``deprecation``).
        closed: Why nothing happens once the lifecycle has ended.
    """

    words: str
    closed: str


_DECISION_REQUESTS: dict[Decision, Request] = {
    Decision.APPROVE: Request("approval", REVIEW_OVER),
    Decision.REJECT: Request("rejection", REVIEW_OVER),
    Decision.REQUEST_CHANGES: Request("change request", REVIEW_OVER),
}
_ATTEST_REQUEST = Request("attestation", NOTHING_TO_ATTEST)
_DEPRECATE_REQUEST = Request("deprecation", NOTHING_TO_DEPRECATE)

UpdateFor = Callable[[Reviewer, AssetRef, str], Awaitable[VoteResult]]
"""Sends the update once the clicker's identity is known: given the clicker, the asset
and the click's update id, it asks the :class:`LifecycleClient`."""


def build_app(
    *,
    settings: Settings,
    temporal: Client,
    policy_loader: PolicyLoader,
    web_client: AsyncWebClient,
    refusals: RefusalLog | None = None,
) -> AsyncApp:
    """Build the Bolt app that turns clicks into lifecycle updates.

    Args:
        settings: Supplies the signing secret that verifies HTTP requests.
        temporal: A connected Temporal client (pydantic data converter).
        policy_loader: Reads the policy in force (for the Slack user groups to check).
        web_client: The bot's Web API client (see
            :func:`agent_registry.slack.client.make_web_client`).
        refusals: Where refused clicks are recorded with the clicker's principal (the
            audit log in ``agentreg serve``), like refused writes through the API.

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
    handlers = InteractionHandlers(
        temporal=temporal, policy_loader=policy_loader, refusals=refusals
    )
    app.action(APPROVE_ACTION)(handlers.on_approve)
    app.action(REJECT_ACTION)(handlers.on_reason_button)
    app.action(REQUEST_CHANGES_ACTION)(handlers.on_reason_button)
    app.view(REASON_MODAL_CALLBACK)(handlers.on_reason_submitted)
    app.action(ATTEST_ACTION)(handlers.on_attest)
    app.action(DEPRECATE_ACTION)(handlers.on_deprecate_button)
    app.view(DEPRECATE_MODAL_CALLBACK)(handlers.on_deprecate_submitted)
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


class InteractionHandlers:
    """The listeners of the review, attest and deprecate buttons and of their modals.

    Args:
        temporal: The Temporal client updates go through (wrapped in a
            :class:`LifecycleClient` that waits :data:`UPDATE_RPC_TIMEOUT` per update).
        policy_loader: Reads the policy in force.
        refusals: Where refused clicks are recorded.
    """

    def __init__(
        self,
        *,
        temporal: Client,
        policy_loader: PolicyLoader,
        refusals: RefusalLog | None = None,
    ) -> None:
        self._lifecycles = LifecycleClient(temporal, rpc_timeout=UPDATE_RPC_TIMEOUT)
        self._policy_loader = policy_loader
        self._refusals = refusals

    # ----- review --------------------------------------------------------------------

    async def on_approve(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Approve button: acknowledge, then vote."""
        await ack()
        click = _click_from_action(body, Decision.APPROVE.value)
        if click is None:
            return
        await self._vote(client, click, Decision.APPROVE, reason=None)

    async def on_reason_button(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Reject / Request changes button: acknowledge, then ask for the reason in a modal.

        The vote is cast when the modal is submitted; opening it changes nothing.
        """
        await ack()
        decision = _REASON_DECISIONS.get(_text(_first_action(body), "action_id"))
        if decision is None:
            return
        click = _click_from_action(body, decision.value)
        if click is None:
            return
        ref = await self._button_ref(client, click)
        if ref is None:
            return
        context = ReasonContext(
            ref=str(ref), decision=decision, channel=click.channel, message_ts=click.message_ts
        )
        view = reason_modal(
            decision=decision, ref=str(ref), private_metadata=context.model_dump_json()
        )
        await self._open_modal(client, body, click, ref=ref, view=view)

    async def on_reason_submitted(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Reason modal submitted: refuse an empty reason in the form, else vote."""
        view = _mapping(body, "view")
        context = _modal_context(view, ReasonContext)
        if context is None:
            await ack(response_action="errors", errors={REASON_BLOCK: FORM_NOT_OURS})
            _log_unreadable_form(body)
            return
        reason = _input_value(view, REASON_BLOCK, REASON_INPUT).strip()
        if not reason:
            await ack(response_action="errors", errors={REASON_BLOCK: EMPTY_REASON})
            return
        await ack()
        click = _click_from_view(body, context, context.decision.value)
        await self._vote(client, click, context.decision, reason=reason)

    async def _vote(
        self, client: AsyncWebClient, click: Click, decision: Decision, *, reason: str | None
    ) -> None:
        async def update(reviewer: Reviewer, ref: AssetRef, update_id: str) -> VoteResult:
            vote = ReviewInput(principal=reviewer.principal, reason=reason)
            return await self._lifecycles.vote(ref, decision, vote, update_id=update_id)

        await self._send(client, click, _DECISION_REQUESTS[decision], update)

    # ----- published life ------------------------------------------------------------

    async def on_attest(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Attest button on the re-certification DM: acknowledge, then attest.

        Whether the clicker may attest (owner team, re-certification due, not attested
        yet) is the workflow's call; its refusal is shown to the clicker.
        """
        await ack()
        click = _click_from_action(body, ATTEST)
        if click is None:
            return

        async def update(attester: Reviewer, ref: AssetRef, update_id: str) -> VoteResult:
            attest = AttestInput(principal=attester.principal)
            return await self._lifecycles.attest(ref, attest, update_id=update_id)

        await self._send(client, click, _ATTEST_REQUEST, update)

    async def on_deprecate_button(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Deprecate button: acknowledge, then ask for the reason and replacement in a modal.

        Nothing is deprecated until the modal is submitted; opening it changes nothing.
        """
        await ack()
        click = _click_from_action(body, DEPRECATE)
        if click is None:
            return
        ref = await self._button_ref(client, click)
        if ref is None:
            return
        context = MessageContext(ref=str(ref), channel=click.channel, message_ts=click.message_ts)
        view = deprecate_modal(ref=str(ref), private_metadata=context.model_dump_json())
        await self._open_modal(client, body, click, ref=ref, view=view)

    async def on_deprecate_submitted(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Deprecation modal submitted: check the form, then ask the workflow to deprecate.

        A missing reason or a replacement that is not an exact reference is refused in
        the form, where it can be corrected; who may deprecate, and whether the version
        still can be, is the workflow's call, shown to the submitter of the form only.
        """
        view = _mapping(body, "view")
        context = _modal_context(view, MessageContext)
        if context is None:
            await ack(response_action="errors", errors={DEPRECATE_REASON_BLOCK: FORM_NOT_OURS})
            _log_unreadable_form(body)
            return
        reason = _input_value(view, DEPRECATE_REASON_BLOCK, DEPRECATE_REASON_INPUT).strip()
        typed = _input_value(view, DEPRECATE_REPLACEMENT_BLOCK, DEPRECATE_REPLACEMENT_INPUT)
        errors: dict[str, str] = {}
        if not reason:
            errors[DEPRECATE_REASON_BLOCK] = EMPTY_DEPRECATION_REASON
        replacement: str | None = None
        if typed.strip():
            replacement, problem = _replacement(typed, deprecated=context.ref)
            if problem is not None:
                errors[DEPRECATE_REPLACEMENT_BLOCK] = problem
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        click = _click_from_view(body, context, DEPRECATE)

        async def update(actor: Reviewer, ref: AssetRef, update_id: str) -> VoteResult:
            request = DeprecateInput(
                principal=actor.principal, reason=reason, replacement=replacement
            )
            return await self._lifecycles.deprecate(ref, request, update_id=update_id)

        await self._send(client, click, _DEPRECATE_REQUEST, update)

    # ----- shared steps --------------------------------------------------------------

    async def _button_ref(self, client: AsyncWebClient, click: Click) -> AssetRef | None:
        """The asset the click names, or None after telling the clicker it names none."""
        try:
            return AssetRef.parse(click.ref_text)
        except InvalidRefError:
            await self._tell(client, click, NOT_OURS, outcome="malformed", ref=click.ref_text)
            return None

    async def _open_modal(
        self,
        client: AsyncWebClient,
        body: Mapping[str, Any],
        click: Click,
        *,
        ref: AssetRef,
        view: View,
    ) -> None:
        """Open ``view`` for the clicker, or tell them Slack would not."""
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

    async def _send(
        self, client: AsyncWebClient, click: Click, request: Request, update: UpdateFor
    ) -> None:
        """Resolve the clicker, send the update, and tell the clicker the outcome."""
        ref = await self._button_ref(client, click)
        if ref is None:
            return
        person = await self._person(client, click, ref=ref, request=request)
        if person is None:
            return
        try:
            result = await update(person, ref, click.update_id)
        except UpdateRefusedError as error:
            if self._refusals is not None:
                await self._refusals.refused(
                    actor=person.identity,
                    action=f"slack {error.update} {ref}",
                    reason=error.reason,
                    status=403,
                )
            await self._tell(
                client,
                click,
                f"Your {request.words} of {ref} was not recorded: {error.reason}",
                outcome="refused",
                ref=str(ref),
                reviewer=person,
                detail=error.reason,
            )
            return
        except UpdateUnconfirmedError:
            await self._tell(
                client,
                click,
                f"The registry did not confirm your {request.words} of {ref} in time (is its "
                "worker running?). Trying again is safe: what went through is not counted "
                "twice.",
                outcome="unconfirmed",
                ref=str(ref),
                reviewer=person,
            )
            return
        except LifecycleError as error:
            text, outcome = _not_running(error, closed=request.closed)
            await self._tell(
                client, click, text, outcome=outcome, ref=str(ref), reviewer=person, detail=""
            )
            return
        await self._tell(
            client,
            click,
            f"{ref}: {result.message}",
            outcome="accepted",
            ref=str(ref),
            reviewer=person,
            detail=result.stage.value,
        )

    async def _person(
        self, client: AsyncWebClient, click: Click, *, ref: AssetRef, request: Request
    ) -> Reviewer | None:
        """The clicker as the lifecycle knows people, or None after telling them why not."""
        try:
            policy = self._policy_loader()
        except PolicyError as error:
            logger.error("slack click cannot be checked: the policy does not load: %s", error)
            await self._tell(
                client,
                click,
                f"The registry's policy cannot be read right now, so your {request.words} "
                "was not recorded; the platform team can see why in the app's log.",
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
                f"Your {request.words} of {ref} was not recorded: {error}",
                outcome="identity-error",
                ref=str(ref),
                detail=str(error),
            )
            return None

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
            # The request's fate does not depend on this message; the log has the outcome.
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


def _click_from_action(body: Mapping[str, Any], action: str) -> Click | None:
    """The click in a ``block_actions`` payload; None (logged) when it is not on a message."""
    container = _mapping(body, "container")
    channel = _text(container, "channel_id") or _text(_mapping(body, "channel"), "id")
    message_ts = _text(container, "message_ts") or _text(_mapping(body, "message"), "ts")
    user_id = _text(_mapping(body, "user"), "id")
    if not (channel and message_ts and user_id):
        # Only our messages carry these buttons; without a message there is nowhere to
        # answer and no stable id for the update.
        logger.warning("slack %s click outside a message ignored", action)
        return None
    return Click(
        user_id=user_id,
        channel=channel,
        message_ts=message_ts,
        ref_text=_text(_first_action(body), "value"),
        action=action,
    )


def _click_from_view(body: Mapping[str, Any], context: MessageContext, action: str) -> Click:
    """The request a submitted modal makes, placed on the message its button was on."""
    return Click(
        user_id=_text(_mapping(body, "user"), "id"),
        channel=context.channel,
        message_ts=context.message_ts,
        ref_text=context.ref,
        action=action,
    )


def _modal_context(view: Mapping[str, Any], shape: type[_Context]) -> _Context | None:
    """The modal's ``private_metadata`` read as ``shape``; None when it is not ours."""
    try:
        return shape.model_validate_json(_text(view, "private_metadata") or "{}")
    except ValidationError:
        return None


def _log_unreadable_form(body: Mapping[str, Any]) -> None:
    logger.warning(
        "slack view submission with unreadable private_metadata from %s",
        _text(_mapping(body, "user"), "id"),
    )


def _input_value(view: Mapping[str, Any], block_id: str, action_id: str) -> str:
    """What the user typed into one input of a submitted modal (empty when nothing)."""
    values = _mapping(_mapping(view, "state"), "values")
    return _text(_mapping(_mapping(values, block_id), action_id), "value")


def _replacement(text: str, *, deprecated: str) -> tuple[str | None, str | None]:
    """The typed replacement as ``kind/name@version``, or why it cannot be one.

    Checked here, as the CLI does, so a typo is corrected in the form instead of being
    told to every user of the deprecated version.

    Returns:
        The normalised reference and None, or None and the problem to show in the form.
    """
    try:
        parsed = AssetRef.parse(text)
    except InvalidRefError as error:
        return None, str(error)
    if str(parsed) == deprecated:
        return None, f"{deprecated} cannot replace itself."
    return str(parsed), None


def _not_running(error: LifecycleError, *, closed: str) -> tuple[str, str]:
    """Phrase a lifecycle that took no request: ended, unknown, or Temporal down.

    Returns:
        What the clicker is told, and the outcome for the log.
    """
    if isinstance(error, LifecycleClosedError):
        return f"{error}; {closed}.", "closed"
    if isinstance(error, LifecycleNotFoundError):
        return f"{error}; nothing was recorded.", "unknown-asset"
    if isinstance(error, LifecycleUnavailableError):
        logger.error("temporal refused a slack request on %s: %s", error.ref, error.detail)
    return (
        f"The registry cannot reach its workflow engine right now; nothing was "
        f"recorded for {error.ref}. Please try again in a minute.",
        "unavailable",
    )


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
        "action": click.action,
        "outcome": outcome,
        "detail": detail,
        "update_id": click.update_id,
    }
    logger.info(
        "slack click user=%s reviewer=%s ref=%s action=%s outcome=%s detail=%s",
        click.user_id,
        fields["reviewer"] or "-",
        ref,
        click.action,
        outcome,
        detail or "-",
        extra={"slack_click": fields},
    )
