"""The probed server's stderr reaches reviewers only: masked, in the review request.

A server prints a credential-shaped token and text naming its host. Reviewers see the
excerpt with the token masked; the submitter's notices, the findings and the status
(what ``agentreg status`` shows) carry neither the token nor the host text.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from agent_registry.config import Settings
from agent_registry.lifecycle.contract import AssetStatus
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.registry.tables import EvalRun, EvalRunPublic
from tests.mcp_probe.support import READ_TOOLS, bundled_server, needs_sandbox
from tests.slack_double import Message, SlackDouble, SlackUser, slack_settings
from tests.support import make_settings, running_worker, submit_path, wait_for_stage

pytestmark = [pytest.mark.asyncio(loop_scope="session"), needs_sandbox]

REVIEWS = "agent-registry-reviews"
PLATFORM = "agent-registry-platform"
PLANTED_TOKEN = "ghp_" + hashlib.sha256(b"planted").hexdigest()[:36]
HOST_TEXT = "connected from build-host-7f3a.corp.acme.internal as svc-notes"
"""What tests/mcp_probe/servers/chatty.py prints to stderr (it is not importable here:
it starts a server on import)."""
ALICE = SlackUser("U0ALICE", "alice", "alice@example.com", "Alice Submitter")


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble(
        users=[ALICE], channels={REVIEWS: "C0REVIEWS", PLATFORM: "C0PLATFORM"}
    ) as running:
        yield running


def _settings(tmp_path: Path, db_url: str, double: SlackDouble) -> Settings:
    return slack_settings(make_settings(tmp_path, db_url), double)


def _text(message: Message) -> str:
    return message.text + " ".join(str(block) for block in message.blocks)


def _status_text(status: AssetStatus) -> str:
    return status.model_dump_json()


async def test_reviewers_see_the_masked_stderr_and_the_status_does_not(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    double: SlackDouble,
) -> None:
    folder = tmp_path / "chatty"
    bundled_server(folder, "chatty.py", tools=READ_TOOLS)
    settings = _settings(tmp_path, sqlite_url, double)
    async with running_worker(dev_env.client, settings, sqlite_engine):
        handle = await submit_path(dev_env.client, settings, folder)
        status = await wait_for_stage(
            handle, Stage.IN_REVIEW, until=lambda s: s.review_message is not None
        )

    [review] = double.messages_in(REVIEWS)
    shown = _text(review)
    assert "wrote to stderr during the live probe" in shown
    assert HOST_TEXT in shown, "reviewers read what the server said"
    assert PLANTED_TOKEN[:4] in shown and PLANTED_TOKEN not in shown, "the token is masked"
    assert HOST_TEXT not in _status_text(status) and PLANTED_TOKEN[4:] not in _status_text(status)
    with Session(sqlite_engine) as session:
        assert status.eval is not None
        stored = store.probe_stderr_for_reviewers(session, run_key=status.eval.run_key)
        assert stored is not None and HOST_TEXT in stored and PLANTED_TOKEN not in stored
        run = session.exec(select(EvalRun).where(EvalRun.run_key == status.eval.run_key)).one()
        public = EvalRunPublic.model_validate(run, from_attributes=True).model_dump_json()
        assert HOST_TEXT not in public, "a public read of the run does not carry it"


async def test_a_failed_probe_tells_the_submitter_what_happened_but_not_what_it_printed(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    double: SlackDouble,
) -> None:
    folder = tmp_path / "chatty-failing"
    bundled_server(folder, "chatty.py", tools=READ_TOOLS, args=["--fail"])
    settings = _settings(tmp_path, sqlite_url, double)
    async with running_worker(dev_env.client, settings, sqlite_engine):
        handle = await submit_path(dev_env.client, settings, folder)
        status = await wait_for_stage(handle, Stage.EVAL_FAILED)
        dm = double.dm_channel(ALICE.id)
        for _ in range(200):
            if double.messages_in(dm):
                break
            await asyncio.sleep(0.1)

    assert status.eval is not None and not status.eval.passed
    assert any(f.check_id == "probe.failed" for f in status.eval.top_findings)
    notices = [_text(m) for m in double.messages_in(dm)]
    assert notices, "the submitter is told the eval failed"
    for said in [*notices, _status_text(status)]:
        assert HOST_TEXT not in said and "build-host-7f3a" not in said
        assert PLANTED_TOKEN[4:12] not in said
    with Session(sqlite_engine) as session:
        stored = store.probe_stderr_for_reviewers(session, run_key=status.eval.run_key)
    assert stored is not None and HOST_TEXT in stored and PLANTED_TOKEN not in stored
