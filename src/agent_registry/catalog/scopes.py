"""What MCP servers declare they may do: the tools and effects in their ``scope.yaml``.

``show`` and the org report both list an MCP server's declared tools, which live in the
stored bundle, not in any column. Reading them means unpacking the archive, so they are
kept per content hash: a bundle's content never changes, so neither do its tools.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from sqlmodel import Session, col, select

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.kinds import parse_mcp_server
from agent_registry.catalog.models import ScopeTool
from agent_registry.registry.tables import Blob

STORED_BUNDLE_LIMITS = BundleLimits(
    max_total_bytes=256 * 1024 * 1024,
    max_file_bytes=256 * 1024 * 1024,
    max_files=100_000,
    max_depth=64,
)
"""Caps for reading stored archives back: they met the configured caps when submitted,
and a cap lowered since must not hide what a published version declares."""

SCOPE_CACHE_SIZE = 65536
"""How many bundles' declared tools are kept; enough for every MCP server of a large
registry, so that the report reads each bundle once."""

_CHUNK = 500
"""Most blobs read in one query."""


class DeclaredScopes:
    """MCP servers' declared tools by content hash, read once per bundle.

    Args:
        size: The most bundles kept; the least recently used go first.
    """

    def __init__(self, size: int = SCOPE_CACHE_SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._tools: OrderedDict[str, list[ScopeTool]] = OrderedDict()

    def tools(self, session: Session, content_hash: str) -> list[ScopeTool]:
        """The tools ``scope.yaml`` declares in the bundle; empty if it declares none."""
        return self.tools_of(session, [content_hash])[content_hash]

    def tools_of(self, session: Session, hashes: Iterable[str]) -> dict[str, list[ScopeTool]]:
        """:meth:`tools` of many bundles, reading the ones not kept yet in few queries."""
        found: dict[str, list[ScopeTool]] = {}
        with self._lock:
            for content_hash in hashes:
                kept = self._tools.get(content_hash)
                if kept is not None:
                    self._tools.move_to_end(content_hash)
                found[content_hash] = list(kept) if kept is not None else []
            missing = [h for h in found if h not in self._tools]
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            query = select(Blob.content_hash, Blob.data).where(col(Blob.content_hash).in_(chunk))
            blobs = dict(session.exec(query).all())
            for content_hash in chunk:
                found[content_hash] = declared_tools(blobs.get(content_hash))
        with self._lock:
            for content_hash in missing:
                self._tools[content_hash] = found[content_hash]
            while len(self._tools) > self._size:
                self._tools.popitem(last=False)
        return {content_hash: list(tools) for content_hash, tools in found.items()}


def declared_tools(archive: bytes | None) -> list[ScopeTool]:
    """The tools an MCP server bundle's ``scope.yaml`` declares.

    A missing blob, an unreadable archive or an invalid scope gives no tools rather
    than an error: ``show`` and the report still have everything else to say, and the
    eval findings already name what is wrong with the bundle.

    Args:
        archive: The stored canonical archive, or None when there is none.

    Returns:
        The declared tools with their effects, in the order declared.
    """
    if archive is None:
        return []
    try:
        bundle = bundle_from_archive(archive, limits=STORED_BUNDLE_LIMITS)
    except BundleError:
        return []
    scope = parse_mcp_server(bundle).scope
    if scope is None:
        return []
    return [
        ScopeTool(
            name=tool.name,
            effects=[effect.value for effect in tool.effects],
            description=tool.description,
        )
        for tool in scope.tools
    ]
