"""What the MCP Registry tests share: the upstream fixtures, bundles, a seeded catalog."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from agent_registry.assets.archive import canonical_archive
from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry.db import session_scope
from tests import seeding

HERE = Path(__file__).resolve().parent
SERVERS = HERE / "servers"
OPENAPI = HERE / "spec" / "openapi.yaml"

TIME = "io.github.modelcontextprotocol/time"
GITHUB = "io.github.github/github-mcp-server"
FILESYSTEM = "io.github.modelcontextprotocol/filesystem"
CONTEXT7 = "io.github.upstash/context7"

TIME_TOOLS = [
    {"name": "get_current_time", "effects": ["read"]},
    {"name": "convert_time", "effects": ["read"]},
]


def upstream(name: str) -> dict[str, Any]:
    """A fixture ``server.json`` by its file stem (``time``, ``github`` ...), parsed."""
    value: dict[str, Any] = json.loads((SERVERS / f"{name}.json").read_text(encoding="utf-8"))
    return value


def with_version(server: dict[str, Any], version: str) -> dict[str, Any]:
    """``server`` at another version (its packages pinned to it too)."""
    changed = copy.deepcopy(server)
    changed["version"] = version
    for package in changed.get("packages", []):
        package["version"] = version
    return changed


def server_archive(server: dict[str, Any], tools: list[dict[str, Any]]) -> bytes:
    """The canonical archive of an MCP server bundle: ``server.json`` and ``scope.yaml``.

    ``server.json`` is written with its own key order and two-space indentation, so a
    test can tell it is served exactly as submitted.
    """
    files = (
        BundleFile("scope.yaml", yaml.safe_dump({"tools": tools}).encode()),
        BundleFile("server.json", json.dumps(server, indent=2).encode()),
    )
    return canonical_archive(Bundle(root_name=server["name"].split("/")[1], files=files))


@dataclass(frozen=True)
class Served:
    """What :func:`seed_servers` put in the registry."""

    old_time: AssetRef
    time: AssetRef
    github: AssetRef
    filesystem: AssetRef
    context7: AssetRef
    seeded_at: datetime


def seed_servers(engine: Engine) -> Served:
    """A registry with MCP servers in every stage the API cares about.

    time 2026.9.1 deprecated (replaced by 2026.10.19, published), GitHub published,
    filesystem retired, Context7 still in review.
    """
    seeded_at = datetime.now(UTC)
    time_server = upstream("time")
    refs = {
        "old_time": _ref(TIME, "2026.9.1"),
        "time": _ref(TIME, "2026.10.19"),
        "github": _ref(GITHUB, "0.20.1"),
        "filesystem": _ref(FILESYSTEM, "2025.8.21"),
        "context7": _ref(CONTEXT7, "1.0.17"),
    }
    documents = {
        "old_time": (with_version(time_server, "2026.9.1"), TIME_TOOLS),
        "time": (time_server, TIME_TOOLS),
        "github": (upstream("github"), [{"name": "get_me", "effects": ["read", "network"]}]),
        "filesystem": (upstream("filesystem"), [{"name": "read_file", "effects": ["read"]}]),
        "context7": (upstream("context7"), [{"name": "get-library-docs", "effects": ["network"]}]),
    }
    with session_scope(engine) as session:
        for key, ref in refs.items():
            server, tools = documents[key]
            seeding.register(
                session,
                ref,
                description=server["description"],
                team="platform",
                manifest=server,
                archive=server_archive(server, tools),
            )
        for key in ("old_time", "time", "github", "filesystem"):
            seeding.review_and_publish(session, refs[key])
        seeding.deprecate(session, refs["old_time"], replacement=str(refs["time"]))
        seeding.retire(session, refs["filesystem"], reason="unmaintained upstream")
        seeding.move(session, refs["context7"], Stage.IN_REVIEW)
    return Served(seeded_at=seeded_at, **refs)


def _ref(name: str, version: str) -> AssetRef:
    return AssetRef(kind=AssetKind.MCP_SERVER, name=name, version=version)
