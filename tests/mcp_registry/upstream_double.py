"""A loopback registry that speaks the MCP Registry API, serving the server.json fixtures.

What the import reads in the tests: real ``server.json`` documents of well-known public
servers, paged with cursors exactly as the spec defines, and faults on request (a slow
answer, a page that is not JSON, a page that is not a server list).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from agent_registry.config import Settings
from tests.api.live import live_server


@dataclass
class Upstream:
    """What the double serves; tests change it between requests.

    Attributes:
        servers: Every version served, as ``server.json`` documents.
        page_size: Most entries per page, so that listings take several pages.
        fault: ``slow``, ``not-json``, ``not-a-list`` or ``wrong-server`` (every answer is
            about the second server) to misbehave, else None.
        delay: Seconds a ``slow`` answer takes.
        requests: Paths asked for, in order.
    """

    servers: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    fault: str | None = None
    delay: float = 5.0
    requests: list[str] = field(default_factory=list)

    def add(self, server: dict[str, Any]) -> None:
        self.servers.append(server)

    def _latest(self) -> dict[str, dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for server in self.servers:
            latest[server["name"]] = server  # later entries are newer
        return latest

    def _entry(self, server: dict[str, Any]) -> dict[str, Any]:
        is_latest = self._latest()[server["name"]] is server
        return {
            "server": server,
            "_meta": {
                "io.modelcontextprotocol.registry/official": {
                    "status": "active",
                    "publishedAt": "2026-10-19T12:00:00Z",
                    "isLatest": is_latest,
                }
            },
        }


def build_app(upstream: Upstream) -> web.Application:
    """The double's application."""

    async def misbehave(request: web.Request) -> web.Response | None:
        upstream.requests.append(request.path_qs)
        if upstream.fault == "slow":
            await asyncio.sleep(upstream.delay)
        if upstream.fault == "not-json":
            return web.Response(text="<html>maintenance</html>", content_type="text/html")
        if upstream.fault == "not-a-list":
            return web.json_response({"items": []})
        if upstream.fault == "wrong-server":
            return web.json_response(upstream._entry(upstream.servers[1]))
        return None

    async def servers(request: web.Request) -> web.Response:
        if (fault := await misbehave(request)) is not None:
            return fault
        chosen = list(upstream.servers)
        if request.query.get("version") == "latest":
            chosen = list(upstream._latest().values())
        if search := request.query.get("search"):
            chosen = [s for s in chosen if search.lower() in s["name"].lower()]
        chosen.sort(key=lambda s: (s["name"], s["version"]))
        cursor = request.query.get("cursor")
        if cursor:
            chosen = [s for s in chosen if f"{s['name']}:{s['version']}" > cursor]
        limit = min(int(request.query.get("limit", "30")), upstream.page_size)
        page = chosen[:limit]
        metadata: dict[str, Any] = {"count": len(page)}
        if len(chosen) > limit:
            metadata["nextCursor"] = f"{page[-1]['name']}:{page[-1]['version']}"
        return web.json_response(
            {"servers": [upstream._entry(s) for s in page], "metadata": metadata}
        )

    async def versions(request: web.Request) -> web.Response:
        if (fault := await misbehave(request)) is not None:
            return fault
        name = request.match_info["name"]
        found = [s for s in upstream.servers if s["name"] == name]
        if not found:
            return web.json_response({"error": "Server not found"}, status=404)
        return web.json_response(
            {"servers": [upstream._entry(s) for s in found], "metadata": {"count": len(found)}}
        )

    async def version(request: web.Request) -> web.Response:
        if (fault := await misbehave(request)) is not None:
            return fault
        name, wanted = request.match_info["name"], request.match_info["version"]
        found = [s for s in upstream.servers if s["name"] == name]
        if wanted == "latest" and found:
            return web.json_response(upstream._entry(upstream._latest()[name]))
        for server in found:
            if server["version"] == wanted:
                return web.json_response(upstream._entry(server))
        return web.json_response({"error": "Server not found"}, status=404)

    app = web.Application()
    app.router.add_get("/v0.1/servers", servers)
    app.router.add_get("/v0.1/servers/{name:.+}/versions", versions)
    app.router.add_get("/v0.1/servers/{name:.+}/versions/{version:[^/]+}", version)
    return app


@contextmanager
def serving(upstream: Upstream) -> Iterator[str]:
    """Serve ``upstream`` on 127.0.0.1 and a free port; yields the base URL."""
    with live_server(build_app(upstream)) as url:
        yield url


def allowing(settings: Settings, *upstreams: str) -> Settings:
    """``settings`` with ``upstreams`` as the allowed MCP registries.

    As a platform team lists a loopback mirror: by default only the official registry
    may be read, and the doubles serve on loopback ports.
    """
    return settings.model_copy(update={"mcp_upstreams": list(upstreams)})
