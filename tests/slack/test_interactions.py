"""Review clicks end to end: signed Slack requests → the real endpoint → lifecycle updates.

The real Temporal dev server, the shipped worker, the Bolt app served over HTTP on a
free port, and the Slack double standing in for Slack's Web API. Requests are signed
exactly as Slack signs them; Socket Mode gets the same payloads through the app the way
its adapter dispatches them.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from agent_registry.cli.serve import EVENTS_PATH, start_http
from agent_registry.config import Settings
from agent_registry.identity.audit import DatabaseRefusalLog
from agent_registry.lifecycle.client import query_status
from agent_registry.lifecycle.contract import AssetStatus
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.policy.loader import load_policy
from agent_registry.registry.store.refusals import REFUSAL_KIND
from agent_registry.registry.tables import AuditEvent
from agent_registry.slack.actions import (
    APPROVE_ACTION,
    REASON_BLOCK,
    REASON_MODAL_CALLBACK,
    REJECT_ACTION,
    REQUEST_CHANGES_ACTION,
)
from agent_registry.slack.app import build_app
from agent_registry.slack.client import make_web_client
from tests.ports import free_port
from tests.slack_double import (
    DEFAULT_SIGNING_SECRET,
    DEFAULT_TOKEN,
    Ephemeral,
    Message,
    SlackDouble,
    SlackUser,
    block_actions_payload,
    form_body,
    sign,
    view_submission_payload,
)
from tests.support import (
    POLICIES,
    Handle,
    copy_example,
    make_settings,
    running_worker,
    submit_path,
    wait_for_listener,
    wait_for_stage,
)

REVIEW_CHANNEL = "C0REVIEWS"
SLACK_ACK_LIMIT = 3.0
"""Slack shows the user an error when an interaction is not acknowledged in 3 seconds."""

CAROL = SlackUser("U0CAROL", "carol", "carol@example.com", "Carol Reviewer")
DAVE = SlackUser("U0DAVE", "dave", "dave@example.com", "Dave Reviewer")
FRANK = SlackUser("U0FRANK", "frank", "frank@example.com", "Frank Outsider")
ALICE = SlackUser("U0ALICE", "alice", "alice@example.com", "Alice Submitter")
"""Alice submits every test asset (tests.support.submit_path's default)."""


@dataclass
class Delivery:
    """Slack's view of one interaction request: the status, the body, how long it took."""

    status: int
    body: str
    seconds: float


@dataclass
class SlackStack:
    """Everything a click passes through, running."""

    double: SlackDouble
    settings: Settings
    app: AsyncApp
    url: str
    http: aiohttp.ClientSession
    handle: Handle
    ref: str
    review: Message
    """The review request the workflow posted, as it was before any click."""
    engine: Engine
    """The registry database, where refused clicks are audit-logged."""

    async def deliver(
        self,
        payload: dict[str, Any],
        *,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        timestamp: int | None = None,
        url: str | None = None,
    ) -> Delivery:
        """POST the payload to the endpoint as Slack would: form body, signed."""
        body = form_body(payload)
        headers = sign(body, signing_secret=signing_secret, timestamp=timestamp)
        started = time.monotonic()
        async with self.http.post(url or self.url, data=body.encode(), headers=headers) as response:
            text = await response.text()
        return Delivery(response.status, text, time.monotonic() - started)

    def click(self, user: SlackUser, action_id: str, *, value: str | None = None) -> dict[str, Any]:
        """A click on one of the review message's buttons, carrying that button's value."""
        button = self.review.buttons()[action_id]
        return block_actions_payload(
            user=user,
            action_id=action_id,
            value=value if value is not None else button["value"],
            channel_id=self.review.channel,
            message_ts=self.review.ts,
        )

    def review_now(self) -> Message:
        """The review message as it stands (``chat.update`` edits it in place)."""
        [message] = self.double.messages_in(REVIEW_CHANNEL)
        assert message.ts == self.review.ts
        return message

    async def ephemerals(self, user: SlackUser, count: int, timeout: float = 20.0) -> list[str]:
        """Wait until ``user`` was told ``count`` things; the handler's last step is telling."""
        deadline = time.monotonic() + timeout
        told: list[Ephemeral] = self.double.ephemerals_for(user.id)
        while len(told) < count:
            if time.monotonic() > deadline:
                texts = [e.text for e in told]
                raise AssertionError(f"{user.name} was told {texts}, expected {count} messages")
            await asyncio.sleep(0.05)
            told = self.double.ephemerals_for(user.id)
        assert all(e.channel == REVIEW_CHANNEL for e in told)
        return [e.text for e in told]

    async def views(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Wait until Slack was asked to open ``count`` modals; the handler acks the click first."""
        deadline = time.monotonic() + timeout
        while len(self.double.views) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.double.views)} modals opened, expected {count}")
            await asyncio.sleep(0.05)
        return list(self.double.views)

    async def status(self) -> AssetStatus:
        return await query_status(self.handle)

    async def final(self) -> AssetStatus:
        """The review's outcome: rejected, or published with its re-certification set.

        A published version's lifecycle lives on, so this waits for the state, not the end.
        """
        for _ in range(300):
            status = await self.status()
            if status.stage is Stage.REJECTED or (
                status.stage is Stage.PUBLISHED and status.recertify_by is not None
            ):
                return status
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.handle.id} was not decided")


def _slack_settings(settings: Settings, double: SlackDouble) -> Settings:
    return settings.model_copy(
        update={
            "slack_bot_token": SecretStr(DEFAULT_TOKEN),
            "slack_signing_secret": SecretStr(DEFAULT_SIGNING_SECRET),
            "slack_api_url": double.base_url,
        }
    )


@asynccontextmanager
async def slack_stack(
    dev_env: WorkflowEnvironment,
    tmp_path: Path,
    sqlite_url: str,
    engine: Engine,
    *,
    policy: Path,
    submitter: str = ALICE.email,
    users: tuple[SlackUser, ...] = (CAROL, DAVE, FRANK, ALICE),
) -> AsyncIterator[SlackStack]:
    """Slack double, worker, the app over HTTP, and one asset waiting in review."""
    async with SlackDouble(
        users=list(users),
        usergroups={
            "S0REVIEWERS": [CAROL.id, DAVE.id, ALICE.id],
            "S0SECURITY": [],
            "S0PLATFORM": [],
        },
        channels={"agent-registry-reviews": REVIEW_CHANNEL},
    ) as double:
        settings = _slack_settings(make_settings(tmp_path, sqlite_url, policy=policy), double)
        web_client = make_web_client(settings)
        assert web_client is not None
        app = build_app(
            settings=settings,
            temporal=dev_env.client,
            policy_loader=lambda: load_policy(settings.policy),
            web_client=web_client,
            refusals=DatabaseRefusalLog(engine),
        )
        runner = await start_http(app, host="127.0.0.1", port=0)
        port = runner.addresses[0][1]
        try:
            async with (
                running_worker(dev_env.client, settings, engine),
                aiohttp.ClientSession() as http,
            ):
                handle = await submit_path(
                    dev_env.client,
                    settings,
                    copy_example("subagents/code-reviewer.md", tmp_path),
                    submitter=submitter,
                )
                in_review = await wait_for_stage(handle, Stage.IN_REVIEW)
                review = await _review_request(double, ref=str(in_review.ref))
                yield SlackStack(
                    double=double,
                    settings=settings,
                    app=app,
                    url=f"http://127.0.0.1:{port}{EVENTS_PATH}",
                    http=http,
                    handle=handle,
                    ref=str(in_review.ref),
                    review=review,
                    engine=engine,
                )
        finally:
            await runner.cleanup()


@pytest.fixture
async def stack(
    dev_env: WorkflowEnvironment, tmp_path: Path, sqlite_url: str, sqlite_engine: Engine
) -> AsyncIterator[SlackStack]:
    async with slack_stack(
        dev_env, tmp_path, sqlite_url, sqlite_engine, policy=POLICIES / "slack_reviewers.toml"
    ) as running:
        yield running


async def _review_request(double: SlackDouble, *, ref: str) -> Message:
    """Wait for the workflow's review request for ``ref`` in the review channel."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in double.messages_in(REVIEW_CHANNEL):
            approve = message.buttons().get(APPROVE_ACTION)
            if approve is not None and approve.get("value") == ref:
                return copy.deepcopy(message)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no review request for {ref} was posted in {REVIEW_CHANNEL}")


async def _wait_for_edit(stack: SlackStack, *, mentioning: str) -> Message:
    """Wait until the review message was edited in place and mentions ``mentioning``."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        message = stack.review_now()
        if message.edits and mentioning in json.dumps(message.blocks):
            return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"the review message was not updated to mention {mentioning}")


async def _unchanged(stack: SlackStack) -> None:
    """The refused click left the lifecycle and the review message exactly as they were."""
    status = await stack.status()
    assert status.stage is Stage.IN_REVIEW
    assert status.votes == []
    message = stack.review_now()
    assert (message.edits, message.blocks) == (0, stack.review.blocks)


# ----- approve -------------------------------------------------------------------------


async def test_approve_click_publishes_and_is_acknowledged_in_time(
    stack: SlackStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agent_registry.slack")

    delivered = await stack.deliver(stack.click(CAROL, APPROVE_ACTION))

    assert delivered.status == 200
    assert delivered.seconds < SLACK_ACK_LIMIT
    final = await stack.final()
    assert final.stage is Stage.PUBLISHED
    [vote] = final.votes
    assert (vote.reviewer, vote.decision, vote.source) == (
        "carol@example.com",
        Decision.APPROVE,
        "slack",
    )
    assert "S0REVIEWERS" in vote.verified_groups
    [told] = await stack.ephemerals(CAROL, 1)
    assert stack.ref in told and "approved" in told
    # Exactly one review message, updated in place to say who approved; no buttons left.
    decided = await _wait_for_edit(stack, mentioning="carol@example.com")
    assert APPROVE_ACTION not in decided.buttons()
    logged = [r for r in caplog.records if hasattr(r, "slack_click")]
    assert logged and logged[-1].slack_click["outcome"] == "accepted"
    assert logged[-1].slack_click["reviewer"] == "carol@example.com"
    text = caplog.text
    assert DEFAULT_TOKEN not in text and DEFAULT_SIGNING_SECRET not in text


async def test_forged_signature_is_refused_and_leaves_the_lifecycle_alone(
    stack: SlackStack,
) -> None:
    delivered = await stack.deliver(
        stack.click(CAROL, APPROVE_ACTION), signing_secret="not-the-apps-secret"
    )

    assert delivered.status == 401
    await asyncio.sleep(0.5)  # give a wrongly accepted click time to show
    await _unchanged(stack)
    assert stack.double.calls_to("users.info") == []
    assert stack.double.ephemerals == []


async def test_a_replay_outside_slacks_five_minutes_is_refused(stack: SlackStack) -> None:
    stale = int(time.time()) - 6 * 60

    delivered = await stack.deliver(stack.click(CAROL, APPROVE_ACTION), timestamp=stale)

    assert delivered.status == 401
    await asyncio.sleep(0.5)
    await _unchanged(stack)
    assert stack.double.calls_to("users.info") == []


async def test_a_user_outside_the_reviewers_group_is_told_why(stack: SlackStack) -> None:
    delivered = await stack.deliver(stack.click(FRANK, APPROVE_ACTION))

    assert delivered.status == 200
    [told] = await stack.ephemerals(FRANK, 1)
    assert "frank@example.com is not in the policy's 'reviewers' group" in told
    await _unchanged(stack)


async def test_the_submitter_cannot_approve_their_own_asset(stack: SlackStack) -> None:
    await stack.deliver(stack.click(ALICE, APPROVE_ACTION))

    [told] = await stack.ephemerals(ALICE, 1)
    assert "alice@example.com submitted or wrote" in told and "cannot review it" in told
    await _unchanged(stack)
    with Session(stack.engine) as session:
        [refused] = session.exec(select(AuditEvent).where(AuditEvent.kind == REFUSAL_KIND))
    assert (refused.actor, refused.name) == ("alice@example.com", f"slack approve {stack.ref}")
    assert "cannot review it" in str(refused.detail["reason"])


@pytest.mark.parametrize(
    ("submitter", "slack_email"),
    [("Alice@Example.com", "alice@example.com"), ("alice@example.com", "ALICE@Example.COM")],
)
async def test_self_approval_is_refused_whatever_the_spelling_on_each_side(
    dev_env: WorkflowEnvironment,
    tmp_path: Path,
    sqlite_url: str,
    sqlite_engine: Engine,
    submitter: str,
    slack_email: str,
) -> None:
    # Submitted from the CLI in one spelling; the clicker's Slack profile has another.
    clicker = SlackUser(ALICE.id, ALICE.name, slack_email, ALICE.real_name)
    async with slack_stack(
        dev_env,
        tmp_path,
        sqlite_url,
        sqlite_engine,
        policy=POLICIES / "slack_reviewers.toml",
        submitter=submitter,
        users=(CAROL, DAVE, FRANK, clicker),
    ) as stack:
        await stack.deliver(stack.click(clicker, APPROVE_ACTION))
        [told] = await stack.ephemerals(clicker, 1)
        assert "alice@example.com submitted or wrote" in told and "cannot review it" in told
        await _unchanged(stack)


async def test_a_button_that_is_not_ours_is_refused(stack: SlackStack) -> None:
    await stack.deliver(stack.click(CAROL, APPROVE_ACTION, value="definitely not a ref"))

    [told] = await stack.ephemerals(CAROL, 1)
    assert "not one of ours" in told
    await _unchanged(stack)


async def test_a_click_after_the_decision_is_told_the_review_is_over(stack: SlackStack) -> None:
    await stack.deliver(stack.click(CAROL, APPROVE_ACTION))
    final = await stack.final()
    assert final.stage is Stage.PUBLISHED
    decided = copy.deepcopy(await _wait_for_edit(stack, mentioning="carol@example.com"))

    await stack.deliver(stack.click(DAVE, APPROVE_ACTION))

    [told] = await stack.ephemerals(DAVE, 1)
    assert "Published" in told and "review is over" in told
    after = await stack.final()
    assert [v.reviewer for v in after.votes] == ["carol@example.com"]
    assert stack.review_now() == decided


async def test_the_same_click_delivered_again_counts_once(
    dev_env: WorkflowEnvironment, tmp_path: Path, sqlite_url: str, sqlite_engine: Engine
) -> None:
    async with slack_stack(
        dev_env,
        tmp_path,
        sqlite_url,
        sqlite_engine,
        policy=POLICIES / "slack_two_approvals.toml",
    ) as stack:
        click = stack.click(CAROL, APPROVE_ACTION)
        # A double click (two at once), then Slack's retry of a delivery it doubted.
        first, second = await asyncio.gather(stack.deliver(click), stack.deliver(click))
        await stack.ephemerals(CAROL, 2)
        third = await stack.deliver(click)
        told = await stack.ephemerals(CAROL, 3)
        status = await stack.status()

    assert {first.status, second.status, third.status} == {200}
    assert status.stage is Stage.IN_REVIEW
    assert [v.reviewer for v in status.votes] == ["carol@example.com"]
    # Each delivery got the one vote's result, not "already voted".
    assert all("approval recorded" in text for text in told), told


# ----- reject and request changes --------------------------------------------------------


@pytest.mark.parametrize(
    ("action_id", "decision", "stage"),
    [
        (REJECT_ACTION, Decision.REJECT, Stage.REJECTED),
        (REQUEST_CHANGES_ACTION, Decision.REQUEST_CHANGES, Stage.CHANGES_REQUESTED),
    ],
    ids=["reject", "send-back"],
)
async def test_reason_buttons_open_a_modal_whose_submission_decides(
    stack: SlackStack, action_id: str, decision: Decision, stage: Stage
) -> None:
    if decision is Decision.REJECT:
        assert "confirm" in stack.review.buttons()[REJECT_ACTION]  # asked before the modal
    opened = await stack.deliver(stack.click(CAROL, action_id))

    assert opened.status == 200 and opened.seconds < SLACK_ACK_LIMIT
    [view] = await stack.views(1)
    assert view["callback_id"] == REASON_MODAL_CALLBACK
    metadata = json.loads(view["private_metadata"])
    assert metadata == {
        "ref": stack.ref,
        "decision": decision.value,
        "channel": REVIEW_CHANNEL,
        "message_ts": stack.review.ts,
    }
    [open_call] = stack.double.calls_to("views.open")
    assert open_call.params["trigger_id"]
    await _unchanged(stack)  # opening the modal decides nothing

    reason = "It calls an internal API that is being removed."
    submitted = await stack.deliver(
        view_submission_payload(
            user=CAROL, private_metadata=view["private_metadata"], reason=reason
        )
    )

    assert submitted.status == 200 and submitted.body == ""
    status = await wait_for_stage(stack.handle, stage)
    [vote] = status.votes
    assert (vote.reviewer, vote.decision, vote.reason) == ("carol@example.com", decision, reason)
    if stage is Stage.REJECTED:
        assert status.outcome_reason == reason
    await stack.ephemerals(CAROL, 1)
    decided = await _wait_for_edit(stack, mentioning="carol@example.com")
    assert reason in json.dumps(decided.blocks)


async def test_an_empty_reason_is_refused_in_the_modal(stack: SlackStack) -> None:
    await stack.deliver(stack.click(CAROL, REJECT_ACTION))
    [view] = await stack.views(1)

    submitted = await stack.deliver(
        view_submission_payload(user=CAROL, private_metadata=view["private_metadata"], reason="  ")
    )

    assert submitted.status == 200
    answer = json.loads(submitted.body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {REASON_BLOCK}
    await asyncio.sleep(0.5)
    await _unchanged(stack)


async def test_a_rejection_by_a_non_reviewer_is_refused_after_the_modal(
    stack: SlackStack,
) -> None:
    await stack.deliver(stack.click(FRANK, REJECT_ACTION))
    [view] = await stack.views(1)

    await stack.deliver(
        view_submission_payload(
            user=FRANK, private_metadata=view["private_metadata"], reason="I do not like it"
        )
    )

    [told] = await stack.ephemerals(FRANK, 1)
    assert "not in the policy's 'reviewers' group" in told
    await _unchanged(stack)


async def test_without_a_signing_secret_no_http_request_verifies(
    dev_env: WorkflowEnvironment, tmp_path: Path, sqlite_url: str
) -> None:
    # Socket Mode needs no signing secret, so the app must build without one; served
    # over HTTP by mistake, it must then refuse everything.
    async with SlackDouble(users=[CAROL]) as double:
        settings = _slack_settings(make_settings(tmp_path, sqlite_url), double).model_copy(
            update={"slack_signing_secret": None}
        )
        web_client = make_web_client(settings)
        assert web_client is not None
        app = build_app(
            settings=settings,
            temporal=dev_env.client,
            policy_loader=lambda: load_policy(None),
            web_client=web_client,
        )
        runner = await start_http(app, host="127.0.0.1", port=0)
        try:
            payload = block_actions_payload(
                user=CAROL,
                action_id=APPROVE_ACTION,
                value="skill/release-notes@1.0.0",
                channel_id=REVIEW_CHANNEL,
                message_ts="1732460001.000100",
            )
            body = form_body(payload)
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}",
                    data=body.encode(),
                    # Whatever an attacker guesses for an unconfigured secret: here, empty.
                    headers=sign(body, signing_secret=""),
                ) as response,
            ):
                status = response.status
        finally:
            await runner.cleanup()

    assert status == 401
    assert double.calls == []


# ----- Socket Mode -----------------------------------------------------------------------


async def test_socket_mode_dispatch_approves_like_http(stack: SlackStack) -> None:
    # The Socket Mode adapter hands the envelope's payload to the app like this; requests
    # come over the app's own WebSocket, so there is no signature to check.
    request = AsyncBoltRequest(body=stack.click(DAVE, APPROVE_ACTION), mode="socket_mode")

    response = await stack.app.async_dispatch(request)

    assert response.status == 200
    final = await stack.final()
    assert final.stage is Stage.PUBLISHED
    assert [v.reviewer for v in final.votes] == ["dave@example.com"]
    [told] = await stack.ephemerals(DAVE, 1)
    assert "approved" in told
    await _wait_for_edit(stack, mentioning="dave@example.com")


async def test_socket_mode_reason_modal_refuses_an_empty_reason(stack: SlackStack) -> None:
    await stack.app.async_dispatch(
        AsyncBoltRequest(body=stack.click(DAVE, REJECT_ACTION), mode="socket_mode")
    )
    [view] = await stack.views(1)

    response = await stack.app.async_dispatch(
        AsyncBoltRequest(
            body=view_submission_payload(
                user=DAVE, private_metadata=view["private_metadata"], reason=None
            ),
            mode="socket_mode",
        )
    )

    assert response.status == 200
    assert json.loads(response.body)["response_action"] == "errors"
    await _unchanged(stack)


# ----- agentreg serve --------------------------------------------------------------------

AGENTREG = str(Path(sys.executable).parent / "agentreg")


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without any Slack, registry or Temporal settings of the host."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AGENT_REGISTRY_", "TEMPORAL_", "SLACK_"))
    }
    env.update(NO_COLOR="1", COLUMNS="200", **extra)
    return env


# Without any Slack credentials, HTTP mode serves the API alone (tests/api/test_serve.py);
# half a configuration, or Socket Mode without its tokens, is still refused.
@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        ((), {"SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET}, "SLACK_BOT_TOKEN"),
        ((), {"SLACK_BOT_TOKEN": DEFAULT_TOKEN}, "SLACK_SIGNING_SECRET"),
        (("--socket-mode",), {}, "SLACK_BOT_TOKEN"),
        (("--socket-mode",), {"SLACK_BOT_TOKEN": DEFAULT_TOKEN}, "SLACK_APP_TOKEN"),
    ],
    ids=[
        "http-without-bot-token",
        "http-without-signing-secret",
        "socket-mode-without-bot-token",
        "socket-mode-without-app-token",
    ],
)
def test_serve_without_credentials_names_the_variable_to_set(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], named: str
) -> None:
    done = subprocess.run(
        [AGENTREG, "serve", *args],
        capture_output=True,
        text=True,
        env=_clean_env(**env),
        cwd=tmp_path,
        timeout=60,
    )

    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error:") and named in line
    assert "Traceback" not in done.stderr


async def test_agentreg_serve_handles_a_click_and_stops_on_sigterm(
    dev_env: WorkflowEnvironment, tmp_path: Path, sqlite_url: str, sqlite_engine: Engine
) -> None:
    async with slack_stack(
        dev_env, tmp_path, sqlite_url, sqlite_engine, policy=POLICIES / "slack_reviewers.toml"
    ) as stack:
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            AGENTREG,
            "serve",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            env=_clean_env(
                SLACK_BOT_TOKEN=DEFAULT_TOKEN,
                SLACK_SIGNING_SECRET=DEFAULT_SIGNING_SECRET,
                AGENT_REGISTRY_SLACK_API_URL=stack.double.base_url,
                AGENT_REGISTRY_POLICY=str(POLICIES / "slack_reviewers.toml"),
                TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
                TEMPORAL_NAMESPACE=dev_env.client.namespace,
            ),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await wait_for_listener(port, process)
            delivered = await stack.deliver(
                stack.click(CAROL, APPROVE_ACTION),
                url=f"http://127.0.0.1:{port}{EVENTS_PATH}",
            )
            final = await stack.final()
            await stack.ephemerals(CAROL, 1)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    assert delivered.status == 200
    assert final.stage is Stage.PUBLISHED
    assert process.returncode == 0, stderr.decode()
    logged = stderr.decode()
    assert "outcome=accepted" in logged
    assert DEFAULT_TOKEN not in logged and DEFAULT_SIGNING_SECRET not in logged
