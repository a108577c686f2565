"""Attest and Deprecate in Slack, end to end, on the time-skipping server.

A published version's life runs for months, so these tests use the time-skipping test
server with the year policy (re-certify every 90 days, 14 days to attest, the platform
group is ``platform-lead@example.com``). As in ``test_interactions``, the shipped worker
posts through the Slack double, and clicks are signed Slack requests to the app's real
HTTP endpoint.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from agent_registry.cli.serve import EVENTS_PATH, start_http
from agent_registry.lifecycle.client import LifecycleHandle, query_status
from agent_registry.lifecycle.contract import AssetStatus
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.policy.loader import load_policy
from agent_registry.slack.actions import (
    ATTEST_ACTION,
    DEPRECATE_ACTION,
    DEPRECATE_MODAL_CALLBACK,
    DEPRECATE_REASON_BLOCK,
    DEPRECATE_REASON_INPUT,
    DEPRECATE_REPLACEMENT_BLOCK,
    DEPRECATE_REPLACEMENT_INPUT,
)
from agent_registry.slack.app import build_app
from agent_registry.slack.client import make_web_client
from tests.slack_double import (
    DEFAULT_SIGNING_SECRET,
    DEFAULT_TOKEN,
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
    copy_example,
    make_settings,
    running_worker,
    skip_time,
    submit_path,
    vote,
    wait_for_stage,
)
from workflows.asset_lifecycle import AssetLifecycleWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

REVIEW_CHANNEL = "C0REVIEWS"
SLACK_ACK_LIMIT = 3.0

ALICE = SlackUser("U0ALICE", "alice", "alice@example.com", "Alice Submitter")
"""Submits every test asset; the re-certification DM goes to her."""
BOB = SlackUser("U0BOB", "bob", "bob@example.com", "Bob Owner")
"""The code-reviewer example's author: its owner team, as far as the year policy knows."""
LEAD = SlackUser("U0LEAD", "platform-lead", "platform-lead@example.com", "Platform Lead")
"""The year policy's platform group."""
MALLORY = SlackUser("U0MALLORY", "mallory", "mallory@example.com", "Mallory Outsider")

REASON = "replaced by the org-wide reviewer"
REPLACEMENT = "subagent/pr-reviewer@2.0.0"


