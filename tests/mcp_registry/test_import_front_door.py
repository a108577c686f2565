"""The import's writes go through the registry server: submissions and watches.

``agentreg import mcp --submit`` sends each version to the submission route and
``--watch`` asks ``POST /api/v1/mcp-watches`` for the Schedule, so the person importing
needs no Temporal credentials and cannot name who the submissions are from: the server
resolves the caller, and the scheduled import submits as the principal it recorded.
The OIDC cases use the real ``oidc-provider`` from ``tests/idp``.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.mcp_import import McpImportActivities
from activities.mcp_importer import McpImporter
from agent_registry.api.mcp_watches import MCP_WATCHES_PATH
from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.cli.errors import CliError
from agent_registry.cli.mcp_import import draft_all, ready_drafts, submit_prepared, watch_servers
from agent_registry.identity.http import LOCAL_AS_HEADER, OidcAuthenticator
from agent_registry.identity.login import client_credentials
from agent_registry.identity.tokens import OidcConfig, TokenVerifier
from agent_registry.lifecycle.contract import AssetStatus
from agent_registry.mcp_registry.contract import (
    McpImportInput,
    SubmitPickInput,
    UpstreamPick,
    schedule_id,
)
from agent_registry.mcp_registry.drafts import draft_folder
from agent_registry.mcp_registry.upstream import fetch_chosen
from agent_registry.registry.db import session_scope
from agent_registry.vocabulary.principal import PrincipalKind, VerifiedBy
from tests import seeding
from tests.idp.fixture import (
    AUDIENCE,
    BOT_CLIENT,
    BOT_SECRET,
    IdentityProvider,
    one_key_provider,
)
from tests.mcp_registry.support import TIME, TIME_TOOLS, server_archive, upstream
from tests.mcp_registry.test_import_lifecycle import _run_once
from tests.mcp_registry.upstream_double import Upstream, allowing, serving
from tests.registry_server import registry_server
from tests.support import STARTED, make_settings, running_worker

BOT_EMAIL = f"{BOT_CLIENT}@clients.127.0.0.1"


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    """``oidc-provider`` on loopback, signing with one fresh RSA key (kid ``k1``)."""
    with one_key_provider() as provider:
        yield provider


def _released(version: str) -> dict[str, Any]:
    server = copy.deepcopy(upstream("time"))
    server["version"] = version
    return server


def _oidc(idp: IdentityProvider) -> OidcAuthenticator:
    return OidcAuthenticator(TokenVerifier(OidcConfig(issuer=idp.issuer, audience=AUDIENCE)))


async def _schedule_exists(client: Client, sid: str) -> bool:
    try:
        await client.get_schedule_handle(sid).describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def _watch_input(client: Client, sid: str) -> McpImportInput:
    """The input the schedule starts its runs with, as the worker will read it."""
    action = (await client.get_schedule_handle(sid).describe()).schedule.action
    (decoded,) = await client.data_converter.decode(action.args, [McpImportInput])  # type: ignore[attr-defined]
    assert isinstance(decoded, McpImportInput)
    return decoded


async def test_an_unauthenticated_watch_or_import_submit_is_refused(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    idp: IdentityProvider,
) -> None:
    client = dev_env.client
    version = f"2026.10.19-r{uuid.uuid4().hex[:8]}"
    double = Upstream()
    double.add(_released(version))
    root = tmp_path / "drafts"
    with serving(double) as upstream_url:
        base = make_settings(tmp_path, sqlite_url)
        chosen = await fetch_chosen(upstream_url, search=None, names=[TIME], timeout=10)
        draft_all(base, root, chosen, team="platform", upstream=upstream_url, probe=False)
        folder = draft_folder(root, TIME, version)
        (folder / "scope.yaml").write_text(yaml.safe_dump({"tools": TIME_TOOLS}))
        prepared = ready_drafts(base, root, chosen, submitter="", team="platform")
        sid = schedule_id(upstream_url, [TIME])
        watch = {"upstream": upstream_url, "names": [TIME], "every_seconds": 3600}
        async with (
            registry_server(base, client, sqlite_engine, authenticator=_oidc(idp)) as url,
            aiohttp.ClientSession() as http,
        ):
            settings = base.model_copy(update={"api_url": url})
            # Anonymous, and a local-mode claim an OIDC server does not take.
            for headers in ({}, {LOCAL_AS_HEADER: "ada@example.com"}):
                async with http.post(url + MCP_WATCHES_PATH, json=watch, headers=headers) as reply:
                    assert reply.status == 401
                    error = (await reply.json())["error"]
                    assert "\n" not in error and "sign in first" in error

            # The CLI's --watch and --submit, run by someone holding no token.
            with pytest.raises(CliError, match=r"^refused: sign in first"):
                await asyncio.to_thread(
                    watch_servers,
                    settings,
                    upstream=upstream_url,
                    names=[TIME],
                    team="platform",
                    every=timedelta(hours=1),
                    as_user="ada@example.com",
                )
            with pytest.raises(CliError, match=r"^refused: sign in first"):
                await asyncio.to_thread(
                    submit_prepared, settings, prepared, as_user="ada@example.com"
                )

    assert not await _schedule_exists(client, sid)
    lifecycle = client.get_workflow_handle(prepared[0].ref.workflow_id)
    with pytest.raises(RPCError) as missing:
        await lifecycle.describe()
    assert missing.value.status is RPCStatusCode.NOT_FOUND


async def test_the_scheduled_submission_is_the_verified_watchers(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    idp: IdentityProvider,
) -> None:
    """A CI bot sets up the watch: the new version is its, machine-authored."""
    client = dev_env.client
    settings = make_settings(tmp_path, sqlite_url)
    suffix = uuid.uuid4().hex[:8]
    held, new = f"2026.10.19-w{suffix}.1", f"2026.10.19-w{suffix}.2"
    held_ref = AssetRef(kind=AssetKind.MCP_SERVER, name=TIME, version=held)
    with session_scope(sqlite_engine) as session:
        seeding.register(
            session,
            held_ref,
            team="platform",
            archive=server_archive(_released(held), TIME_TOOLS),
        )
    token = client_credentials(idp.issuer, BOT_CLIENT, BOT_SECRET, audience=AUDIENCE)
    double = Upstream()
    double.add(_released(held))
    with serving(double) as upstream_url:
        settings = allowing(settings, upstream_url)
        async with (
            registry_server(settings, client, sqlite_engine, authenticator=_oidc(idp)) as url,
            aiohttp.ClientSession() as http,
            running_worker(client, settings, sqlite_engine),
        ):
            body = {
                "upstream": upstream_url,
                "names": [TIME],
                "team": "platform",
                "every_seconds": 3600,
            }
            bearer = {"Authorization": f"Bearer {token.access_token}"}
            async with http.post(url + MCP_WATCHES_PATH, json=body, headers=bearer) as reply:
                assert reply.status == 200, await reply.text()
                answer = await reply.json()
            assert (answer["principal"], answer["identity"]) == (BOT_EMAIL, "verified")
            sid = answer["schedule_id"]
            try:
                recorded = await _watch_input(client, sid)
                assert recorded.principal is not None
                assert recorded.principal.email == BOT_EMAIL
                assert recorded.principal.kind is PrincipalKind.MACHINE
                assert recorded.principal.verified_by is VerifiedBy.OIDC

                double.add(_released(new))
                found = await _run_once(client, sid)
                assert [(o.version, o.status) for o in found.outcomes] == [(new, "submitted")]
                lifecycle = client.get_workflow_handle(
                    found.outcomes[0].message, result_type=AssetStatus
                )
                STARTED.append(lifecycle)
                status: AssetStatus = await lifecycle.query("status", result_type=AssetStatus)
                assert status.submitter == BOT_EMAIL
                assert status.machine_authored is True
            finally:
                await client.get_schedule_handle(sid).delete()


async def test_local_mode_watch_takes_as_and_says_it_is_unverified(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    client = dev_env.client
    base = make_settings(tmp_path, sqlite_url)
    double = Upstream()
    double.add(_released("2026.10.19"))
    with serving(double) as upstream_url:
        name = f"io.example.w{uuid.uuid4().hex[:8]}/time"  # a schedule of this test's own
        base = allowing(base, upstream_url)
        async with registry_server(base, client, sqlite_engine) as url:
            settings = base.model_copy(update={"api_url": url})
            reply = await asyncio.to_thread(
                watch_servers,
                settings,
                upstream=upstream_url,
                names=[name],
                team="platform",
                every=timedelta(days=1),
                as_user="Ada@Example.com",
            )
            try:
                assert (reply.principal, reply.identity) == ("ada@example.com", "unverified")
                recorded = await _watch_input(client, reply.schedule_id)
                assert recorded.principal is not None
                assert recorded.principal.email == "ada@example.com"
                assert recorded.principal.kind is PrincipalKind.HUMAN
                assert recorded.principal.verified_by is VerifiedBy.LOCAL_UNVERIFIED
                assert recorded.submitter == "ada@example.com"
            finally:
                await client.get_schedule_handle(reply.schedule_id).delete()


async def test_a_watch_without_a_verified_principal_submits_nothing(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    """A schedule made before watches went through the server names a claimed submitter."""
    activities = McpImportActivities(
        McpImporter(dev_env.client, make_settings(tmp_path, sqlite_url), sqlite_engine)
    )
    pick = UpstreamPick(name=TIME, version="2026.10.20", scope_from=f"mcp-server/{TIME}@1.0.0")
    claimed = SubmitPickInput(
        upstream="http://127.0.0.1:9", pick=pick, team="platform", submitter="ada@example.com"
    )
    with pytest.raises(ApplicationError, match="set it up again") as refused:
        await activities.submit_pick(claimed)
    assert refused.value.non_retryable


def test_a_watch_body_cannot_name_its_caller() -> None:
    from agent_registry.api.mcp_watches import WatchBody

    assert not {"submitter", "principal", "source", "groups"} & set(WatchBody.model_fields)
    assert WatchBody.model_config.get("extra") == "forbid"


def test_the_watch_route_is_documented_with_401_and_403() -> None:
    from agent_registry.api.mcp_watches import ENDPOINTS
    from agent_registry.api.openapi import openapi_document

    responses = openapi_document(ENDPOINTS)["paths"][MCP_WATCHES_PATH]["post"]["responses"]
    assert {"200", "400", "401", "403"} <= set(responses)
