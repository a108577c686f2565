"""Served versions as the MCP Registry API writes them: ``server`` and ``_meta``.

``server`` is the ``server.json`` exactly as it was submitted and reviewed. ``_meta``
holds the spec's lifecycle shape under its key (status, dates, ``isLatest``) and the
registry's governed facts under :data:`~agent_registry.mcp_registry.spec.REGISTRY_META_KEY`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent_registry.assets.refs import AssetKind
from agent_registry.lifecycle.stages import WITHDRAWN
from agent_registry.mcp_registry.served import ServedVersion, ServerPage
from agent_registry.mcp_registry.spec import (
    OFFICIAL_META_KEY,
    REGISTRY_META_KEY,
    SERVED_STAGES,
    STATUS_MESSAGE_MAX_CHARS,
    ServerStatus,
)


def server_response(served: ServedVersion) -> dict[str, Any]:
    """One ``ServerResponse``: the submitted ``server.json`` and the registry's ``_meta``."""
    return {
        "server": served.server,
        "_meta": {
            OFFICIAL_META_KEY: _lifecycle(served),
            REGISTRY_META_KEY: _governance(served),
        },
    }


def server_list(servers: list[ServedVersion], *, next_cursor: str | None) -> dict[str, Any]:
    """A ``ServerList``: the entries and the page's metadata."""
    metadata: dict[str, Any] = {"count": len(servers)}
    if next_cursor is not None:
        metadata["nextCursor"] = next_cursor
    return {"servers": [server_response(s) for s in servers], "metadata": metadata}


def page_list(page: ServerPage) -> dict[str, Any]:
    """:func:`server_list` of one page."""
    return server_list(page.servers, next_cursor=page.next_cursor)


def _lifecycle(served: ServedVersion) -> dict[str, Any]:
    status = SERVED_STAGES[served.stage]
    facts: dict[str, Any] = {"status": status.value}
    message = _status_message(served, status)
    if message:
        facts["statusMessage"] = message
    changed = _status_changed_at(served, status)
    if changed is not None:
        facts["statusChangedAt"] = _stamp(changed)
    if served.published_at is not None:
        facts["publishedAt"] = _stamp(served.published_at)
    facts["updatedAt"] = _stamp(served.updated_at)
    facts["isLatest"] = served.is_latest
    return facts


def _status_message(served: ServedVersion, status: ServerStatus) -> str | None:
    if status is ServerStatus.ACTIVE:
        return None
    reason = served.deprecation_reason or "no reason recorded"
    text = f"{'Retired' if status is ServerStatus.DELETED else 'Deprecated'}: {reason}"
    if served.replacement:
        text += f"; use {served.replacement} instead"
    return (
        text
        if len(text) <= STATUS_MESSAGE_MAX_CHARS
        else text[: STATUS_MESSAGE_MAX_CHARS - 1] + "…"
    )


def _status_changed_at(served: ServedVersion, status: ServerStatus) -> datetime | None:
    if status is ServerStatus.DELETED:
        return served.retired_at
    if status is ServerStatus.DEPRECATED:
        return served.deprecated_at
    return served.published_at


def _governance(served: ServedVersion) -> dict[str, Any]:
    deprecation = None
    if served.stage in WITHDRAWN or served.deprecated_at is not None:
        deprecation = {
            "reason": served.deprecation_reason,
            "deprecatedAt": _maybe(served.deprecated_at),
            "replacement": served.replacement,
            "sunsetAt": _maybe(served.sunset_at),
            "retiredAt": _maybe(served.retired_at),
        }
    return {
        "ref": f"{AssetKind.MCP_SERVER.value}/{served.name}@{served.version}",
        "stage": served.stage.value,
        "ownerTeam": served.owner_team,
        "contentHash": served.content_hash,
        "riskTier": served.risk_tier,
        "declaredScope": [
            {"name": tool.name, "effects": tool.effects, "description": tool.description}
            for tool in served.scope
        ],
        "recertifyBy": _maybe(served.recertify_by),
        "deprecation": deprecation,
    }


def _maybe(value: datetime | None) -> str | None:
    return None if value is None else _stamp(value)


def _stamp(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as the spec's examples write it."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
