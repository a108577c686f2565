"""The MCP Registry API (v0.1) served by ``agentreg serve``: the registry as a subregistry.

MCP clients, gateways and portals that speak the MCP Registry API discover the
organization's governed MCP servers here without custom code: ``GET /v0.1/servers``
(``limit``, ``cursor``, ``search``, ``updated_since``, ``version``,
``include_deleted``), ``GET /v0.1/servers/{serverName}/versions`` and
``GET /v0.1/servers/{serverName}/versions/{version}`` (``latest`` included). Only
catalog stages are served (published, re-certifying, deprecated; retired as
``deleted`` on request), and nothing here writes: versions change only through their
lifecycles, so the spec's optional publish and edit operations are not offered.

The routes read their own :class:`~agent_registry.catalog.mcp_servers.McpServerCatalog`
(the generic catalog source has no MCP-specific queries); ``add_routes`` opens it on
the server's database at start-up unless one was put on the application already.
Parameters follow the spec's types loosely where the spec leaves room: any integer
``limit`` is served (clamped to 1..100) and any ``cursor`` names a place, since the spec
documents no 400 for either; a value of the wrong type is a 400 naming it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from agent_registry.api.context import SETTINGS
from agent_registry.api.endpoint import (
    Content,
    Endpoint,
    Reply,
    add_endpoints,
    error_reply,
)
from agent_registry.api.errors import ApiError, bad_parameter
from agent_registry.api.params import Param, TextParam
from agent_registry.catalog.mcp_servers import McpServerCatalog, ServerQuery
from agent_registry.mcp_registry.responses import page_list, server_list, server_response
from agent_registry.mcp_registry.spec import DEFAULT_LIMIT, LATEST, MAX_LIMIT, SERVERS_PATH
from agent_registry.registry.db import make_engine

MCP_SERVERS: web.AppKey[McpServerCatalog] = web.AppKey("agent_registry.mcp_servers")
"""The served MCP servers; set by ``add_routes`` at start-up unless already there."""

_MAX_TEXT = 300
_SERVER_NOT_FOUND = "Server not found"

CURSOR = TextParam("cursor", "The metadata.nextCursor of the previous page.", max_chars=_MAX_TEXT)
SEARCH = TextParam("search", "Servers whose name contains this text.", max_chars=_MAX_TEXT)
VERSION_FILTER = TextParam(
    "version", "'latest', or an exact version like 1.2.3.", max_chars=_MAX_TEXT
)
SERVER_NAME = TextParam(
    "serverName", "The server name, URL-encoded (io.github.acme%2Ftickets).", where="path"
)
VERSION = TextParam("version", "An exact version, or 'latest'.", where="path")


class _IntParam(Param):
    def schema(self) -> dict[str, object]:
        return {"type": "integer", "default": DEFAULT_LIMIT}


class _BoolParam(Param):
    def schema(self) -> dict[str, object]:
        return {"type": "boolean", "default": False}


class _DateTimeParam(Param):
    def schema(self) -> dict[str, object]:
        return {"type": "string", "format": "date-time"}


LIMIT = _IntParam(
    "limit", f"Most entries on the page, 1 to {MAX_LIMIT}; more are served as {MAX_LIMIT}."
)
UPDATED_SINCE = _DateTimeParam(
    "updated_since", "Only entries changed at or after this RFC 3339 time; includes deleted ones."
)
INCLUDE_DELETED = _BoolParam("include_deleted", "Also list retired (deleted) versions.")


def _limit(request: web.Request) -> int:
    raw = LIMIT.raw(request)
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        number = int(raw.strip())
    except ValueError:
        raise bad_parameter("limit", f"'{raw[:40]}' is not a whole number") from None
    return min(max(number, 1), MAX_LIMIT)


def _flag(request: web.Request) -> bool:
    raw = INCLUDE_DELETED.raw(request)
    if raw is None or raw == "":
        return False
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise bad_parameter("include_deleted", f"'{raw[:40]}' is not true or false")


def _since(request: web.Request) -> datetime | None:
    raw = UPDATED_SINCE.raw(request)
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise bad_parameter(
            "updated_since", f"'{raw[:40]}' is not an RFC 3339 time like 2025-08-07T13:15:04Z"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def list_servers(request: web.Request) -> web.StreamResponse:
    """``GET /v0.1/servers``: one page of served versions, in name and version order."""
    query = ServerQuery(
        limit=_limit(request),
        cursor=CURSOR.read(request),
        search=SEARCH.read(request),
        updated_since=_since(request),
        version=VERSION_FILTER.read(request),
        include_deleted=_flag(request),
    )
    page = await asyncio.to_thread(request.app[MCP_SERVERS].page, query)
    return web.json_response(page_list(page))


async def server_versions(request: web.Request) -> web.StreamResponse:
    """``GET /v0.1/servers/{serverName}/versions``: every served version of one server."""
    name = _required(SERVER_NAME, request)
    include_deleted = _flag(request)
    versions = await asyncio.to_thread(
        request.app[MCP_SERVERS].versions, name, include_deleted=include_deleted
    )
    if not versions:
        raise ApiError(404, _SERVER_NOT_FOUND, {"serverName": name})
    return web.json_response(server_list(versions, next_cursor=None))


async def server_version(request: web.Request) -> web.StreamResponse:
    """``GET /v0.1/servers/{serverName}/versions/{version}``: one version, or ``latest``."""
    name = _required(SERVER_NAME, request)
    version = _required(VERSION, request)
    include_deleted = _flag(request)
    served = await asyncio.to_thread(
        request.app[MCP_SERVERS].version, name, version, include_deleted=include_deleted
    )
    if served is None:
        what = "Server not found" if version == LATEST else "Server version not found"
        raise ApiError(404, what, {"serverName": name, "version": version})
    return web.json_response(server_response(served))


def _required(param: TextParam, request: web.Request) -> str:
    value = param.read(request)
    if not value:
        raise bad_parameter(param.name, "must not be empty")
    return value


_LIST = Content(
    schema={
        "type": "object",
        "description": "ServerList, as the MCP Registry API v0.1 specification defines it",
    }
)
_ONE = Content(
    schema={
        "type": "object",
        "description": "ServerResponse, as the MCP Registry API v0.1 specification defines it",
    }
)
_TAGS = ("mcp-registry",)
_BAD = error_reply(400, "A parameter has the wrong type; the error names it.")

ENDPOINTS = (
    Endpoint(
        "GET",
        SERVERS_PATH,
        SERVERS_PATH,
        list_servers,
        "mcpListServers",
        "MCP Registry API: list MCP servers",
        "Published, re-certifying and deprecated MCP servers, one entry per version, as "
        "the MCP Registry API v0.1 lists them; follow metadata.nextCursor.",
        tags=_TAGS,
        params=(CURSOR, LIMIT, SEARCH, UPDATED_SINCE, VERSION_FILTER, INCLUDE_DELETED),
        replies=(Reply(200, "A page of servers.", _LIST), _BAD),
        strict_query=False,
    ),
    Endpoint(
        "GET",
        f"{SERVERS_PATH}/{{serverName}}/versions",
        f"{SERVERS_PATH}/{{serverName:.+}}/versions",
        server_versions,
        "mcpListServerVersions",
        "MCP Registry API: every version of a server",
        "Newest publication first.",
        tags=_TAGS,
        params=(SERVER_NAME, INCLUDE_DELETED),
        replies=(
            Reply(200, "The versions.", _LIST),
            _BAD,
            error_reply(404, "No served version of this server."),
        ),
        strict_query=False,
    ),
    Endpoint(
        "GET",
        f"{SERVERS_PATH}/{{serverName}}/versions/{{version}}",
        f"{SERVERS_PATH}/{{serverName:.+}}/versions/{{version:[^/]+}}",
        server_version,
        "mcpGetServerVersion",
        "MCP Registry API: one version of a server",
        "The version 'latest' is the highest served version that is not deleted.",
        tags=_TAGS,
        params=(SERVER_NAME, VERSION, INCLUDE_DELETED),
        replies=(
            Reply(200, "The version.", _ONE),
            _BAD,
            error_reply(404, "No such served server or version."),
        ),
        strict_query=False,
    ),
)


def add_routes(app: web.Application) -> None:
    """Serve the MCP Registry API on ``app``, reading the server's registry database."""
    add_endpoints(app, ENDPOINTS)
    app.cleanup_ctx.append(_open_catalog)


async def _open_catalog(app: web.Application) -> AsyncIterator[None]:
    if MCP_SERVERS in app:
        yield
        return
    engine = make_engine(app[SETTINGS].resolved_database_url)
    app[MCP_SERVERS] = McpServerCatalog(engine)
    try:
        yield
    finally:
        engine.dispose()
