"""A client for any registry that speaks the MCP Registry API: the official one by default.

An upstream registry is outside the organization, so everything it answers is
checked before anyone acts on it: each page must be a ``ServerList`` (or a
``ServerResponse``), each ``server.json`` must pass the published schema and name the
server and version that were asked for, and every read is bounded in time, size and
page count; redirects are followed only on the registry's own origin. Any failure
is one :class:`UpstreamError` naming the registry, the URL and what was wrong;
callers read everything they need first and act only when all of it passed, so a
failure leaves nothing half-imported.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, urlencode, urljoin, urlsplit

import aiohttp

from agent_registry.mcp_registry.allowed_upstreams import UpstreamNotAllowedError, origin
from agent_registry.mcp_registry.server_schema import describe_problems, schema_problems
from agent_registry.mcp_registry.spec import (
    LATEST,
    MAX_LIMIT,
    OFFICIAL_META_KEY,
    SERVERS_PATH,
    ServerStatus,
)
from agent_registry.vocabulary.principal import one_line

DEFAULT_UPSTREAM = "https://registry.modelcontextprotocol.io"
"""The official MCP registry."""

TIMEOUT_SECONDS = 20.0
"""Longest one request may take, connection included."""

MAX_PAGES = 100
"""Most pages one listing follows: 10,000 servers at the largest page size."""

MAX_BODY_BYTES = 8 * 1024 * 1024
"""Largest answer read; a page of 100 entries is a few hundred KiB."""

MAX_REDIRECTS = 3
"""Most redirects one request follows, each on the registry's own origin."""

USER_AGENT = "agent-registry-import/1"


class UpstreamError(RuntimeError):
    """An upstream registry could not be read, or answered something unusable."""


@dataclass(frozen=True)
class UpstreamVersion:
    """One server version as an upstream registry serves it.

    Attributes:
        name: The server name (``namespace/name``).
        version: The server version.
        server: Its ``server.json``, exactly as served.
        status: The upstream's lifecycle status (``active`` when it gave none).
    """

    name: str
    version: str
    server: dict[str, Any]
    status: ServerStatus = ServerStatus.ACTIVE


