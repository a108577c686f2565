"""The guard's local copy of the catalog: which assets may run, and why others may not.

The guard hook runs before every matching tool call, so it cannot ask the registry each
time. It reads this snapshot instead, a small JSON file it refreshes from the
:class:`~agent_registry.catalog.models.CatalogSource` when the file is older than a few
minutes. One entry per asset, with the status of its newest installable version, the
reason and replacement of a retirement, and an MCP server's declared tools.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from agent_registry.assets.refs import AssetKind
from agent_registry.catalog.models import MAX_PAGE_SIZE, CatalogSource, SearchQuery
from agent_registry.distribution.files import atomic_write_text
from agent_registry.distribution.listing import every_hit
from agent_registry.distribution.plugin_names import local_name
from agent_registry.lifecycle import Stage

SNAPSHOT_FORMAT = 1
SNAPSHOT_FILE = "guard.json"
_INSTALLABLE = frozenset({Stage.PUBLISHED.value, Stage.RECERTIFYING.value, Stage.DEPRECATED.value})

AssetStatus = Literal["live", "deprecated", "retired"]


class GuardAsset(BaseModel):
    """What the guard knows of one asset.

    Attributes:
        kind: Its kind.
        name: Its registry name.
        ref: The version the status comes from.
        status: ``live`` (published or re-certifying), ``deprecated`` or ``retired``.
        reason: Why it was deprecated or retired, when known.
        replacement: What to use instead, when named.
        sunset_at: When a deprecated version retires.
        tools: An MCP server's declared tools, over its installable versions.
    """

    kind: AssetKind
    name: str
    ref: str
    status: AssetStatus
    reason: str | None = None
    replacement: str | None = None
    sunset_at: datetime | None = None
    tools: list[str] | None = None

    @property
    def local_name(self) -> str:
        """The name Claude Code knows the asset by."""
        return local_name(self.kind, self.name)


class GuardSnapshot(BaseModel):
    """The whole snapshot file."""

    format: int = SNAPSHOT_FORMAT
    taken_at: datetime
    assets: list[GuardAsset] = Field(default_factory=list)

    def find(self, kind: AssetKind, name: str) -> list[GuardAsset]:
        """Assets Claude Code would call ``name``; several MCP servers may share a key."""
        return [a for a in self.assets if a.kind is kind and a.local_name == name]


def default_snapshot_path(env: Mapping[str, str], home: Path) -> Path:
    """Where the snapshot lives: one per user, shared by every project.

    ``$AGENT_REGISTRY_DATA_DIR/guard.json`` when set, else
    ``$XDG_CACHE_HOME/agent-registry/guard.json``, else
    ``~/.cache/agent-registry/guard.json`` (the same folders the usage hook uses).
    """
    data_dir = env.get("AGENT_REGISTRY_DATA_DIR", "").strip()
    if data_dir:
        return Path(data_dir).expanduser() / SNAPSHOT_FILE
    cache = env.get("XDG_CACHE_HOME", "").strip()
    base = Path(cache) if cache else home / ".cache"
    return base / "agent-registry" / SNAPSHOT_FILE


def load_snapshot(path: Path) -> GuardSnapshot | None:
    """The snapshot at ``path``, or None if it is missing or unreadable."""
    try:
        snapshot = GuardSnapshot.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        return None
    return snapshot if snapshot.format == SNAPSHOT_FORMAT else None


def save_snapshot(path: Path, snapshot: GuardSnapshot) -> None:
    """Write the snapshot atomically, so a concurrent guard reads an old or a new one."""
    atomic_write_text(path, snapshot.model_dump_json(indent=1) + "\n")


def take_snapshot(
    catalog: CatalogSource, *, now: datetime, deadline: float | None = None
) -> GuardSnapshot:
    """Read what the guard needs from the catalog.

    Args:
        catalog: The registry.
        now: When the snapshot is taken.
        deadline: A ``time.monotonic()`` instant after which retirement reasons are no
            longer fetched (they only improve a message); everything else is read.

    Returns:
        The snapshot.
    """
    assets: dict[tuple[AssetKind, str], GuardAsset] = {}
    for hit in every_hit(catalog):
        if hit.stage not in _INSTALLABLE or (hit.kind, hit.name) in assets:
            continue
        status: AssetStatus = "deprecated" if hit.stage == Stage.DEPRECATED.value else "live"
        asset = GuardAsset(
            kind=hit.kind,
            name=hit.name,
            ref=hit.ref,
            status=status,
            replacement=hit.replacement,
            sunset_at=hit.sunset_at,
        )
        if hit.kind is AssetKind.MCP_SERVER or status == "deprecated":
            _enrich(catalog, asset)
        assets[(hit.kind, hit.name)] = asset
    for hit in every_hit(catalog, SearchQuery(limit=MAX_PAGE_SIZE, stage=Stage.RETIRED.value)):
        if (hit.kind, hit.name) in assets:
            continue
        retired = GuardAsset(
            kind=hit.kind, name=hit.name, ref=hit.ref, status="retired", replacement=hit.replacement
        )
        if deadline is None or time.monotonic() < deadline:
            _enrich(catalog, retired)
        assets[(hit.kind, hit.name)] = retired
    return GuardSnapshot(taken_at=now, assets=list(assets.values()))


def _enrich(catalog: CatalogSource, asset: GuardAsset) -> None:
    """Add the reason, the replacement and (MCP) the declared tools from ``show``."""
    detail = catalog.show(asset.ref)
    if detail.deprecation is not None:
        asset.reason = detail.deprecation.reason
        asset.replacement = asset.replacement or detail.deprecation.replacement
    if asset.kind is not AssetKind.MCP_SERVER or asset.status == "retired":
        return
    tools = {tool.name for tool in detail.scope}
    for other in detail.other_versions:
        if other.stage in _INSTALLABLE and other.ref != detail.ref:
            tools.update(tool.name for tool in catalog.show(other.ref).scope)
    asset.tools = sorted(tools)
