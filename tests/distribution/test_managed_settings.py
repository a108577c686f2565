"""The managed-settings export, checked against the documented MCP, permission and hook keys."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agent_registry.assets.refs import AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.config import Settings
from agent_registry.distribution.errors import DistributionError
from agent_registry.distribution.managed_settings import (
    GUARD_MATCHER,
    export_managed_settings,
)
from agent_registry.signing.trust import trusted_keyring
from tests.distribution.claude_code_shapes import managed_settings_problems
from tests.distribution.seeding import deprecate, mcp_server, retire, seed, shipped_server

TICKETS_SCOPE = (
    "tools:\n  - name: list_tickets\n    effects: [read]\n"
    "  - name: close_ticket\n    effects: [write]\n"
)


def _tickets(tmp_path: Path, version: str) -> Path:
    return mcp_server(
        tmp_path,
        f"tickets-{version}",
        server={
            "name": "io.github.acme/tickets",
            "description": "Reads and closes support tickets.",
            "version": version,
            "packages": [
                {
                    "registryType": "npm",
                    "identifier": "@acme/tickets-mcp",
                    "version": version,
                    "transport": {"type": "stdio"},
                    "environmentVariables": [{"name": "TICKETS_TOKEN", "isSecret": True}],
                }
            ],
        },
        scope=TICKETS_SCOPE,
    )


def _remote(tmp_path: Path, name: str, url: str) -> Path:
    return mcp_server(
        tmp_path,
        name,
        server={
            "name": f"io.github.acme/{name}",
            "description": f"The {name} service.",
            "version": "1.0.0",
            "remotes": [{"type": "streamable-http", "url": url}],
        },
        scope="tools:\n  - name: lookup\n    effects: [read, network]\n",
    )


@pytest.fixture
def servers(
    sqlite_engine: Engine, settings: Settings, published: dict[str, AssetRef], tmp_path: Path
) -> dict[str, AssetRef]:
    """Published: time, clock (bundle), tickets 1.1.0, search (remote); tickets 1.0.0
    deprecated; weather (remote) retired with nothing left."""
    refs = {
        "time": published["mcp"],
        "clock": seed(sqlite_engine, settings, shipped_server(tmp_path)),
        "tickets-old": seed(sqlite_engine, settings, _tickets(tmp_path, "1.0.0")),
        "tickets": seed(sqlite_engine, settings, _tickets(tmp_path, "1.1.0")),
        "search": seed(
            sqlite_engine, settings, _remote(tmp_path, "search", "https://search.example.com/mcp")
        ),
        "weather": seed(
            sqlite_engine, settings, _remote(tmp_path, "weather", "https://wx.example.com/mcp")
        ),
    }
    deprecate(sqlite_engine, refs["tickets-old"], replacement=str(refs["tickets"]))
    retire(sqlite_engine, refs["weather"], replacement=None)
    return refs


def test_only_published_servers_are_allowed_with_their_declared_tools(
    catalog: DatabaseCatalog, settings: Settings, servers: dict[str, AssetRef], tmp_path: Path
) -> None:
    path = tmp_path / "managed-settings.json"
    written = export_managed_settings(catalog, path, limits=settings.bundle_limits)

    document = json.loads(path.read_text())
    assert managed_settings_problems(document) == []
    assert document["allowManagedMcpServersOnly"] is True
    # clock runs its own files, matched only by path: without the guard to check them by
    # content, any file at that path in any repository would pass, so it is left out.
    assert any(str(servers["clock"]) in skipped for skipped in written.policy.skipped)
    assert sorted(map(json.dumps, document["allowedMcpServers"])) == sorted(
        map(
            json.dumps,
            [
                {"serverUrl": "https://search.example.com/mcp"},
                {"serverCommand": ["npx", "-y", "@acme/tickets-mcp@1.1.0"]},
                {"serverCommand": ["uvx", "mcp-server-time==2026.10.19"]},
            ],
        )
    )
    assert document["deniedMcpServers"] == [
        {"serverCommand": ["npx", "-y", "@acme/tickets-mcp@1.0.0"]},
        {"serverUrl": "https://wx.example.com/mcp"},
    ]
    tools = {
        "search": ["lookup"],
        "tickets": ["close_ticket", "list_tickets"],
        "time": ["convert_time", "get_current_time"],
    }
    assert document["permissions"] == {
        "allow": sorted(
            f"mcp__{server}__{tool}"
            for key, names in tools.items()
            for server in (key, f"plugin_mcp-{key}_{key}")
            for tool in names
        ),
        "deny": [
            "mcp__clock",
            "mcp__plugin_mcp-clock_clock",
            "mcp__weather",
            "mcp__plugin_mcp-weather_weather",
        ],
    }
    assert "hooks" not in document
    assert sorted(written.policy.denied_refs) == sorted(
        [str(servers["tickets-old"]), str(servers["weather"])]
    )


def test_with_guard_adds_the_documented_pre_tool_use_hook(
    catalog: DatabaseCatalog, settings: Settings, servers: dict[str, AssetRef], tmp_path: Path
) -> None:
    path = tmp_path / "managed-settings.json"
    keyring = trusted_keyring(settings)
    written = export_managed_settings(
        catalog,
        path,
        limits=settings.bundle_limits,
        with_guard=True,
        guard_command="/opt/agentreg/bin/agentreg hook guard",
        keyring=keyring,
    )
    document = json.loads(path.read_text())
    assert managed_settings_problems(document) == []
    (digest,) = written.policy.pins["clock"]
    command = (
        "/opt/agentreg/bin/agentreg hook guard --fail closed --trusted-keys "
        f"{shlex.quote(keyring.to_json())} --pin clock={digest}"
    )
    assert document["hooks"] == {
        "PreToolUse": [
            {
                "matcher": GUARD_MATCHER,
                "hooks": [{"type": "command", "command": command, "timeout": 10}],
            }
        ]
    }
    clock = "${CLAUDE_PROJECT_DIR:-.}/.claude/mcp-servers/clock/server.py"
    assert {"serverCommand": ["python", clock, "--zone", "UTC"]} in document["allowedMcpServers"]


def test_with_guard_needs_the_registrys_keys(
    catalog: DatabaseCatalog, settings: Settings, servers: dict[str, AssetRef], tmp_path: Path
) -> None:
    path = tmp_path / "managed-settings.json"
    with pytest.raises(DistributionError, match="needs its public keys"):
        export_managed_settings(catalog, path, limits=settings.bundle_limits, with_guard=True)
    assert not path.exists()


def test_an_existing_file_keeps_what_is_not_the_registrys(
    catalog: DatabaseCatalog, settings: Settings, servers: dict[str, AssetRef], tmp_path: Path
) -> None:
    bash_hook = {"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}
    old_guard = {
        "matcher": "Skill",
        "hooks": [{"type": "command", "command": "agentreg hook guard"}],
    }
    path = tmp_path / "managed-settings.json"
    path.write_text(
        json.dumps(
            {
                "model": "opus",
                "permissions": {
                    "allow": [
                        "Bash(npm test)",
                        "mcp__time__removed_tool",
                        "mcp__github__search",
                        "mcp__plugin_mcp-time_time__removed_tool",
                    ],
                    "deny": ["Read(./.env)", "mcp__tickets"],
                    "defaultMode": "default",
                },
                "hooks": {"PreToolUse": [bash_hook, old_guard]},
            }
        )
    )
    export_managed_settings(
        catalog,
        path,
        limits=settings.bundle_limits,
        with_guard=True,
        keyring=trusted_keyring(settings),
    )

    document = json.loads(path.read_text())
    assert document["model"] == "opus"
    permissions = document["permissions"]
    assert permissions["defaultMode"] == "default"
    assert permissions["allow"][:2] == ["Bash(npm test)", "mcp__github__search"]
    assert "mcp__time__removed_tool" not in permissions["allow"]
    assert "mcp__plugin_mcp-time_time__removed_tool" not in permissions["allow"]
    assert permissions["deny"] == [
        "Read(./.env)",
        "mcp__weather",
        "mcp__plugin_mcp-weather_weather",
    ]
    groups = document["hooks"]["PreToolUse"]
    assert groups[0] == bash_hook and len(groups) == 2
    assert groups[1]["matcher"] == GUARD_MATCHER


def test_a_file_that_is_not_a_json_object_is_not_overwritten(
    catalog: DatabaseCatalog, settings: Settings, servers: dict[str, AssetRef], tmp_path: Path
) -> None:
    path = tmp_path / "managed-settings.json"
    path.write_text("{not json")
    with pytest.raises(DistributionError, match="cannot be read as JSON"):
        export_managed_settings(catalog, path, limits=settings.bundle_limits)
    assert path.read_text() == "{not json"
