"""Planted secrets never reach logs, workflow histories, Slack or exception text.

One registry runs end to end on PostgreSQL with a password in its URL, a Slack bot token
and signing secret of its own, and two submissions: a subagent approved by a signed
click, and a skill whose script holds an AWS key (blocked by the eval bar). Everything
the run leaves behind is collected and searched for the planted values: every log
record of every logger at DEBUG, both lifecycles' full histories (every run), every
request body and header the Slack double received, the status queries, and the text of
the exceptions a bad database password and a refused Slack call raise.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from agent_registry.cli.serve import EVENTS_PATH, start_http
from agent_registry.config import Settings
from agent_registry.lifecycle.client import LifecycleHandle, query_status
from agent_registry.lifecycle.contract import AssetStatus
from agent_registry.lifecycle.stages import Stage
from agent_registry.policy.loader import load_policy
from agent_registry.registry import store
from agent_registry.registry.db import make_engine, upgrade_database
from agent_registry.slack.actions import APPROVE_ACTION
from agent_registry.slack.app import build_app
from agent_registry.slack.client import make_web_client
from tests import pg
from tests.slack_double import SlackDouble, SlackUser, block_actions_payload, form_body, sign
from tests.support import (
    POLICIES,
    copy_example,
    make_settings,
    running_worker,
    submit_path,
    wait_for_stage,
)

pytestmark = pytest.mark.postgres

REVIEW_CHANNEL = "C0REVIEWS"
CAROL = SlackUser("U0CAROL", "carol", "carol@example.com", "Carol Reviewer")
ALICE = SlackUser("U0ALICE", "alice", "alice@example.com", "Alice Submitter")

_RANDOM = secrets.token_hex(8)
BOT_TOKEN = f"xoxb-4444444444-{_RANDOM}-plantedbot"
SIGNING_SECRET = f"planted{secrets.token_hex(13)}"
PG_PASSWORD = f"pg-Planted-{secrets.token_hex(6)}"
AWS_KEY_ID = "AKIA" + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(16))
AWS_SECRET = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))

PLANTED = {
    "slack bot token": BOT_TOKEN,
    "slack signing secret": SIGNING_SECRET,
    "database password": PG_PASSWORD,
    "aws access key id in the asset": AWS_KEY_ID,
    "aws secret key in the asset": AWS_SECRET,
}

LEAKY_SCRIPT = f"""#!/bin/sh
# Publishes the release notes to the bucket.
export AWS_ACCESS_KEY_ID={AWS_KEY_ID}
export AWS_SECRET_ACCESS_KEY={AWS_SECRET}
aws s3 cp notes.md s3://release-notes/
"""


def _leaks(where: str, haystack: str) -> list[str]:
    """``where: what`` for every planted value in ``haystack``."""
    return [f"{where}: {name}" for name, value in PLANTED.items() if value in haystack]


@pytest.fixture
def pg_url_with_password() -> Iterator[str]:
    """A fresh schema reached through a URL that carries the planted password.

    The local server trusts loopback connections, so any password is accepted; it is
    still in every URL the registry holds, which is what the test watches.
    """
    base = make_url(pg.require_postgres()).set(password=PG_PASSWORD)
    with pg.isolated_schema(base.render_as_string(hide_password=False)) as url:
        assert PG_PASSWORD in url
        upgrade_database(url)
        yield url


async def _wait(predicate: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    assert callable(predicate)
    while not predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def _payload_texts(node: object) -> list[str]:
    """Every payload's data in a history's JSON form, decoded (the JSON holds base64)."""
    found: list[str] = []
    if isinstance(node, dict):
        data = node.get("data")
        if "metadata" in node and isinstance(data, str):
            found.append(base64.b64decode(data).decode("utf-8", "replace"))
        for value in node.values():
            found.extend(_payload_texts(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_payload_texts(value))
    return found


def _bytes_fields(node: object) -> list[str]:
    """Bytes fields inside decoded JSON payloads (pydantic sends them as base64), decoded."""
    found: list[str] = []
    if isinstance(node, dict):
        for value in node.values():
            found.extend(_bytes_fields(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_bytes_fields(value))
    elif isinstance(node, str) and len(node) > 64:
        with contextlib.suppress(ValueError):
            padded = node + "=" * (-len(node) % 4)
            found.append(base64.urlsafe_b64decode(padded).decode("utf-8", "replace"))
    return found


@dataclass
class Histories:
    """What Temporal keeps of some lifecycles, every run, decoded for searching."""

    text: str
    """The histories' JSON and every payload decoded: what the Web UI and ``tctl`` show."""
    bytes_fields: str
    """Bytes fields inside the payloads (the submitted archive), decoded."""