@dataclass
class LifeStack:
    """A published code-reviewer with everything a click passes through, running."""

    env: WorkflowEnvironment
    double: SlackDouble
    url: str
    http: aiohttp.ClientSession
    workflow_id: str
    ref: str

    @property
    def handle(self) -> LifecycleHandle:
        """The newest run: the lifecycle continues as new after every passed cycle."""
        return self.env.client.get_workflow_handle(self.workflow_id, result_type=AssetStatus)

    async def status(self) -> AssetStatus:
        return await query_status(self.handle)

    async def deliver(self, payload: dict[str, Any]) -> tuple[int, str, float]:
        """POST the payload to the endpoint as Slack would: form body, signed."""
        body = form_body(payload)
        started = time.monotonic()
        async with self.http.post(self.url, data=body.encode(), headers=sign(body)) as response:
            text = await response.text()
        return response.status, text, time.monotonic() - started

    async def told(self, user: SlackUser, count: int) -> list[str]:
        """Wait until ``user`` was shown ``count`` ephemeral messages; their texts."""
        deadline = time.monotonic() + 20
        while len(self.double.ephemerals_for(user.id)) < count:
            shown = [e.text for e in self.double.ephemerals_for(user.id)]
            assert time.monotonic() < deadline, f"{user.name} was told {shown}"
            await asyncio.sleep(0.05)
        return [e.text for e in self.double.ephemerals_for(user.id)]

    async def views(self, count: int) -> list[dict[str, Any]]:
        """Wait until Slack was asked to open ``count`` modals; the handler acks the click first."""
        deadline = time.monotonic() + 20
        while len(self.double.views) < count:
            assert time.monotonic() < deadline, f"{len(self.double.views)} modals opened"
            await asyncio.sleep(0.05)
        return list(self.double.views)

    async def message_with(self, channel: str, action_id: str) -> Message:
        """Wait for a message in ``channel`` whose button ``action_id`` names this asset."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for message in self.double.messages_in(channel):
                button = message.buttons().get(action_id)
                if button is not None and button.get("value") == self.ref:
                    return copy.deepcopy(message)
            await asyncio.sleep(0.05)
        raise AssertionError(f"no message in {channel} offers {action_id} for {self.ref}")

    def review_message(self) -> Message:
        [message] = self.double.messages_in(REVIEW_CHANNEL)
        return message


def _click(user: SlackUser, message: Message, action_id: str) -> dict[str, Any]:
    return block_actions_payload(
        user=user,
        action_id=action_id,
        value=message.buttons()[action_id]["value"],
        channel_id=message.channel,
        message_ts=message.ts,
    )


def _deprecation_form(
    user: SlackUser, view: dict[str, Any], *, reason: str | None, replacement: str | None
) -> dict[str, Any]:
    """The deprecation modal submitted with what the user typed (None: left empty)."""
    payload = view_submission_payload(
        user=user,
        private_metadata=view["private_metadata"],
        reason=None,
        callback_id=DEPRECATE_MODAL_CALLBACK,
    )
    payload["view"]["state"]["values"] = {
        DEPRECATE_REASON_BLOCK: {
            DEPRECATE_REASON_INPUT: {"type": "plain_text_input", "value": reason}
        },
        DEPRECATE_REPLACEMENT_BLOCK: {
            DEPRECATE_REPLACEMENT_INPUT: {"type": "plain_text_input", "value": replacement}
        },
    }
    return payload


@pytest.fixture
async def stack(
    ts_env: WorkflowEnvironment, tmp_path: Path, sqlite_url: str, sqlite_engine: Engine
) -> AsyncIterator[LifeStack]:
    async with SlackDouble(
        users=[ALICE, BOB, LEAD, MALLORY],
        channels={"agent-registry-reviews": REVIEW_CHANNEL},
    ) as double:
        settings = make_settings(tmp_path, sqlite_url, policy=POLICIES / "year.toml").model_copy(
            update={
                "slack_bot_token": SecretStr(DEFAULT_TOKEN),
                "slack_signing_secret": SecretStr(DEFAULT_SIGNING_SECRET),
                "slack_api_url": double.base_url,
            }
        )
        web_client = make_web_client(settings)
        assert web_client is not None
        app = build_app(
            settings=settings,
            temporal=ts_env.client,
            policy_loader=lambda: load_policy(settings.policy),
            web_client=web_client,
        )
        runner = await start_http(app, host="127.0.0.1", port=0)
        try:
            async with (
                running_worker(ts_env.client, settings, sqlite_engine),
                aiohttp.ClientSession() as http,
            ):
                handle = await submit_path(
                    ts_env.client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
                )
                await wait_for_stage(
                    handle, Stage.IN_REVIEW, until=lambda s: s.review_message is not None
                )
                await vote(handle, Decision.APPROVE, "rita@example.com")
                latest = ts_env.client.get_workflow_handle(handle.id, result_type=AssetStatus)
                published = await wait_for_stage(
                    latest, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
                )
                yield LifeStack(
                    env=ts_env,
                    double=double,
                    url=f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}",
                    http=http,
                    workflow_id=handle.id,
                    ref=str(published.ref),
                )
        finally:
            await runner.cleanup()


# ----- attest ----------------------------------------------------------------------------


async def _due(stack: LifeStack) -> Message:
    """Skip to the re-certification; the attestation DM the submitter received."""
    status = await stack.status()
    assert status.recertify_by is not None
    now = await stack.env.get_current_time()
    await skip_time(stack.env, status.recertify_by - now + timedelta(hours=1))
    await wait_for_stage(stack.handle, Stage.RECERTIFYING, until=lambda s: s.life is not None)
    return await stack.message_with(stack.double.dm_channel(ALICE.id), ATTEST_ACTION)


async def test_the_owner_attests_from_the_dm_and_the_version_stays_published(
    stack: LifeStack,
) -> None:
    dm = await _due(stack)
    assert "due for re-certification" in dm.text

    status, _, seconds = await stack.deliver(_click(BOB, dm, ATTEST_ACTION))

    assert status == 200 and seconds < SLACK_ACK_LIMIT
    [told] = await stack.told(BOB, 1)
    assert stack.ref in told and "attested" in told
    passed = await wait_for_stage(
        stack.handle, Stage.PUBLISHED, until=lambda s: s.recertifications == 1
    )
    assert passed.attested_by == BOB.email
    assert passed.recertify_by is not None


async def test_an_outsiders_attestation_is_refused_and_changes_nothing(stack: LifeStack) -> None:
    dm = await _due(stack)

    await stack.deliver(_click(MALLORY, dm, ATTEST_ACTION))

    [told] = await stack.told(MALLORY, 1)
    assert "Your attestation of" in told and "mallory@example.com is not in team" in told
    status = await stack.status()
    assert status.stage is Stage.RECERTIFYING
    assert status.attested_by is None
    assert status.recertifications == 0


# ----- deprecate -------------------------------------------------------------------------


async def _open_form(stack: LifeStack, user: SlackUser, message: Message) -> dict[str, Any]:
    """Click Deprecate as ``user``; the modal Slack was asked to open."""
    opened = len(stack.double.views)
    status, _, seconds = await stack.deliver(_click(user, message, DEPRECATE_ACTION))
    assert status == 200 and seconds < SLACK_ACK_LIMIT
    views = await stack.views(opened + 1)
    assert len(views) == opened + 1
    view = views[-1]
    assert view["callback_id"] == DEPRECATE_MODAL_CALLBACK
    return view


async def test_the_platform_team_deprecates_from_the_review_message(stack: LifeStack) -> None:
    review = await stack.message_with(REVIEW_CHANNEL, DEPRECATE_ACTION)
    button = review.buttons()[DEPRECATE_ACTION]
    assert button["style"] == "danger" and "confirm" in button

    view = await _open_form(stack, LEAD, review)
    assert (await stack.status()).stage is Stage.PUBLISHED  # the form decides nothing yet
    status, body, _ = await stack.deliver(
        _deprecation_form(LEAD, view, reason=REASON, replacement=REPLACEMENT)
    )

    assert (status, body) == (200, "")
    deprecated = await wait_for_stage(stack.handle, Stage.DEPRECATED)
    assert deprecated.deprecation is not None
    assert deprecated.deprecation.reason == REASON
    assert deprecated.deprecation.replacement == REPLACEMENT
    assert deprecated.deprecation.by == LEAD.email
    [told] = await stack.told(LEAD, 1)
    assert stack.ref in told and "accepted" in told

    # The review message now says what happened, and offers Deprecate no more.
    deadline = time.monotonic() + 20
    while DEPRECATE_ACTION in stack.review_message().buttons():
        assert time.monotonic() < deadline, "the review message still offers Deprecate"
        await asyncio.sleep(0.05)
    shown = json.dumps(stack.review_message().blocks)
    assert "Deprecated" in shown and REPLACEMENT in shown and "Retires on" in shown

    # A click from a stale copy of the message is refused: there is nothing to deprecate.
    again = await _open_form(stack, BOB, review)
    await stack.deliver(_deprecation_form(BOB, again, reason="also old", replacement=None))
    [refused] = await stack.told(BOB, 1)
    assert "Your deprecation of" in refused and "only a published version" in refused
    after = await stack.status()
    assert after.deprecation is not None and after.deprecation.reason == REASON

    # The run that edited the review message replays through the same code.
    replayer = Replayer(workflows=[AssetLifecycleWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(await stack.handle.fetch_history())


async def test_an_outsiders_deprecation_is_refused_and_changes_nothing(stack: LifeStack) -> None:
    review = await stack.message_with(REVIEW_CHANNEL, DEPRECATE_ACTION)
    edits = stack.review_message().edits

    view = await _open_form(stack, MALLORY, review)
    await stack.deliver(_deprecation_form(MALLORY, view, reason="I want it gone", replacement=None))

    [told] = await stack.told(MALLORY, 1)
    assert "mallory@example.com may not deprecate" in told
    status = await stack.status()
    assert status.stage is Stage.PUBLISHED
    assert status.deprecation is None
    assert stack.review_message().edits == edits
    assert DEPRECATE_ACTION in stack.review_message().buttons()


@pytest.mark.parametrize(
    ("reason", "replacement", "block"),
    [
        ("  ", None, DEPRECATE_REASON_BLOCK),
        (REASON, "pr-reviewer 2", DEPRECATE_REPLACEMENT_BLOCK),
        (REASON, "self", DEPRECATE_REPLACEMENT_BLOCK),
    ],
    ids=["no-reason", "not-a-ref", "itself"],
)
async def test_the_form_refuses_what_cannot_be_sent(
    stack: LifeStack, reason: str, replacement: str | None, block: str
) -> None:
    review = await stack.message_with(REVIEW_CHANNEL, DEPRECATE_ACTION)
    view = await _open_form(stack, LEAD, review)
    typed = stack.ref if replacement == "self" else replacement

    status, body, _ = await stack.deliver(
        _deprecation_form(LEAD, view, reason=reason, replacement=typed)
    )

    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {block}
    await asyncio.sleep(0.3)
    assert (await stack.status()).stage is Stage.PUBLISHED
    assert stack.double.ephemerals_for(LEAD.id) == []
