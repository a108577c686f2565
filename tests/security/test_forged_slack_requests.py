"""Forged and abusive Slack requests against the real ``agentreg serve`` endpoint.

The shipped worker runs in the test, the lifecycle waits in review, and ``agentreg
serve`` runs as a subprocess with the Slack double standing in for Slack's Web API.
Transport-level forgeries must be refused before the app reads them (HTTP 4xx);
business refusals are acknowledged and shown to the clicker only. Either way the
refusal is logged by the server, and nothing changes: no vote, no decision row in the
registry, no edit of the review message.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from agent_registry.cli.serve import EVENTS_PATH
from agent_registry.config import Settings
from agent_registry.lifecycle.client import LifecycleHandle, query_status
from agent_registry.lifecycle.contract import (
    DEPRECATE_UPDATE,
    AssetStatus,
    DeprecateInput,
    VoteResult,
)
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.slack.actions import APPROVE_ACTION, ATTEST_ACTION
from tests.ports import free_port
from tests.slack_double import (
    DEFAULT_SIGNING_SECRET,
    DEFAULT_TOKEN,
    Message,
    SlackDouble,
    SlackUser,
    block_actions_payload,
    form_body,
    sign,
)
from tests.support import (
    POLICIES,
    copy_example,
    make_settings,
    principal,
    running_worker,
    submit_path,
    vote,
    wait_for_listener,
    wait_for_stage,
)

REVIEW_CHANNEL = "C0REVIEWS"
REVIEWERS_GROUP = "S0REVIEWERS"
CAROL_EMAIL = "carol@example.com"
DAVE_EMAIL = "dave@example.com"
AGENTREG = str(Path(sys.executable).parent / "agentreg")

CAROL = SlackUser("U0CAROL", "carol", CAROL_EMAIL, "Carol Reviewer")
DAVE = SlackUser("U0DAVE", "dave", DAVE_EMAIL, "Dave Reviewer")
FRANK = SlackUser("U0FRANK", "frank", "frank@example.com", "Frank Outsider")
ALICE = SlackUser("U0ALICE", "alice", "alice@example.com", "Alice Submitter")
"""Alice submits every test asset, and is in the reviewers group: only self-review stops her."""

OVERSIZED_BYTES = 2 * 1024 * 1024
"""Well past aiohttp's default 1 MiB request cap; Slack's payloads are a few KiB."""


@dataclass
class Served:
    """A lifecycle in review and ``agentreg serve`` answering Slack for it."""

    client: Client
    double: SlackDouble
    settings: Settings
    engine: Engine
    url: str
    http: aiohttp.ClientSession
    handle: LifecycleHandle
    ref: str
    review: Message
    log_path: Path

    @property
    def latest(self) -> LifecycleHandle:
        """The newest run (a published lifecycle continues as new)."""
        return self.client.get_workflow_handle(self.handle.id, result_type=AssetStatus)

    async def post(self, body: bytes, headers: dict[str, str]) -> int:
        async with self.http.post(self.url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def deliver(self, payload: dict[str, Any]) -> int:
        body = form_body(payload)
        return await self.post(body.encode(), sign(body))

    def click(self, user: SlackUser, action_id: str = APPROVE_ACTION) -> dict[str, Any]:
        """A click on the review message carrying this asset's reference."""
        return block_actions_payload(
            user=user,
            action_id=action_id,
            value=self.ref,
            channel_id=self.review.channel,
            message_ts=self.review.ts,
        )

    def server_log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def logged(self, predicate: Callable[[str], bool], timeout: float = 20.0) -> str:
        """Wait for a server log line satisfying ``predicate``; that line."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.server_log().splitlines():
                if predicate(line):
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(f"no such line in the server log:\n{self.server_log()}")
            await asyncio.sleep(0.05)

    async def told(self, user: SlackUser, count: int = 1, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.double.ephemerals_for(user.id)) < count:
            shown = [e.text for e in self.double.ephemerals_for(user.id)]
            assert time.monotonic() < deadline, f"{user.name} was told {shown}"
            await asyncio.sleep(0.05)
        told = self.double.ephemerals_for(user.id)
        assert all(e.channel == REVIEW_CHANNEL for e in told)
        return [e.text for e in told]

    def review_updates(self) -> int:
        """``chat.update`` calls that edited the review message."""
        return sum(
            1
            for call in self.double.calls_to("chat.update", ok_only=True)
            if call.params.get("ts") == self.review.ts
        )

    def review_message(self) -> Message:
        [message] = self.double.messages_in(REVIEW_CHANNEL)
        return message

    def decision_rows(self) -> int:
        with self.engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM review_decision")).scalar_one()
        return int(count)


def _serve_env(double: SlackDouble, env: WorkflowEnvironment, settings: Settings) -> dict[str, str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AGENT_REGISTRY_", "TEMPORAL_", "SLACK_"))
    }
    clean.update(
        NO_COLOR="1",
        SLACK_BOT_TOKEN=DEFAULT_TOKEN,
        SLACK_SIGNING_SECRET=DEFAULT_SIGNING_SECRET,
        AGENT_REGISTRY_SLACK_API_URL=double.base_url,
        AGENT_REGISTRY_POLICY=str(settings.policy),
        AGENT_REGISTRY_DATABASE_URL=settings.database_url or "",
        TEMPORAL_ADDRESS=env.client.service_client.config.target_host,
        TEMPORAL_NAMESPACE=env.client.namespace,
    )
    return clean


async def _review_request(double: SlackDouble, ref: str) -> Message:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in double.messages_in(REVIEW_CHANNEL):
            approve = message.buttons().get(APPROVE_ACTION)
            if approve is not None and approve.get("value") == ref:
                return copy.deepcopy(message)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no review request for {ref}")


@asynccontextmanager
async def _agentreg_serve(
    env: WorkflowEnvironment, double: SlackDouble, settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[str, Path]]:
    """``agentreg serve`` on a free port, its log going to a file; stopped with SIGTERM."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    log: IO[bytes] = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        AGENTREG,
        "serve",
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        env=_serve_env(double, env, settings),
        cwd=tmp_path,
        stdout=log,
        stderr=log,
    )
    try:
        await wait_for_listener(port, process)
        yield f"http://127.0.0.1:{port}{EVENTS_PATH}", log_path
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
        log.close()
    assert process.returncode == 0, log_path.read_text()