async def _histories(client: Client, *handles: LifecycleHandle) -> Histories:
    texts: list[str] = []
    fields: list[str] = []
    for handle in handles:
        run_ids = {handle.run_id, handle.result_run_id} - {None}
        async for execution in client.list_workflows(f"WorkflowId = '{handle.id}'"):
            run_ids.add(execution.run_id)
        runs = [client.get_workflow_handle(handle.id, run_id=run_id) for run_id in run_ids]
        for run in [*runs, client.get_workflow_handle(handle.id)]:
            history = (await run.fetch_history()).to_json()
            payloads = _payload_texts(json.loads(history))
            texts += [history, *payloads]
            for payload in payloads:
                with contextlib.suppress(ValueError):
                    fields += _bytes_fields(json.loads(payload))
    return Histories("\n".join(texts), "\n".join(fields))


async def test_planted_secrets_never_leave_their_place(
    dev_env: WorkflowEnvironment,
    tmp_path: Path,
    pg_url_with_password: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    engine = make_engine(pg_url_with_password)
    async with SlackDouble(
        token=BOT_TOKEN,
        users=[CAROL, ALICE],
        usergroups={"S0REVIEWERS": [CAROL.id], "S0SECURITY": [], "S0PLATFORM": []},
        channels={"agent-registry-reviews": REVIEW_CHANNEL},
    ) as double:
        settings: Settings = make_settings(
            tmp_path, pg_url_with_password, policy=POLICIES / "slack_reviewers.toml"
        ).model_copy(
            update={
                "slack_bot_token": SecretStr(BOT_TOKEN),
                "slack_signing_secret": SecretStr(SIGNING_SECRET),
                "slack_api_url": double.base_url,
            }
        )
        web_client = make_web_client(settings)
        assert web_client is not None
        app = build_app(
            settings=settings,
            temporal=dev_env.client,
            policy_loader=lambda: load_policy(settings.policy),
            web_client=web_client,
        )
        runner = await start_http(app, host="127.0.0.1", port=0)
        url = f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"
        try:
            async with (
                running_worker(dev_env.client, settings, engine),
                aiohttp.ClientSession() as http,
            ):
                reviewed = await submit_path(
                    dev_env.client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
                )
                leaky = copy_example("skills/release-notes", tmp_path)
                script = leaky / "scripts" / "publish.sh"
                script.write_text(LEAKY_SCRIPT)
                script.chmod(0o755)
                blocked = await submit_path(dev_env.client, settings, leaky)

                in_review = await wait_for_stage(reviewed, Stage.IN_REVIEW)
                ref = str(in_review.ref)
                await _wait(
                    lambda: any(
                        m.buttons().get(APPROVE_ACTION, {}).get("value") == ref
                        for m in double.messages_in(REVIEW_CHANNEL)
                    ),
                    "no review request was posted",
                )
                [review] = [
                    m
                    for m in double.messages_in(REVIEW_CHANNEL)
                    if m.buttons().get(APPROVE_ACTION, {}).get("value") == ref
                ]
                click = block_actions_payload(
                    user=CAROL,
                    action_id=APPROVE_ACTION,
                    value=ref,
                    channel_id=REVIEW_CHANNEL,
                    message_ts=review.ts,
                )
                body = form_body(click)
                # A forgery first (Bolt logs refused requests), then the genuine click.
                async with http.post(
                    url, data=body.encode(), headers=sign(body, signing_secret="guess")
                ) as refused:
                    assert refused.status == 401
                async with http.post(
                    url, data=body.encode(), headers=sign(body, signing_secret=SIGNING_SECRET)
                ) as accepted:
                    assert accepted.status == 200
                published = await wait_for_stage(
                    dev_env.client.get_workflow_handle(reviewed.id, result_type=AssetStatus),
                    Stage.PUBLISHED,
                    until=lambda s: s.recertify_by is not None,
                )
                failed = await wait_for_stage(blocked, Stage.EVAL_FAILED, timeout=60)
                await _wait(lambda: bool(double.ephemerals_for(CAROL.id)), "carol was not told")

                histories = await _histories(dev_env.client, reviewed, blocked)
                statuses = published.model_dump_json() + failed.model_dump_json()
                statuses += (await query_status(blocked)).model_dump_json()
        finally:
            await runner.cleanup()
            engine.dispose()

    # The run did what it is meant to, so there was something to leak.
    assert published.votes and published.votes[0].reviewer == CAROL.email
    blocked_findings = json.dumps(failed.model_dump(mode="json"))
    assert "secrets." in blocked_findings, blocked_findings[:2000]
    assert AWS_KEY_ID[:4] in blocked_findings  # the masked prefix findings show is fine
    assert double.calls_to("usergroups.users.list") and double.calls_to("chat.update")
    assert ref in histories.text and "EvalFailed" in statuses
    # The bundles were staged before their lifecycles started: only hashes travel.
    assert "aws s3 cp notes.md" not in histories.text + histories.bytes_fields

    slack_traffic = "\n".join(
        json.dumps({"method": call.method, "params": call.params}, default=str)
        for call in double.calls
    )
    logs = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''} "
        f"{json.dumps(getattr(record, 'slack_click', None))}"
        for record in caplog.records
    )
    assert len(caplog.records) > 50  # DEBUG really was captured
    leaks = (
        _leaks("log", logs + caplog.text)
        + _leaks("workflow history", histories.text)
        + _leaks("bytes in the history", histories.bytes_fields)
        + _leaks("slack request", slack_traffic)
        + _leaks("status query", statuses)
    )
    assert leaks == [], leaks


