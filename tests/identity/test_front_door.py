"""The registry server as the one front door: writes name their caller by the principal
the server resolved, across every channel and spelling, and refusals are audit-logged.

Runs the application ``agentreg serve`` builds, with a real worker on the dev server;
the OIDC cases use the real ``oidc-provider`` from ``tests/idp``.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from agent_registry.api.write_schemas import REVISIONS_PATH, SUBMISSIONS_PATH, VOTES_PATH
from agent_registry.cli.submit import prepare_submission
from agent_registry.identity.http import IDENTITY_HEADER, LOCAL_AS_HEADER, OidcAuthenticator
from agent_registry.identity.login import client_credentials
from agent_registry.identity.tokens import OidcConfig, TokenVerifier
from agent_registry.lifecycle.contract import APPROVE_UPDATE, AssetStatus, ReviewInput, VoteResult
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry.audit_chain import verify_database
from agent_registry.registry.store.refusals import REFUSAL_KIND
from agent_registry.registry.tables import AuditEvent
from agent_registry.slack.identity import Reviewer
from agent_registry.vocabulary.principal import canonical_email
from tests.idp.fixture import AUDIENCE, BOT_CLIENT, BOT_SECRET, IdentityProvider
from tests.registry_server import registry_server
from tests.support import copy_example, make_settings, running_worker

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _submit_body(tmp_path: Path, settings: Any, *, authors: list[str]) -> dict[str, Any]:
    """A submission body as ``agentreg submit`` sends it, with a version of its own."""
    path = copy_example("subagents/code-reviewer.md", tmp_path)
    version = f"1.0.0-t{tmp_path.name[-8:].replace('_', '')}"
    submission = prepare_submission(settings, path, submitter="", version=version)
    metadata = submission.metadata.model_copy(
        update={"authors": authors, "machine_authored": False}
    )
    return {
        "ref": str(submission.ref),
        "metadata": metadata.model_dump(mode="json"),
        "archive": base64.b64encode(submission.archive).decode(),
    }


async def _post(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any], str | None]:
    async with session.post(url, json=body, headers=headers) as reply:
        return reply.status, await reply.json(), reply.headers.get(IDENTITY_HEADER)


async def _in_review(env: WorkflowEnvironment, ref: str) -> Any:
    workflow_id = "asset/" + ref.replace("@", "/")
    handle = env.client.get_workflow_handle(workflow_id, result_type=AssetStatus)
    for _ in range(300):
        status: AssetStatus = await handle.query("status", result_type=AssetStatus)
        if status.stage is Stage.IN_REVIEW:
            return handle
        await asyncio.sleep(0.1)
    raise AssertionError(f"{ref} never reached InReview")


def _refusals(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.kind == REFUSAL_KIND)))


async def test_self_approval_is_refused_across_cli_slack_and_metadata_spellings(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    async with (
        running_worker(dev_env.client, settings, sqlite_engine),
        registry_server(settings, dev_env.client, sqlite_engine) as url,
        aiohttp.ClientSession() as http,
    ):
        # Submitted from the CLI as Alice@Example.com: the Slack user alice@example.com
        # clicks Approve. The Slack app sends the principal it resolved.
        body = _submit_body(tmp_path / "a", settings, authors=[])
        status, reply, marker = await _post(
            http, url + SUBMISSIONS_PATH, body, {LOCAL_AS_HEADER: "Alice@Example.com"}
        )
        assert status == 201, reply
        assert (reply["principal"], reply["identity"], marker) == (
            "alice@example.com",
            "unverified",
            "unverified",
        )
        handle = await _in_review(dev_env, body["ref"])
        slack_alice = Reviewer(identity=canonical_email("alice@example.com")).principal
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await handle.execute_update(
                APPROVE_UPDATE, ReviewInput(principal=slack_alice), result_type=VoteResult
            )
        assert "cannot review it" in str(caught.value.cause)

        # The other way round: submitted as alice@example.com, approved from the CLI
        # as ALICE@EXAMPLE.COM, refused with a one-line 403 and an audit entry.
        body = _submit_body(tmp_path / "b", settings, authors=[])
        status, reply, _ = await _post(
            http, url + SUBMISSIONS_PATH, body, {LOCAL_AS_HEADER: "alice@example.com"}
        )
        assert status == 201, reply
        await _in_review(dev_env, body["ref"])
        vote = {"ref": body["ref"], "decision": "approve"}
        status, reply, _ = await _post(
            http, url + VOTES_PATH, vote, {LOCAL_AS_HEADER: "ALICE@EXAMPLE.COM"}
        )
        assert status == 403
        assert "alice@example.com submitted or wrote" in reply["error"]
        assert "\n" not in reply["error"]

        # An author named in metadata, in another spelling, is refused alike.
        body = _submit_body(tmp_path / "c", settings, authors=["Alice@Example.com"])
        status, reply, _ = await _post(
            http, url + SUBMISSIONS_PATH, body, {LOCAL_AS_HEADER: "bob@example.com"}
        )
        assert status == 201, reply
        handle = await _in_review(dev_env, body["ref"])
        status_now: AssetStatus = await handle.query("status", result_type=AssetStatus)
        assert status_now.authors == ["alice@example.com"]
        with pytest.raises(WorkflowUpdateFailedError) as by_author:
            await handle.execute_update(
                APPROVE_UPDATE, ReviewInput(principal=slack_alice), result_type=VoteResult
            )
        assert "cannot review it" in str(by_author.value.cause)
        vote = {"ref": body["ref"], "decision": "approve"}
        status, reply, _ = await _post(http, url + VOTES_PATH, vote, {LOCAL_AS_HEADER: "carol"})
        assert status == 200, reply
        assert reply["principal"] == "carol@localhost"

    refused = _refusals(sqlite_engine)
    assert [(r.actor, r.name, r.detail["status"]) for r in refused] == [
        ("alice@example.com", "POST " + VOTES_PATH, 403)
    ]


async def test_an_approval_sent_straight_to_temporal_cannot_claim_slack_or_a_group(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    async with (
        running_worker(dev_env.client, settings, sqlite_engine),
        registry_server(settings, dev_env.client, sqlite_engine) as url,
        aiohttp.ClientSession() as http,
    ):
        body = _submit_body(tmp_path, settings, authors=[])
        status, reply, _ = await _post(
            http, url + SUBMISSIONS_PATH, body, {LOCAL_AS_HEADER: "alice@example.com"}
        )
        assert status == 201, reply
        handle = await _in_review(dev_env, body["ref"])
        forged = {"reviewer": "bob@example.com", "source": "slack", "verified_groups": ["S0SEC"]}
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await handle.execute_update(APPROVE_UPDATE, forged, result_type=VoteResult)
        assert "not accepted" in str(caught.value.cause)
        final: AssetStatus = await handle.query("status", result_type=AssetStatus)
        assert final.votes == []


async def test_a_machine_principal_makes_a_machine_authored_submission(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    idp: IdentityProvider,
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    verifier = TokenVerifier(OidcConfig(issuer=idp.issuer, audience=AUDIENCE))
    token = client_credentials(idp.issuer, BOT_CLIENT, BOT_SECRET, audience=AUDIENCE)
    async with (
        running_worker(dev_env.client, settings, sqlite_engine),
        registry_server(
            settings, dev_env.client, sqlite_engine, authenticator=OidcAuthenticator(verifier)
        ) as url,
        aiohttp.ClientSession() as http,
    ):
        body = _submit_body(tmp_path, settings, authors=[])
        assert body["metadata"]["machine_authored"] is False  # what the body declares
        bearer = {"Authorization": f"Bearer {token.access_token}"}
        status, reply, marker = await _post(http, url + SUBMISSIONS_PATH, body, bearer)
        assert status == 201, reply
        assert (reply["principal"], reply["identity"], marker) == (
            f"{BOT_CLIENT}@clients.127.0.0.1",
            "verified",
            None,
        )
        handle = await _in_review(dev_env, body["ref"])
        recorded: AssetStatus = await handle.query("status", result_type=AssetStatus)
        assert recorded.machine_authored is True
        assert recorded.submitter == f"{BOT_CLIENT}@clients.127.0.0.1"

        # Local mode's header means nothing to an OIDC server.
        status, reply, _ = await _post(
            http,
            url + VOTES_PATH,
            {"ref": body["ref"], "decision": "approve"},
            {LOCAL_AS_HEADER: "bob@example.com"},
        )
        assert status == 401
        forged = token.access_token[:-4] + ("AAAA" if token.access_token[-4:] != "AAAA" else "BBBB")
        status, reply, _ = await _post(
            http,
            url + VOTES_PATH,
            {"ref": body["ref"], "decision": "approve"},
            {"Authorization": f"Bearer {forged}"},
        )
        assert (status, reply["error"]) == (401, "token signature does not verify")

    refused = _refusals(sqlite_engine)
    assert [(r.actor, r.detail["status"]) for r in refused] == [
        ("anonymous", 401),
        (f"{BOT_CLIENT} (unverified)", 401),  # the subject it claimed, marked as a claim
    ]
    with Session(sqlite_engine) as session:
        assert verify_database(session).broken is None  # refusals are links of the chain


async def test_only_the_submitter_or_an_author_revises_through_the_server(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    async with (
        running_worker(dev_env.client, settings, sqlite_engine),
        registry_server(settings, dev_env.client, sqlite_engine) as url,
        aiohttp.ClientSession() as http,
    ):
        body = _submit_body(tmp_path, settings, authors=["Dana@Example.com"])
        status, reply, _ = await _post(
            http, url + SUBMISSIONS_PATH, body, {LOCAL_AS_HEADER: "alice@example.com"}
        )
        assert status == 201, reply
        handle = await _in_review(dev_env, body["ref"])
        back = {"ref": body["ref"], "decision": "request_changes", "reason": "add an example"}
        status, reply, _ = await _post(http, url + VOTES_PATH, back, {LOCAL_AS_HEADER: "bob"})
        assert status == 200, reply
        for _ in range(100):
            now: AssetStatus = await handle.query("status", result_type=AssetStatus)
            if now.stage is Stage.CHANGES_REQUESTED:
                break
            await asyncio.sleep(0.1)
        revision = {"ref": body["ref"], "archive": body["archive"], "changelog": "example added"}
        status, reply, _ = await _post(
            http, url + REVISIONS_PATH, revision, {LOCAL_AS_HEADER: "mallory@example.com"}
        )
        assert status == 403
        assert reply["error"].startswith("mallory@example.com is neither the submitter nor")
        status, reply, _ = await _post(
            http, url + REVISIONS_PATH, revision, {LOCAL_AS_HEADER: "DANA@example.com"}
        )
        assert status == 200, reply
        assert reply["principal"] == "dana@example.com"
        assert "revision received" in reply["message"]
