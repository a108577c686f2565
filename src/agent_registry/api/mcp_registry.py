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
import re
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
from agent_registry.api.params import Param
from agent_registry.catalog.mcp_servers import McpServerCatalog
from agent_registry.mcp_registry.responses import page_list, server_list, server_response
from agent_registry.mcp_registry.served import ServerPage, ServerQuery
from agent_registry.mcp_registry.spec import DEFAULT_LIMIT, LATEST, MAX_LIMIT, SERVERS_PATH
from agent_registry.registry.db import make_engine

MCP_SERVERS: web.AppKey[McpServerCatalog] = web.AppKey("agent_registry.mcp_servers")
"""The served MCP servers; set by ``add_routes`` at start-up unless already there."""

_SERVER_NOT_FOUND = "Server not found"
_NAME = re.compile(r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$")
_RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
"""An RFC 3339 date-time, offset included, which is what the spec's date-time means."""
"""The spec's server name pattern: a name outside it is not asked of the database."""


class _TextParam(Param):
    """Free text the spec leaves unbounded: any string is a valid value."""


class _IntParam(Param):
    def schema(self) -> dict[str, object]:
        return {"type": "integer", "default": DEFAULT_LIMIT}


class _BoolParam(Param):
    def schema(self) -> dict[str, object]:
        return {"type": "boolean", "default": False}


class _DateTimeParam(Param):
    def schema(self) -> dict[str, object]:
        return {"type": "string", "format": "date-time"}


CURSOR = _TextParam("cursor", "The metadata.nextCursor of the previous page.")
SEARCH = _TextParam("search", "Servers whose name contains this text.")
VERSION_FILTER = _TextParam("version", "'latest', or an exact version like 1.2.3.")
SERVER_NAME = _TextParam(
    "serverName", "The server name, URL-encoded (io.github.acme%2Ftickets).", where="path"
)
VERSION = _TextParam("version", "An exact version, or 'latest'.", where="path")
LIMIT = _IntParam(
    "limit", f"Most entries on the page, 1 to {MAX_LIMIT}; more are served as {MAX_LIMIT}."
)
UPDATED_SINCE = _DateTimeParam(
    "updated_since", "Only entries changed at or after this RFC 3339 time; includes deleted ones."
)
INCLUDE_DELETED = _BoolParam("include_deleted", "Also list retired (deleted) versions.")


def _query(request: web.Request, param: Param) -> str | None:
    """A query value as sent, the last one when repeated; None when absent."""
    values = request.query.getall(param.name, [])
    return values[-1] if values else None


def _storable(text: str) -> bool:
    """Whether the database can be asked about ``text`` (no NUL, valid UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _limit(request: web.Request) -> int:
    raw = _query(request, LIMIT)
    if raw is None:
        return DEFAULT_LIMIT
    try:
        number = int(raw)
    except ValueError:
        raise bad_parameter("limit", f"'{_shown(raw)}' is not a whole number") from None
    return min(max(number, 1), MAX_LIMIT)


def _flag(request: web.Request) -> bool:
    raw = _query(request, INCLUDE_DELETED)
    if raw is None:
        return False
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise bad_parameter("include_deleted", f"'{_shown(raw)}' is not true or false")


def _since(request: web.Request) -> datetime | None:
    raw = _query(request, UPDATED_SINCE)
    if raw is None:
        return None
    try:
        if not _RFC3339.match(raw):
            raise ValueError(raw)
        moment = datetime.fromisoformat(raw.upper())
    except ValueError:
        raise bad_parameter(
            "updated_since",
            f"'{_shown(raw)}' is not an RFC 3339 time like 2025-08-07T13:15:04Z",
        ) from None
    return moment.astimezone(UTC)


def _shown(value: str) -> str:
    short = value if len(value) <= 40 else f"{value[:40]}…"
    return short.encode("utf-8", "backslashreplace").decode("utf-8")


_EMPTY_PAGE = ServerPage(servers=[], next_cursor=None)


async def list_servers(request: web.Request) -> web.StreamResponse:
    """``GET /v0.1/servers``: one page of served versions, in name and version order.

    A search or version no server name or version could hold (a NUL, text that is
    not UTF-8) matches nothing rather than failing at the database; a cursor holding
    such text is read without it.
    """
    search = _query(request, SEARCH) or None
    version = _query(request, VERSION_FILTER) or None
    cursor = _query(request, CURSOR) or None
    query = ServerQuery(
        limit=_limit(request),
        cursor=_clean(cursor) if cursor is not None else None,
        search=search,
        updated_since=_since(request),
        version=version,
        include_deleted=_flag(request),
    )
    if not all(_storable(text) for text in (search or "", version or "")):
        return web.json_response(page_list(_EMPTY_PAGE))
    page = await asyncio.to_thread(request.app[MCP_SERVERS].page, query)
    return web.json_response(page_list(page))


def _clean(text: str) -> str:
    return text.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")


async def server_versions(request: web.Request) -> web.StreamResponse:
    """``GET /v0.1/servers/{serverName}/versions``: every served version of one server."""
    name = request.match_info.get(SERVER_NAME.name, "")
    include_deleted = _flag(request)
    versions = []
    if _NAME.match(name):
        versions = await asyncio.to_thread(
            request.app[MCP_SERVERS].versions, name, include_deleted=include_deleted
        )
    if not versions:
        raise ApiError(404, _SERVER_NOT_FOUND, {"serverName": _shown(name)})
    return web.json_response(server_list(versions, next_cursor=None))


async def server_version(request: web.Request) -> web.StreamResponse:
    """``GET /v0.1/servers/{serverName}/versions/{version}``: one version, or ``latest``."""
    name = request.match_info.get(SERVER_NAME.name, "")
    version = request.match_info.get(VERSION.name, "")
    include_deleted = _flag(request)
    served = None
    if _NAME.match(name) and version and _storable(version):
        served = await asyncio.to_thread(
            request.app[MCP_SERVERS].version, name, version, include_deleted=include_deleted
        )
    if served is None:
        what = _SERVER_NOT_FOUND if version == LATEST else "Server version not found"
        raise ApiError(404, what, {"serverName": _shown(name), "version": _shown(version)})
    return web.json_response(server_response(served))


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
