"""The MCP servers the registry serves through the MCP Registry API, read from its tables.

One query per request, keyed for pagination: entries are ordered by server name and
then by version, and a cursor is the last entry's ``name:version``, so a page costs
the same at the start of a 10,000-server catalog as at its end, and any cursor a
client sends (even one it made up) names a place in that order rather than an error.

``server.json`` is served exactly as submitted, so it is read from the stored bundle,
not from the manifest column (which holds the parsed model). A bundle never changes
for its content hash, so each one is read once and kept (:class:`ServerDocuments`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.kinds import SCOPE_FILE, SERVER_FILE
from agent_registry.assets.manifests import DeclaredScope
from agent_registry.assets.refs import AssetKind, InvalidRefError
from agent_registry.catalog.models import ScopeTool
from agent_registry.catalog.scopes import STORED_BUNDLE_LIMITS
from agent_registry.lifecycle.stages import EVER_PUBLISHED, IN_CATALOG, INSTALLABLE, Stage
from agent_registry.mcp_registry.served import ServedVersion, ServerPage, ServerQuery
from agent_registry.registry.db import session_scope
from agent_registry.registry.tables import Asset, AssetVersion, Blob, version_sort_key

DOCUMENT_CACHE_SIZE = 65536
"""Bundles whose ``server.json`` and scope are kept: every server of a large registry."""

_LISTED = tuple(stage.value for stage in INSTALLABLE)
_WITH_DELETED = tuple(stage.value for stage in EVER_PUBLISHED)
_LIVE_FIRST = tuple(stage.value for stage in IN_CATALOG)


class ServerDocuments:
    """``server.json`` as submitted and the declared tools, per content hash, read once."""

    def __init__(self, size: int = DOCUMENT_CACHE_SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, tuple[dict[str, Any], list[ScopeTool]]] = OrderedDict()

    def of(
        self, session: Session, hashes: Iterable[str]
    ) -> dict[str, tuple[dict[str, Any], list[ScopeTool]]]:
        """The documents of each bundle, reading the ones not kept yet in one query."""
        found: dict[str, tuple[dict[str, Any], list[ScopeTool]]] = {}
        with self._lock:
            for content_hash in hashes:
                kept = self._kept.get(content_hash)
                if kept is not None:
                    self._kept.move_to_end(content_hash)
                    found[content_hash] = kept
            missing = [h for h in dict.fromkeys(hashes) if h not in found]
        if missing:
            query = sa.select(col(Blob.content_hash), col(Blob.data)).where(
                col(Blob.content_hash).in_(missing)
            )
            blobs: dict[str, bytes] = {
                content_hash: data for content_hash, data in session.connection().execute(query)
            }
            for content_hash in missing:
                found[content_hash] = _documents(blobs.get(content_hash))
            with self._lock:
                for content_hash in missing:
                    self._kept[content_hash] = found[content_hash]
                while len(self._kept) > self._size:
                    self._kept.popitem(last=False)
        return found


def _documents(archive: bytes | None) -> tuple[dict[str, Any], list[ScopeTool]]:
    """``server.json`` and the declared tools of a stored bundle; empty when unreadable."""
    if archive is None:
        return {}, []
    try:
        bundle = bundle_from_archive(archive, limits=STORED_BUNDLE_LIMITS)
    except BundleError:
        return {}, []
    server_file = bundle.get(SERVER_FILE)
    server: dict[str, Any] = {}
    if server_file is not None:
        try:
            value = json.loads(server_file.data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            value = None
        if isinstance(value, dict):
            server = value
    tools: list[ScopeTool] = []
    scope_file = bundle.get(SCOPE_FILE)
    if scope_file is not None:
        # Only the scope is read here (not the whole asset): a cold page reads 30 bundles.
        try:
            scope = DeclaredScope.model_validate(yaml.safe_load(scope_file.data.decode("utf-8")))
        except (UnicodeDecodeError, yaml.YAMLError, ValidationError):
            scope = None
        if scope is not None:
            tools = [
                ScopeTool(
                    name=tool.name,
                    effects=[effect.value for effect in tool.effects],
                    description=tool.description,
                )
                for tool in scope.tools
            ]
    return server, tools


class McpServerCatalog:
    """The served MCP servers of one registry database.

    Args:
        engine: The registry engine.
        documents: Where bundles' documents are kept between requests.
    """

    def __init__(self, engine: Engine, documents: ServerDocuments | None = None) -> None:
        self._engine = engine
        self._documents = documents or ServerDocuments()

    def page(self, query: ServerQuery) -> ServerPage:
        """One page of served versions in name, then version, order.

        With ``updated_since`` deleted (retired) versions are always included, as the
        spec says, so that a mirror following changes sees them go.
        """
        stages = _WITH_DELETED if query.include_deleted or query.updated_since else _LISTED
        statement = _base(stages)
        if query.search:
            pattern = f"%{_escape_like(query.search.lower())}%"
            statement = statement.where(sa.func.lower(col(Asset.name)).like(pattern, escape="\\"))
        if query.version is not None:
            statement = statement.where(
                _latest_only(stages) if query.version == "latest" else _exact(query.version)
            )
        if query.cursor:
            statement = statement.where(_after(query.cursor))
        statement = statement.order_by(col(Asset.name), col(AssetVersion.version_sort)).limit(
            query.limit + 1
        )
        with session_scope(self._engine) as session:
            if query.updated_since is not None:
                changed = _changed_since(session.connection(), query.updated_since)
                statement = statement.where(changed)
            rows = list(session.connection().execute(statement))
            more = len(rows) > query.limit
            rows = rows[: query.limit]
            served = self._served(session, rows)
        last = served[-1] if served else None
        return ServerPage(
            servers=served,
            next_cursor=f"{last.name}:{last.version}" if more and last else None,
        )

    def versions(self, name: str, *, include_deleted: bool) -> list[ServedVersion]:
        """Every served version of ``name``, newest publication first; empty when none."""
        stages = _WITH_DELETED if include_deleted else _LISTED
        statement = (
            _base(stages)
            .where(col(Asset.name) == name)
            .order_by(
                col(AssetVersion.published_at).desc(),
                col(AssetVersion.version_sort).desc(),
            )
        )
        with session_scope(self._engine) as session:
            return self._served(session, list(session.connection().execute(statement)))

    def version(self, name: str, version: str, *, include_deleted: bool) -> ServedVersion | None:
        """One served version of ``name``; ``latest`` means the latest one."""
        stages = _WITH_DELETED if include_deleted else _LISTED
        statement = _base(stages).where(col(Asset.name) == name)
        if version == "latest":
            statement = statement.where(_latest_only(stages))
        else:
            statement = statement.where(col(AssetVersion.version) == version)
        with session_scope(self._engine) as session:
            served = self._served(session, list(session.connection().execute(statement.limit(1))))
        return served[0] if served else None

    def _served(self, session: Session, rows: Sequence[Any]) -> list[ServedVersion]:
        documents = self._documents.of(session, [row.content_hash for row in rows])
        latest = _latest_sorts(session, {row.asset_id for row in rows})
        return [
            ServedVersion(
                name=row.name,
                version=row.version,
                stage=Stage(row.stage),
                owner_team=row.owner_team,
                content_hash=row.content_hash,
                risk_tier=row.risk_tier,
                published_at=row.published_at,
                updated_at=row.updated_at,
                recertify_by=row.recertify_by,
                deprecated_at=row.deprecated_at,
                deprecation_reason=row.deprecation_reason,
                replacement=row.replacement,
                sunset_at=row.sunset_at,
                retired_at=row.retired_at,
                is_latest=latest.get(row.asset_id) == row.version_sort,
                server=documents[row.content_hash][0],
                scope=documents[row.content_hash][1],
            )
            for row in rows
        ]


def _base(stages: Sequence[str]) -> sa.Select[*tuple[Any, ...]]:
    return (
        sa.select(
            col(AssetVersion.asset_id),
            col(Asset.name),
            col(Asset.owner_team),
            col(AssetVersion.version),
            col(AssetVersion.version_sort),
            col(AssetVersion.stage),
            col(AssetVersion.content_hash),
            col(AssetVersion.risk_tier),
            col(AssetVersion.published_at),
            col(AssetVersion.updated_at),
            col(AssetVersion.recertify_by),
            col(AssetVersion.deprecated_at),
            col(AssetVersion.deprecation_reason),
            col(AssetVersion.replacement),
            col(AssetVersion.sunset_at),
            col(AssetVersion.retired_at),
        )
        .join(Asset, col(AssetVersion.asset_id) == col(Asset.id))
        .where(col(Asset.kind) == AssetKind.MCP_SERVER.value, col(AssetVersion.stage).in_(stages))
    )


CHANGED_IDS_BOUND = 1000
"""Up to this many changed versions, ``updated_since`` is served from their ids."""


def _changed_since(connection: sa.Connection, since: datetime) -> sa.ColumnElement[bool]:
    """The version changed at or after ``since``, in the form the database serves fastest.

    A mirror asks for the few versions changed since its last pass. Filtering on
    ``updated_at`` made SQLite walk every server in name order to test each version's
    time (26 ms at 10,000 servers), and a subquery on the ids did not change that walk.
    So the changed versions' ids and their servers' ids are read first, from the narrow
    ``(updated_at, id, asset_id)`` index alone (migration 0008), and naming both sets
    lets the database look up those rows by key and sort only them. When more than
    :data:`CHANGED_IDS_BOUND` changed, the plain filter is kept: then the walk in name
    order meets a full page early. PostgreSQL's planner reads the same index for the
    plain filter by itself (EXPLAIN: an index scan on it, then the sort), so there the
    filter is kept and the extra round trip saved.
    """
    plain = col(AssetVersion.updated_at) >= since
    if connection.dialect.name != "sqlite":
        return plain
    changed = (
        sa.select(col(AssetVersion.id), col(AssetVersion.asset_id))
        .where(col(AssetVersion.updated_at) >= since)
        .limit(CHANGED_IDS_BOUND + 1)
    )
    rows = list(connection.execute(changed))
    if len(rows) > CHANGED_IDS_BOUND:
        return plain
    return col(AssetVersion.id).in_([row.id for row in rows]) & col(Asset.id).in_(
        sorted({row.asset_id for row in rows})
    )


def _latest_only(stages: Sequence[str]) -> sa.ColumnElement[bool]:
    """The row is the highest version of its server among the served, non-deleted ones."""
    newer = aliased(AssetVersion, name="newer")
    return ~sa.exists().where(
        col(newer.asset_id) == col(AssetVersion.asset_id),
        col(newer.stage).in_([stage for stage in stages if stage != Stage.RETIRED.value]),
        col(newer.version_sort) > col(AssetVersion.version_sort),
    ) & (col(AssetVersion.stage) != Stage.RETIRED.value)


def _latest_sorts(session: Session, asset_ids: set[int]) -> dict[int, str]:
    """The version sort key of each server's latest served, non-deleted version.

    Only the asset ids filter the query: given a stage too, SQLite walks the stage
    index over every published version instead of the few rows of these servers.
    """
    if not asset_ids:
        return {}
    query = sa.select(
        col(AssetVersion.asset_id), col(AssetVersion.version_sort), col(AssetVersion.stage)
    ).where(col(AssetVersion.asset_id).in_(asset_ids))
    latest: dict[int, str] = {}
    for asset_id, key, stage in session.connection().execute(query):
        if stage in _LISTED and key > latest.get(asset_id, ""):
            latest[asset_id] = key
    return latest


def _exact(version: str) -> sa.ColumnElement[bool]:
    return col(AssetVersion.version) == version


def _after(cursor: str) -> sa.ColumnElement[bool]:
    """Rows after the cursor ``name:version`` in (name, version) order.

    A cursor without a version, or with one that is not semver, places itself before
    every version of that name, so a hand-made cursor still names a place.
    """
    name, _, version = cursor.rpartition(":") if ":" in cursor else (cursor, "", "")
    try:
        key = version_sort_key(version) if version else ""
    except InvalidRefError:
        key = ""
    # One range on the name index, then the tie-break: an OR of the two would make
    # SQLite collect every later name before sorting instead of stopping at the page.
    return (col(Asset.name) >= name) & (
        (col(Asset.name) > name) | (col(AssetVersion.version_sort) > key)
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class HeldServer:
    """What the registry holds of one MCP server, for the scheduled import.

    Attributes:
        highest_sort: The version sort key of its highest version in any stage.
        scope_ref: The ref of its highest version not rejected, whose scope is carried.
        scope_text: That version's ``scope.yaml``.
    """

    highest_sort: str
    scope_ref: str
    scope_text: str


def held_server(engine: Engine, name: str) -> HeldServer | None:
    """The registry's versions of MCP server ``name``; None when it holds none with a scope."""
    statement = (
        sa.select(
            col(AssetVersion.version),
            col(AssetVersion.version_sort),
            col(AssetVersion.stage),
            col(AssetVersion.content_hash),
        )
        .join(Asset, col(AssetVersion.asset_id) == col(Asset.id))
        .where(col(Asset.kind) == AssetKind.MCP_SERVER.value, col(Asset.name) == name)
        .order_by(col(AssetVersion.version_sort).desc())
    )
    with session_scope(engine) as session:
        rows = list(session.connection().execute(statement))
        if not rows:
            return None
        for row in rows:
            if row.stage == Stage.REJECTED.value:
                continue
            blob = (
                session.connection()
                .execute(
                    sa.select(col(Blob.data)).where(col(Blob.content_hash) == row.content_hash)
                )
                .scalar()
            )
            text = _scope_text(blob)
            if text is not None:
                return HeldServer(
                    highest_sort=rows[0].version_sort,
                    scope_ref=f"{AssetKind.MCP_SERVER.value}/{name}@{row.version}",
                    scope_text=text,
                )
    return None


def _scope_text(archive: bytes | None) -> str | None:
    if archive is None:
        return None
    try:
        bundle = bundle_from_archive(archive, limits=STORED_BUNDLE_LIMITS)
    except BundleError:
        return None
    scope = bundle.get(SCOPE_FILE)
    if scope is None:
        return None
    try:
        return scope.data.decode("utf-8")
    except UnicodeDecodeError:
        return None