@pytest.fixture
async def served(
    dev_env: WorkflowEnvironment, tmp_path: Path, sqlite_url: str, sqlite_engine: Engine
) -> AsyncIterator[Served]:
    async with SlackDouble(
        users=[CAROL, DAVE, FRANK, ALICE],
        usergroups={
            REVIEWERS_GROUP: [CAROL.id, DAVE.id, ALICE.id],
            "S0SECURITY": [],
            "S0PLATFORM": [],
        },
        channels={"agent-registry-reviews": REVIEW_CHANNEL},
    ) as double:
        settings = make_settings(
            tmp_path, sqlite_url, policy=POLICIES / "slack_reviewers.toml"
        ).model_copy(
            # The worker posts to Slack with the bot token the server uses.
            update={"slack_api_url": double.base_url, "slack_bot_token": SecretStr(DEFAULT_TOKEN)}
        )
        async with (
            running_worker(dev_env.client, settings, sqlite_engine),
            _agentreg_serve(dev_env, double, settings, tmp_path) as (url, log_path),
            aiohttp.ClientSession() as http,
        ):
            handle = await submit_path(
                dev_env.client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
            )
            in_review = await wait_for_stage(handle, Stage.IN_REVIEW)
            ref = str(in_review.ref)
            yield Served(
                client=dev_env.client,
                double=double,
                settings=settings,
                engine=sqlite_engine,
                url=url,
                http=http,
                handle=handle,
                ref=ref,
                review=await _review_request(double, ref),
                log_path=log_path,
            )


async def _nothing_changed(served: Served, *, decisions: int = 0) -> None:
    """No vote, no decision row, the review message as it was posted."""
    await asyncio.sleep(0.5)  # give a wrongly accepted request time to show
    status = await query_status(served.latest)
    assert status.stage is Stage.IN_REVIEW
    assert status.votes == []
    assert served.decision_rows() == decisions
    message = served.review_message()
    assert (message.edits, message.blocks) == (0, served.review.blocks)


# ----- transport-level forgeries ----------------------------------------------------------

Forgery = Callable[[str], tuple[bytes, dict[str, str]]]
"""From the form body of a genuine click to what the forger sends: body and headers."""

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _wrong_secret(body: str) -> tuple[bytes, dict[str, str]]:
    return body.encode(), sign(body, signing_secret="not-the-apps-signing-secret")


def _no_headers(body: str) -> tuple[bytes, dict[str, str]]:
    return body.encode(), dict(FORM)


def _no_signature(body: str) -> tuple[bytes, dict[str, str]]:
    headers = sign(body)
    del headers["X-Slack-Signature"]
    return body.encode(), headers


