"""A served MCP server version, as the catalog reads it and the API writes it.

The catalog builds these from the registry's tables and the API turns them into MCP
Registry documents (:mod:`agent_registry.mcp_registry.responses`); the shapes live with
the MCP registry so that its response code does not reach up into the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from agent_registry.lifecycle.stages import Stage


class ServedTool(Protocol):
    """One tool of the declared scope, as the owner declared it (``scope.yaml``)."""

    @property
    def name(self) -> str: ...  # noqa: D102
    @property
    def effects(self) -> list[str]: ...  # noqa: D102
    @property
    def description(self) -> str | None: ...  # noqa: D102


@dataclass(frozen=True)
class ServedVersion:
    """One served MCP server version: its row facts and its bundle's documents."""

    name: str
    version: str
    stage: Stage
    owner_team: str
    content_hash: str
    risk_tier: str | None
    published_at: datetime | None
    updated_at: datetime
    recertify_by: datetime | None
    deprecated_at: datetime | None
    deprecation_reason: str | None
    replacement: str | None
    sunset_at: datetime | None
    retired_at: datetime | None
    is_latest: bool
    server: dict[str, Any]
    scope: Sequence[ServedTool]


@dataclass(frozen=True)
class ServerQuery:
    """What ``GET /v0.1/servers`` asks for (already read and bounded by the route)."""

    limit: int
    cursor: str | None = None
    search: str | None = None
    updated_since: datetime | None = None
    version: str | None = None
    include_deleted: bool = False


@dataclass(frozen=True)
class ServerPage:
    """One page of served versions and the cursor of the next, if there is one."""

    servers: list[ServedVersion]
    next_cursor: str | None
