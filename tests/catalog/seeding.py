"""Catalog test data: the shared seeding, committed after each step so catalogs see it."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from agent_registry.assets.archive import canonical_archive
from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.assets.refs import AssetRef
from tests import seeding
from tests.seeding import SUNSET, move, publish, register

__all__ = [
    "SUNSET",
    "deprecate",
    "mcp_archive",
    "move",
    "publish",
    "published",
    "register",
    "retire",
]


def published(
    session: Session,
    ref: str,
    *,
    description: str = seeding.DESCRIPTION,
    team: str = "platform",
    manifest: dict[str, object] | None = None,
    archive: bytes | None = None,
    content_hash: str | None = None,
) -> AssetRef:
    """Register, review and publish a version, committed; ``archive`` is stored as its blob."""
    parsed = register(
        session,
        ref,
        description=description,
        team=team,
        manifest=manifest,
        archive=archive,
        content_hash=content_hash,
    )
    seeding.review_and_publish(session, parsed)
    session.commit()
    return parsed


def deprecate(
    session: Session,
    ref: AssetRef,
    *,
    replacement: str | None = None,
    sunset_at: datetime = SUNSET,
    reason: str = "superseded",
) -> None:
    """Deprecate a published version, committed."""
    seeding.deprecate(session, ref, replacement=replacement, sunset_at=sunset_at, reason=reason)
    session.commit()


def retire(session: Session, ref: AssetRef) -> None:
    """Deprecate and retire a published version, committed."""
    seeding.retire(session, ref)
    session.commit()


def mcp_archive(name: str, tools: dict[str, list[str]]) -> bytes:
    """A canonical MCP server archive declaring ``tools`` (tool name to effects)."""
    server = {
        "name": f"io.github.acme/{name}",
        "description": f"The {name} server.",
        "version": "1.0.0",
        "packages": [
            {
                "registryType": "pypi",
                "identifier": f"mcp-server-{name}",
                "version": "1.0.0",
                "transport": {"type": "stdio"},
            }
        ],
    }
    scope = "tools:\n" + "".join(
        f"  - name: {tool}\n    effects: [{', '.join(effects)}]\n"
        for tool, effects in tools.items()
    )
    bundle = Bundle(
        root_name=name,
        files=(
            BundleFile(path="scope.yaml", data=scope.encode()),
            BundleFile(path="server.json", data=json.dumps(server).encode()),
        ),
    )
    return canonical_archive(bundle)