def _no_timestamp(body: str) -> tuple[bytes, dict[str, str]]:
    headers = sign(body)
    del headers["X-Slack-Request-Timestamp"]
    return body.encode(), headers


def _stale(body: str) -> tuple[bytes, dict[str, str]]:
    return body.encode(), sign(body, timestamp=int(time.time()) - 6 * 60)


def _future(body: str) -> tuple[bytes, dict[str, str]]:
    return body.encode(), sign(body, timestamp=int(time.time()) + 6 * 60)


def _tampered(body: str) -> tuple[bytes, dict[str, str]]:
    # Signed as sent by Slack, then the clicker swapped for another user on the way.
    headers = sign(body)
    return body.replace(CAROL.id, DAVE.id).encode(), headers


def _unsigned_scheme(body: str) -> tuple[bytes, dict[str, str]]:
    headers = sign(body)
    headers["X-Slack-Signature"] = headers["X-Slack-Signature"].replace("v0=", "v1=")
    return body.encode(), headers


def _garbage_timestamp(body: str) -> tuple[bytes, dict[str, str]]:
    headers = sign(body)
    headers["X-Slack-Request-Timestamp"] = "yesterday"
    return body.encode(), headers


FORGERIES: dict[str, Forgery] = {
    "wrong-secret": _wrong_secret,
    "no-signature-headers": _no_headers,
    "no-signature": _no_signature,
    "no-timestamp": _no_timestamp,
    "stale-timestamp": _stale,
    "future-timestamp": _future,
    "tampered-body": _tampered,
    "other-signature-scheme": _unsigned_scheme,
    "garbage-timestamp": _garbage_timestamp,
}


@pytest.mark.parametrize("forgery", list(FORGERIES), ids=list(FORGERIES))
async def test_a_forged_request_is_refused_logged_and_changes_nothing(
    served: Served, forgery: str
) -> None:
    payload = served.click(CAROL)
    marker = payload["trigger_id"]
    body, headers = FORGERIES[forgery](form_body(payload))

    status = await served.post(body, headers)

    assert status == 401
    if forgery == "garbage-timestamp":  # refused before Bolt's verifier, which would crash
        line = await served.logged(lambda line: "refused: invalid request timestamp" in line)
    else:
        line = await served.logged(
            lambda line: "Invalid request signature" in line and marker in line
        )
    assert "Traceback" not in served.server_log()
    assert DEFAULT_SIGNING_SECRET not in line
    await _nothing_changed(served)
    assert served.double.calls_to("users.info") == []
    assert served.double.ephemerals == []


async def test_an_oversized_body_is_refused_before_it_is_read(served: Served) -> None:
    payload = served.click(CAROL)
    payload["padding"] = "x" * OVERSIZED_BYTES
    body = form_body(payload)

    status = await served.post(body.encode(), sign(body))

    assert status == 413
    await served.logged(lambda line: "too large" in line.lower() and EVENTS_PATH in line)
    assert "Traceback" not in served.server_log()
    await _nothing_changed(served)
    assert served.double.calls_to("users.info") == []


@pytest.mark.parametrize("payload", ["null", "[]", '"text"', "7", "{", ""], ids=repr)
async def test_an_unsigned_body_that_is_not_a_payload_object_is_refused(
    served: Served, payload: str
) -> None:
    # Bolt reads the body before it checks the signature; a body it cannot read must be
    # a refusal, not a server error with a traceback.
    body = f"payload={payload}"

    status = await served.post(body.encode(), dict(FORM))

    assert 400 <= status < 500
    await served.logged(lambda line: "slack request to /slack/events refused" in line)
    assert "Traceback" not in served.server_log()
    await _nothing_changed(served)


# ----- replay -----------------------------------------------------------------------------


async def test_a_replayed_signed_request_casts_no_second_vote(served: Served) -> None:
    body = form_body(served.click(CAROL))
    headers = sign(body)  # one signature, captured and sent again within the 5 minutes

    first = await served.post(body.encode(), headers)
    await served.told(CAROL, 1)
    published = await wait_for_stage(
        served.latest, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
    )
    deadline = time.monotonic() + 20
    while served.review_updates() < 1:
        assert time.monotonic() < deadline, "the review message was never updated"
        await asyncio.sleep(0.05)
    decided = copy.deepcopy(served.review_message())

    replayed = await served.post(body.encode(), headers)
    await served.told(CAROL, 2)
    await asyncio.sleep(0.5)

    assert (first, replayed) == (200, 200)
    after = await query_status(served.latest)
    assert [(v.reviewer, v.decision) for v in after.votes] == [
        ("carol@example.com", Decision.APPROVE)
    ]
    assert after.votes == published.votes
    assert served.decision_rows() == 1
    assert served.review_updates() == 1
    assert served.review_message() == decided
    clicks = [line for line in served.server_log().splitlines() if "user=U0CAROL" in line]
    assert len(clicks) == 2, clicks  # both deliveries are logged, under one update id