class UpstreamRegistry:
    """Reads one upstream registry; use as ``async with UpstreamRegistry(url) as up:``.

    Args:
        base_url: The registry's base URL (``https://registry.modelcontextprotocol.io``).
        timeout: Seconds one request may take.
        max_pages: Most pages one listing follows.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_UPSTREAM,
        *,
        timeout: float = TIMEOUT_SECONDS,
        max_pages: int = MAX_PAGES,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UpstreamError(f"'{base_url}' is not an http(s) URL of an MCP registry")
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._max_pages = max_pages
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def search(self, text: str | None) -> list[UpstreamVersion]:
        """The latest version of every active server whose name contains ``text``."""
        found: list[UpstreamVersion] = []
        cursor: str | None = None
        for _ in range(self._max_pages):
            query: dict[str, str] = {"version": LATEST, "limit": str(MAX_LIMIT)}
            if text:
                query["search"] = text
            if cursor:
                query["cursor"] = cursor
            url = f"{self.base_url}{SERVERS_PATH}?{urlencode(query)}"
            body = await self._get(url)
            entries, cursor = _server_list(body, url)
            found.extend(e for e in entries if e.status is not ServerStatus.DELETED)
            if not cursor:
                return found
        raise UpstreamError(
            f"{self.base_url} listed more than {self._max_pages} pages for "
            f"search '{text or ''}'; narrow it with --search or --name"
        )

    async def versions(self, name: str) -> list[UpstreamVersion]:
        """Every version of ``name`` the upstream serves and has not deleted."""
        url = f"{self.base_url}{SERVERS_PATH}/{quote(name, safe='')}/versions"
        entries, _ = _server_list(await self._get(url, missing=f"no server {name}"), url)
        wrong = [e for e in entries if e.name != name]
        if wrong:
            raise UpstreamError(f"{url} answered with server {wrong[0].name}, not {name}")
        return [e for e in entries if e.status is not ServerStatus.DELETED]

    async def version(self, name: str, version: str = LATEST) -> UpstreamVersion:
        """One version of ``name`` (``latest`` by default), checked against the request."""
        url = (
            f"{self.base_url}{SERVERS_PATH}/{quote(name, safe='')}/versions/"
            f"{quote(version, safe='')}"
        )
        body = await self._get(url, missing=f"no server {name} at version {version}")
        entry = _server_response(body, url)
        if entry.name != name or (version != LATEST and entry.version != version):
            raise UpstreamError(
                f"{url} answered with {entry.name} {entry.version}, not {name} {version}"
            )
        return entry

    async def _get(self, url: str, *, missing: str | None = None) -> Any:
        if self._session is None:
            raise RuntimeError("use UpstreamRegistry as an async context manager")
        try:
            data = await self._follow(self._session, url, missing=missing)
        except TimeoutError:
            raise UpstreamError(
                f"{self.base_url} did not answer {url} within {self._timeout:g}s"
            ) from None
        except aiohttp.ClientError as error:
            raise UpstreamError(f"cannot reach {self.base_url}: {_reason(error)}") from None
        if len(data) > MAX_BODY_BYTES:
            raise UpstreamError(f"{url} answered more than {MAX_BODY_BYTES} bytes")
        try:
            return json.loads(data)
        except (UnicodeDecodeError, ValueError):
            raise UpstreamError(f"{url} did not answer JSON (a malformed page)") from None

    async def _follow(
        self, session: aiohttp.ClientSession, url: str, *, missing: str | None
    ) -> bytes:
        """The body at ``url``, following redirects only while they stay on its origin.

        A registry allowed by name could otherwise send the reader anywhere, a cloud
        metadata endpoint or an internal service included, so a redirect to another
        scheme, host or port is refused rather than followed.
        """
        start = origin(self.base_url)
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            async with session.get(current, allow_redirects=False) as reply:
                if reply.status in _REDIRECTS:
                    target = urljoin(current, reply.headers.get("Location", ""))
                    if _origin_or_none(target) != start:
                        raise UpstreamError(
                            f"{current} redirected to {_clipped(target)}, off the origin of "
                            f"{self.base_url}; not followed"
                        )
                    current = target
                    continue
                if reply.status == 404 and missing is not None:
                    raise UpstreamError(f"{self.base_url} has {missing} ({url} answered 404)")
                if reply.status != 200:
                    raise UpstreamError(f"{url} answered HTTP {reply.status}, not a server list")
                return await reply.content.read(MAX_BODY_BYTES + 1)
        raise UpstreamError(f"{url} redirected more than {MAX_REDIRECTS} times")


_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _origin_or_none(url: str) -> tuple[str, str, int] | None:
    try:
        return origin(url)
    except UpstreamNotAllowedError:
        return None


def _clipped(text: str) -> str:
    text = one_line(text)
    return text if len(text) <= 200 else f"{text[:200]}…"


def _reason(error: aiohttp.ClientError) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 200 else f"{text[:200]}…"


def _server_list(body: Any, url: str) -> tuple[list[UpstreamVersion], str | None]:
    """The entries and next cursor of a ``ServerList``, every entry checked."""
    if not isinstance(body, dict) or not isinstance(body.get("servers"), list):
        raise UpstreamError(f"{url} is not an MCP Registry server list (no 'servers' array)")
    metadata = body.get("metadata")
    cursor = metadata.get("nextCursor") if isinstance(metadata, dict) else None
    if cursor is not None and not isinstance(cursor, str):
        raise UpstreamError(f"{url} has a metadata.nextCursor that is not a string")
    entries = [_entry(item, f"{url} servers[{i}]") for i, item in enumerate(body["servers"])]
    return entries, cursor or None


def _server_response(body: Any, url: str) -> UpstreamVersion:
    return _entry(body, url)


def _entry(item: Any, where: str) -> UpstreamVersion:
    """One ``ServerResponse``: its ``server.json`` must pass the published schema."""
    if not isinstance(item, dict) or not isinstance(item.get("server"), dict):
        raise UpstreamError(f"{where} is not a server entry (no 'server' object)")
    server: dict[str, Any] = item["server"]
    name, version = server.get("name"), server.get("version")
    label = f"{name} {version}" if isinstance(name, str) and isinstance(version, str) else where
    problems = schema_problems(server)
    if problems:
        raise UpstreamError(
            f"the server.json of {label} fails the server.json schema: "
            f"{describe_problems(problems)}"
        )
    # The schema requires both as strings.
    return UpstreamVersion(
        name=str(name), version=str(version), server=server, status=_status(item)
    )


def _status(item: dict[str, Any]) -> ServerStatus:
    meta = item.get("_meta")
    official = meta.get(OFFICIAL_META_KEY) if isinstance(meta, dict) else None
    status = official.get("status") if isinstance(official, dict) else None
    try:
        return ServerStatus(status) if isinstance(status, str) else ServerStatus.ACTIVE
    except ValueError:
        return ServerStatus.ACTIVE


async def fetch_chosen(
    base_url: str,
    *,
    search: str | None,
    names: list[str],
    timeout: float = TIMEOUT_SECONDS,  # noqa: ASYNC109 - bounds each request, not the whole read
) -> list[UpstreamVersion]:
    """What ``agentreg import mcp`` chose: the latest version of each named or found server.

    Every page is read and checked before this returns, so a caller acts on all of it
    or on none.

    Raises:
        UpstreamError: The registry is unreachable, slow or answered something unusable.
    """
    async with UpstreamRegistry(base_url, timeout=timeout) as upstream:
        chosen: dict[tuple[str, str], UpstreamVersion] = {}
        if search is not None or not names:
            for entry in await upstream.search(search):
                chosen[(entry.name, entry.version)] = entry
        named = await asyncio.gather(*(upstream.version(name) for name in names))
        for entry in named:
            chosen[(entry.name, entry.version)] = entry
    return sorted(chosen.values(), key=lambda e: (e.name, e.version))
