"""The console script with a real identity provider: ``agentreg login`` by device flow,
writes as the logged-in person, a CI bot by client credentials, and a server that
refuses to run local mode beyond loopback."""

from __future__ import annotations

import asyncio
import os
import re
import stat
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from agent_registry.identity.http import OidcAuthenticator
from agent_registry.identity.login import TokenCache, TokenSet
from agent_registry.identity.tokens import OidcConfig, TokenVerifier
from agent_registry.lifecycle.contract import APPROVE_UPDATE, ReviewInput, VoteResult
from agent_registry.lifecycle.stages import Stage
from agent_registry.slack.identity import Reviewer
from tests.idp.fixture import (
    AUDIENCE,
    BOT_CLIENT,
    BOT_SECRET,
    CLI_CLIENT,
    IdentityProvider,
    approve_device_login,
)
from tests.registry_server import registry_server
from tests.support import copy_example, make_settings, running_worker
from tests.test_cli import AGENTREG, Run, _env, agentreg, agentreg_async


async def _login(env: dict[str, str], login: str) -> Run:
    """Run ``agentreg login`` and approve its code in the provider as ``login``."""
    process = await asyncio.create_subprocess_exec(
        AGENTREG,
        "login",
        env=_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    lines: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        lines.append(line)
        found = re.search(r"\(or open (\S+)\)", line)
        if found:
            await asyncio.to_thread(approve_device_login, found.group(1), login)
            break
        assert line, "".join(lines)
    rest, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Run(process.returncode, "".join(lines) + rest.decode(), stderr.decode())


@pytest.mark.asyncio(loop_scope="session")
async def test_login_then_submit_and_review_as_the_verified_people(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    idp: IdentityProvider,
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    verifier = TokenVerifier(OidcConfig(issuer=idp.issuer, audience=AUDIENCE))
    skill = copy_example("skills/release-notes", tmp_path)
    # Tests share one dev server, where a version is submitted once: versions of our own.
    version = f"1.0.0-l{uuid.uuid4().hex[:8]}"
    ref = f"skill/release-notes@{version}"
    async with (
        running_worker(dev_env.client, settings, sqlite_engine),
        registry_server(
            settings, dev_env.client, sqlite_engine, authenticator=OidcAuthenticator(verifier)
        ) as url,
    ):
        oidc = {
            "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
            "AGENT_REGISTRY_DATABASE_URL": sqlite_url,
            "AGENT_REGISTRY_API_URL": url,
            "AGENT_REGISTRY_IDENTITY_MODE": "oidc",
            "AGENT_REGISTRY_OIDC_ISSUER": idp.issuer,
            "AGENT_REGISTRY_OIDC_AUDIENCE": AUDIENCE,
            "AGENT_REGISTRY_OIDC_CLIENT_ID": CLI_CLIENT,
        }
        alice = {**oidc, "XDG_CONFIG_HOME": str(tmp_path / "alice")}
        bob = {**oidc, "XDG_CONFIG_HOME": str(tmp_path / "bob")}

        before = await agentreg_async("submit", str(skill), "--version", version, **alice)
        assert before.code == 1 and "not logged in: run agentreg login" in before.stderr

        logged_in = await _login(alice, "alice")
        assert logged_in.code == 0, logged_in.stdout + logged_in.stderr
        assert "logged in as alice@example.com" in logged_in.stdout
        saved = tmp_path / "alice" / "agent-registry" / "tokens.json"
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        assert (await _login(bob, "bob")).code == 0

        posing = await agentreg_async(
            "submit", str(skill), "--version", version, "--as", "bob@example.com", **alice
        )
        assert posing.code == 1 and "--as is for the local mode only" in posing.stderr

        submitted = await agentreg_async("submit", str(skill), "--version", version, **alice)
        assert submitted.code == 0, submitted.stdout + submitted.stderr
        assert "as alice@example.com" in submitted.stdout
        assert "unverified" not in submitted.stdout
        assert Stage.IN_REVIEW.value in submitted.stdout

        # The login name never names anyone: the submitter is the verified email, which
        # is the one Slack knows her by, so her click in Slack is her own asset too.
        handle = dev_env.client.get_workflow_handle(f"asset/skill/release-notes/{version}")
        in_slack = Reviewer(identity="alice@example.com").principal
        with pytest.raises(WorkflowUpdateFailedError) as clicked:
            await handle.execute_update(
                APPROVE_UPDATE, ReviewInput(principal=in_slack), result_type=VoteResult
            )
        assert "cannot review it" in str(clicked.value.cause)

        own = await agentreg_async("review", "approve", ref, **alice)
        assert own.code == 1
        assert own.stderr.strip() == (
            f"error: refused: alice@example.com submitted or wrote {ref} and cannot review it"
        )
        approved = await agentreg_async("review", "approve", ref, **bob)
        assert approved.code == 0, approved.stderr
        assert "as bob@example.com" in approved.stdout

        bot = {**oidc, "AGENT_REGISTRY_OIDC_CLIENT_ID": BOT_CLIENT}
        bot["AGENT_REGISTRY_OIDC_CLIENT_SECRET"] = BOT_SECRET
        other = copy_example("subagents/code-reviewer.md", tmp_path)
        by_bot = await agentreg_async(
            "submit", str(other), "--version", version, "--no-wait", **bot
        )
        assert by_bot.code == 0, by_bot.stdout + by_bot.stderr
        assert f"as {BOT_CLIENT}@clients.127.0.0.1" in by_bot.stdout

        logged_out = agentreg("logout", **alice)
        assert logged_out.code == 0 and not saved.exists()


def test_local_mode_refuses_to_serve_beyond_loopback() -> None:
    run = agentreg("serve", "--host", "0.0.0.0", "--port", "1")  # noqa: S104 - refused
    assert run.code == 1
    assert run.stderr.startswith("error: local identity mode takes --as on trust")
    assert "Traceback" not in run.stderr
    oidc = agentreg("serve", "--port", "1", AGENT_REGISTRY_IDENTITY_MODE="oidc")
    assert oidc.code == 1 and "needs AGENT_REGISTRY_OIDC_ISSUER" in oidc.stderr


def test_the_token_cache_is_private_even_under_a_permissive_umask(tmp_path: Path) -> None:

    previous = os.umask(0)
    try:
        cache = TokenCache(tmp_path / "cfg" / "tokens.json")
        cache.save(TokenSet(access_token="a", expires_at=1.0, issuer="i", client_id="c"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
