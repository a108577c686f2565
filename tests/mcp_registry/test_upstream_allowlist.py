"""The scheduled import reads only the upstream registries the platform team named.

The worker fetches from inside the organization's network, so a watch on any URL would
be a server-side request forgery: cloud metadata (169.254.169.254), an internal port on
loopback, plain http, or a redirect from an allowed registry to any of those. Each is
refused at the watch route (403, one line naming the allowed upstreams) and again by
the activities before any request, and a canary server counts that nothing reached it.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
import yarl
from aiohttp import web
from sqlalchemy import Engine
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.mcp_import import McpImportActivities
from activities.mcp_importer import McpImporter
from agent_registry.api.mcp_watches import MCP_WATCHES_PATH, watch_schedule
from agent_registry.cli.errors import CliError
from agent_registry.cli.mcp_import import watch_servers
from agent_registry.config import Settings
from agent_registry.identity.http import LOCAL_AS_HEADER
from agent_registry.mcp_registry.allowed_upstreams import (
    OFFICIAL_UPSTREAM,
    UpstreamNotAllowedError,
    check_upstream,
)
from agent_registry.mcp_registry.contract import (
    McpImportInput,
    SubmitPickInput,
    UpstreamPick,
    schedule_id,
)
from agent_registry.mcp_registry.upstream import UpstreamError, UpstreamRegistry
from agent_registry.policy.loader import DEFAULT_POLICY_RESOURCE
from tests.api.live import live_server
from tests.mcp_registry.support import TIME, upstream
from tests.mcp_registry.test_import_front_door import _schedule_exists
from tests.mcp_registry.test_import_lifecycle import _run_once
from tests.mcp_registry.upstream_double import Upstream, allowing, serving
from tests.registry_server import registry_server
from tests.support import make_settings, principal, running_worker

METADATA = "http://169.254.169.254/latest/meta-data"


@dataclass
class Canary:
    """A loopback server no request may reach: it counts every one that does."""

    hits: list[str] = field(default_factory=list)


@pytest.fixture
def canary() -> Iterator[tuple[Canary, str]]:
    seen = Canary()

    async def anything(request: web.Request) -> web.Response:
        seen.hits.append(str(request.rel_url))
        return web.json_response({"servers": [], "metadata": {}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    with live_server(app) as url:
        yield seen, url


def _redirecting_to(target: str) -> web.Application:
    """An upstream that sends every request to ``target`` with a 302."""

    async def away(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{target}{request.rel_url}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", away)
    return app


def _refused_upstreams(canary_url: str) -> list[str]:
    """Every kind of upstream a watch must not name while only the double is allowed."""
    return [
        METADATA,
        canary_url,  # a loopback port the platform team did not list
        "http://registry.example.org",  # plain http
        OFFICIAL_UPSTREAM,  # allowed by default, not by these settings
        f"{OFFICIAL_UPSTREAM}@169.254.169.254",  # the allowed name as user info
    ]


def _policy_with_platform(tmp_path: Path, members: list[str]) -> Path:
    text = (
        importlib.resources.files("agent_registry")
        .joinpath(DEFAULT_POLICY_RESOURCE)
        .read_text(encoding="utf-8")
    )
    assert 'platform = ["*"]' in text
    path = tmp_path / "policy.toml"
    path.write_text(text.replace('platform = ["*"]', f"platform = {members!r}".replace("'", '"')))
    return path


# The check itself.


def test_only_listed_upstreams_pass_in_one_form() -> None:
    allowed = [OFFICIAL_UPSTREAM, "http://127.0.0.1:8765/"]
    assert check_upstream("HTTPS://Registry.ModelContextProtocol.io:443/", allowed) == (
        OFFICIAL_UPSTREAM
    )
    assert check_upstream("http://127.0.0.1:8765", allowed) == "http://127.0.0.1:8765"
    for url in (
        METADATA,
        "http://127.0.0.1:8766",
        "http://registry.modelcontextprotocol.io",
        "https://registry.modelcontextprotocol.io.evil.example",
        "https://x@registry.modelcontextprotocol.io",
        "https://registry.modelcontextprotocol.io/?next=http://169.254.169.254",
        "file:///etc/passwd",
        "gopher://127.0.0.1:8765",
    ):
        with pytest.raises(UpstreamNotAllowedError, match="allowed upstreams:") as refused:
            check_upstream(url, allowed)
        assert "\n" not in str(refused.value)


def test_the_setting_takes_https_or_listed_loopback_only(tmp_path: Path) -> None:
    def settings(upstreams: list[str]) -> Settings:
        return Settings(_env_file=None, data_dir=tmp_path, mcp_upstreams=upstreams)

    assert settings([]).mcp_upstreams == []
    assert Settings(_env_file=None).mcp_upstreams == [OFFICIAL_UPSTREAM]
    assert settings(["http://[::1]:9000/", "http://localhost:9"]).mcp_upstreams == [
        "http://[::1]:9000",
        "http://localhost:9",
    ]
    for bad in ("http://169.254.169.254", "http://registry.internal", "ftp://x.example"):
        with pytest.raises(ValueError, match="mcp_upstreams"):
            settings([bad])


# At the route.


async def test_the_route_refuses_a_watch_on_an_upstream_not_listed(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    canary: tuple[Canary, str],
) -> None:
    client = dev_env.client
    seen, canary_url = canary
    name = f"io.example.s{uuid.uuid4().hex[:8]}/time"
    with serving(Upstream()) as upstream_url:
        settings = allowing(make_settings(tmp_path, sqlite_url), upstream_url)
        async with (
            registry_server(settings, client, sqlite_engine) as url,
            aiohttp.ClientSession() as http,
        ):
            for target in _refused_upstreams(canary_url):
                body = {"upstream": target, "names": [name], "every_seconds": 3600}
                headers = {LOCAL_AS_HEADER: "ada@example.com"}
                async with http.post(url + MCP_WATCHES_PATH, json=body, headers=headers) as reply:
                    assert reply.status == 403, (target, await reply.text())
                    error = (await reply.json())["error"]
                assert "\n" not in error
                assert f"allowed upstreams: {upstream_url}" in error, error
                assert not await _schedule_exists(client, schedule_id(target, [name]))

            # What the person running agentreg import mcp --watch reads.
            with pytest.raises(CliError, match=r"^refused: upstream '.*' is not an allowed"):
                await asyncio.to_thread(
                    watch_servers,
                    settings.model_copy(update={"api_url": url}),
                    upstream=METADATA,
                    names=[name],
                    team="platform",
                    every=timedelta(hours=1),
                    as_user="ada@example.com",
                )
    assert seen.hits == []


async def test_the_route_refuses_a_watcher_outside_the_platform_group(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    client = dev_env.client
    policy = _policy_with_platform(tmp_path, ["ops@example.com"])
    name = f"io.example.g{uuid.uuid4().hex[:8]}/time"
    with serving(Upstream()) as upstream_url:
        settings = allowing(make_settings(tmp_path, sqlite_url, policy=policy), upstream_url)
        body = {"upstream": upstream_url, "names": [name], "every_seconds": 3600}
        async with (
            registry_server(settings, client, sqlite_engine) as url,
            aiohttp.ClientSession() as http,
        ):
            headers = {LOCAL_AS_HEADER: "ada@example.com"}
            async with http.post(url + MCP_WATCHES_PATH, json=body, headers=headers) as reply:
                assert reply.status == 403
                error = (await reply.json())["error"]
            assert "\n" not in error and "'platform' group" in error
            assert not await _schedule_exists(client, schedule_id(upstream_url, [name]))

            headers = {LOCAL_AS_HEADER: "Ops@Example.com"}
            async with http.post(url + MCP_WATCHES_PATH, json=body, headers=headers) as reply:
                assert reply.status == 200, await reply.text()
                sid = (await reply.json())["schedule_id"]
            await client.get_schedule_handle(sid).delete()


# At the activities.


def _pick_input(upstream_url: str) -> SubmitPickInput:
    return SubmitPickInput(
        upstream=upstream_url,
        pick=UpstreamPick(name=TIME, version="2026.10.20", scope_from=f"mcp-server/{TIME}@1.0.0"),
        team="platform",
        submitter="ada@example.com",
        principal=principal("ada@example.com"),
    )


async def test_the_activities_refuse_an_upstream_not_listed_before_any_request(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    canary: tuple[Canary, str],
) -> None:
    """A schedule set up before the list, or edited in Temporal, reaches no one."""
    seen, canary_url = canary
    with serving(Upstream()) as upstream_url:
        settings = allowing(make_settings(tmp_path, sqlite_url), upstream_url)
        activities = McpImportActivities(McpImporter(dev_env.client, settings, sqlite_engine))
        for target in _refused_upstreams(canary_url):
            plan = McpImportInput(
                upstream=target, names=[TIME], submitter="a@x.io", principal=principal("a@x.io")
            )
            with pytest.raises(ApplicationError, match="allowed upstreams:") as refused:
                await activities.plan_import(plan)
            assert refused.value.non_retryable and refused.value.type == "UpstreamNotAllowed"
            with pytest.raises(ApplicationError, match="allowed upstreams:") as refused:
                await activities.submit_pick(_pick_input(target))
            assert refused.value.non_retryable and refused.value.type == "UpstreamNotAllowed"
    assert seen.hits == []


async def test_a_redirect_off_the_allowed_origin_is_not_followed(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    canary: tuple[Canary, str],
) -> None:
    seen, canary_url = canary
    with live_server(_redirecting_to(canary_url)) as allowed_url:
        settings = allowing(make_settings(tmp_path, sqlite_url), allowed_url)
        activities = McpImportActivities(McpImporter(dev_env.client, settings, sqlite_engine))
        with pytest.raises(ApplicationError, match="not followed") as refused:
            await activities.submit_pick(_pick_input(allowed_url))
        assert refused.value.type == "UpstreamError"
        assert "\n" not in str(refused.value)
        async with UpstreamRegistry(allowed_url) as registry:
            with pytest.raises(UpstreamError, match="off the origin"):
                await registry.versions(TIME)
    with live_server(_redirecting_to(METADATA)) as allowed_url:
        async with UpstreamRegistry(allowed_url) as registry:
            with pytest.raises(UpstreamError, match=r"169\.254\.169\.254.*not followed"):
                await registry.version(TIME)
    assert seen.hits == []


async def test_a_redirect_on_the_same_origin_is_still_followed() -> None:
    double = Upstream()
    double.add(upstream("time"))
    with serving(double) as inner:

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPMovedPermanently(request.raw_path.removeprefix("/old"))

        async def proxied(request: web.Request) -> web.Response:
            async with (
                aiohttp.ClientSession() as http,
                http.get(yarl.URL(f"{inner}{request.raw_path}", encoded=True)) as reply,
            ):
                return web.Response(body=await reply.read(), status=reply.status)

        app = web.Application()
        app.router.add_get("/old/{tail:.*}", moved)
        app.router.add_get("/{tail:.*}", proxied)
        with live_server(app) as front:
            async with UpstreamRegistry(front) as registry:
                registry.base_url = f"{front}/old"  # the registry's pages moved on its origin
                (entry,) = await registry.versions(TIME)
    assert entry.name == TIME


async def test_a_schedule_edited_to_another_upstream_reads_nothing(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    canary: tuple[Canary, str],
) -> None:
    """The route is bypassed (the schedule written to Temporal directly): the run refuses."""
    client = dev_env.client
    seen, canary_url = canary
    settings = make_settings(tmp_path, sqlite_url)  # the official registry only
    name = f"io.example.e{uuid.uuid4().hex[:8]}/time"
    request = McpImportInput(
        upstream=canary_url,
        names=[name],
        team="platform",
        submitter="a@x.io",
        principal=principal("a@x.io"),
    )
    sid = await watch_schedule(client, settings, request, every=timedelta(hours=1))
    try:
        async with running_worker(client, settings, sqlite_engine, probe=False):
            result = await _run_once(client, sid)
    finally:
        await client.get_schedule_handle(sid).delete()
    assert result.outcomes == []
    assert any("not an allowed MCP registry" in note for note in result.notes), result.notes
    assert seen.hits == []