# ----- business refusals ------------------------------------------------------------------


async def test_a_user_outside_the_slack_reviewer_group_is_refused(served: Served) -> None:
    assert FRANK.id not in served.double.usergroups[REVIEWERS_GROUP]

    status = await served.deliver(served.click(FRANK))

    assert status == 200
    [told] = await served.told(FRANK)
    assert "frank@example.com is not in the policy's 'reviewers' group" in told
    assert served.double.calls_to("usergroups.users.list")
    line = await served.logged(lambda line: "user=U0FRANK" in line and "outcome=" in line)
    assert "outcome=accepted" not in line
    await _nothing_changed(served)


async def test_the_submitter_cannot_approve_their_own_submission(served: Served) -> None:
    status = await served.deliver(served.click(ALICE))

    assert status == 200
    [told] = await served.told(ALICE)
    assert "alice@example.com submitted or wrote" in told and "cannot review it" in told
    line = await served.logged(lambda line: "user=U0ALICE" in line and "outcome=" in line)
    assert "outcome=refused" in line and "reviewer=alice@example.com" in line
    await _nothing_changed(served)


@pytest.mark.parametrize(
    "decision", [Decision.REJECT, Decision.APPROVE], ids=["rejected", "published"]
)
async def test_an_approval_after_the_decision_is_refused(
    served: Served, decision: Decision
) -> None:
    await vote(served.handle, decision, CAROL_EMAIL, reason="no", verified_groups=[REVIEWERS_GROUP])
    if decision is Decision.REJECT:
        decided = await wait_for_stage(served.latest, Stage.REJECTED)
    else:
        decided = await wait_for_stage(
            served.latest, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
        )
    await asyncio.sleep(0.5)  # the decision's own message edit
    message = copy.deepcopy(served.review_message())
    updates = served.review_updates()
    rows = served.decision_rows()

    status = await served.deliver(served.click(DAVE))

    assert status == 200
    [told] = await served.told(DAVE)
    assert decided.stage.value in told and "review is over" in told
    line = await served.logged(lambda line: "user=U0DAVE" in line and "outcome=" in line)
    assert "outcome=accepted" not in line
    after = await query_status(served.latest)
    assert after.stage is decided.stage
    assert [v.reviewer for v in after.votes] == [CAROL_EMAIL]
    assert served.decision_rows() == rows == 1
    assert served.review_updates() == updates
    assert served.review_message() == message


async def test_clicks_on_a_retired_asset_are_refused(served: Served) -> None:
    await vote(served.handle, Decision.APPROVE, CAROL_EMAIL, verified_groups=[REVIEWERS_GROUP])
    await wait_for_stage(served.latest, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None)
    sunset = datetime.now(UTC) + timedelta(seconds=2)
    result: VoteResult = await served.latest.execute_update(
        DEPRECATE_UPDATE,
        DeprecateInput(
            principal=principal(CAROL_EMAIL, groups=[REVIEWERS_GROUP]),
            reason="superseded",
            sunset=sunset,
        ),
        id=f"test/{uuid.uuid4()}",
        result_type=VoteResult,
    )
    assert "accepted" in result.message
    retired = await wait_for_stage(served.latest, Stage.RETIRED, timeout=30)
    await asyncio.sleep(0.5)
    message = copy.deepcopy(served.review_message())
    updates = served.review_updates()
    rows = served.decision_rows()

    assert await served.deliver(served.click(DAVE, APPROVE_ACTION)) == 200
    assert await served.deliver(served.click(DAVE, ATTEST_ACTION)) == 200

    told = await served.told(DAVE, 2)
    assert all(f"{served.ref} is Retired" in text for text in told), told
    assert "review is over" in told[0] and "nothing to attest" in told[1]
    lines = [
        line
        for line in served.server_log().splitlines()
        if "user=U0DAVE" in line and "outcome=" in line
    ]
    assert len(lines) == 2 and all("outcome=closed" in line for line in lines), lines
    after = await query_status(served.latest)
    assert after.stage is Stage.RETIRED
    assert after.votes == retired.votes
    assert served.decision_rows() == rows
    assert served.review_updates() == updates
    assert served.review_message() == message
    assert json.dumps(after.model_dump(mode="json")).count(DAVE_EMAIL) == 0