def test_a_refused_database_connection_does_not_quote_the_password(
    pg_url_with_password: str,
) -> None:
    wrong = make_url(pg_url_with_password).set(database=f"nosuchdb_{_RANDOM}")
    engine = make_engine(wrong.render_as_string(hide_password=False))
    try:
        with pytest.raises(OperationalError) as raised, engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    error = raised.value
    told = f"{error}\n{error!r}\n{error.__cause__!r}\n{engine.url!r}\n{engine!r}"
    assert _leaks("exception", told) == [], told


def test_settings_never_show_the_database_password(
    pg_url_with_password: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, pg_url_with_password).model_copy(
        update={
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
        }
    )
    shown = f"{settings}\n{settings!r}"
    assert _leaks("settings", shown) == [], shown


def test_settings_hide_the_slack_secrets(pg_url_with_password: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, pg_url_with_password).model_copy(
        update={
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
        }
    )
    shown = f"{settings}\n{settings!r}\n{settings.model_dump()}"
    assert [leak for leak in _leaks("settings", shown) if "slack" in leak] == []


async def test_a_blocked_secret_does_not_stay_in_the_workflow_history(
    dev_env: WorkflowEnvironment, tmp_path: Path, sqlite_url: str, sqlite_engine: Engine
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    async with running_worker(dev_env.client, settings, sqlite_engine):
        leaky = copy_example("skills/release-notes", tmp_path)
        (leaky / "scripts" / "publish.sh").write_text(LEAKY_SCRIPT)
        blocked = await submit_path(dev_env.client, settings, leaky)
        status = await wait_for_stage(blocked, Stage.EVAL_FAILED, timeout=60)
        histories = await _histories(dev_env.client, blocked)

    assert status.content_hash is not None
    with Session(sqlite_engine) as session:  # the bundle reached the registry intact
        stored = store.get_blob(session, content_hash=status.content_hash)
    assert b"aws s3 cp notes.md" in stored
    assert _leaks("workflow history", histories.text + histories.bytes_fields) == []
