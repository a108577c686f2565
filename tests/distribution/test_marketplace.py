"""The marketplace export, checked against Claude Code's documented marketplace shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from agent_registry.assets.refs import AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.config import Settings
from agent_registry.distribution.errors import BundleMismatchError
from agent_registry.distribution.marketplace import export_marketplace
from agent_registry.registry.tables import Blob
from tests.distribution.claude_code_shapes import marketplace_problems
from tests.distribution.seeding import deprecate, retire, seed, shipped_server, skill_copy
from tests.support import EXAMPLES


def _subagent_copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / "agents" / f"{name}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    text = (EXAMPLES / "subagents" / "code-reviewer.md").read_text()
    target.write_text(text.replace("name: code-reviewer", f"name: {name}"))
    (target.parent / f"{name}.agentreg.yaml").write_text("owner-team: platform\nversion: 1.0.0\n")
    return target


def _read(root: Path) -> dict[str, object]:
    data = json.loads((root / ".claude-plugin" / "marketplace.json").read_text())
    assert isinstance(data, dict)
    return data


def _entries(root: Path) -> dict[str, dict[str, object]]:
    plugins = _read(root)["plugins"]
    assert isinstance(plugins, list)
    return {str(entry["name"]): entry for entry in plugins}


def test_every_published_asset_becomes_a_plugin_of_the_documented_shape(
    catalog: DatabaseCatalog,
    settings: Settings,
    published: dict[str, AssetRef],
    sqlite_engine: Engine,
    tmp_path: Path,
) -> None:
    seed(sqlite_engine, settings, shipped_server(tmp_path))
    root = tmp_path / "marketplace"
    written = export_marketplace(catalog, root, limits=settings.bundle_limits)

    assert marketplace_problems(root) == []
    assert set(written.plugins) == {
        "skill-release-notes",
        "agent-code-reviewer",
        "mcp-time",
        "mcp-clock",
    }
    data = _read(root)
    assert data["name"] == "agent-registry" and data["owner"] == {"name": "Agent Registry"}
    assert "renames" not in data
    plugins = root / "plugins"
    skill = plugins / "skill-release-notes"
    assert (skill / "skills" / "release-notes" / "SKILL.md").is_file()
    assert (skill / "skills" / "release-notes" / "scripts" / "collect_commits.py").is_file()
    assert (plugins / "agent-code-reviewer" / "agents" / "code-reviewer.md").read_bytes() == (
        EXAMPLES / "subagents" / "code-reviewer.md"
    ).read_bytes()
    time_config = json.loads((plugins / "mcp-time" / ".mcp.json").read_text())
    assert time_config == {
        "mcpServers": {
            "time": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time==2026.10.19"]}
        }
    }
    clock_config = json.loads((plugins / "mcp-clock" / ".mcp.json").read_text())
    assert (
        clock_config["mcpServers"]["clock"]["args"][0] == "${CLAUDE_PLUGIN_ROOT}/server/server.py"
    )
    assert (plugins / "mcp-clock" / "server" / "server.py").is_file()
    manifest = json.loads((skill / ".claude-plugin" / "plugin.json").read_text())
    assert manifest["name"] == "skill-release-notes"
    assert manifest["version"] == "1.0.0"
    assert manifest["author"] == {"name": "developer-experience"}
    assert manifest["license"] == "Apache-2.0"
    assert "metadata" not in manifest
    registry = json.loads((skill / "agentreg.json").read_text())
    assert registry["ref"] == str(published["skill"]) and registry["stage"] == "Published"
    entry = _entries(root)["skill-release-notes"]
    assert entry["source"] == "./plugins/skill-release-notes"
    assert "version" not in entry
    assert entry["category"] == "skill"


def test_deprecated_assets_are_marked_and_retired_ones_renamed_to_their_replacement(
    catalog: DatabaseCatalog,
    settings: Settings,
    published: dict[str, AssetRef],
    sqlite_engine: Engine,
    tmp_path: Path,
) -> None:
    old_notes = seed(sqlite_engine, settings, skill_copy(tmp_path, "old-notes"))
    deprecate(sqlite_engine, old_notes, replacement=str(published["skill"]), reason="merged")
    legacy = seed(sqlite_engine, settings, skill_copy(tmp_path, "legacy-notes"))
    retire(sqlite_engine, legacy, replacement=str(old_notes))
    ancient = seed(sqlite_engine, settings, _subagent_copy(tmp_path, "ancient-reviewer"))
    retire(sqlite_engine, ancient, replacement=None)

    root = tmp_path / "marketplace"
    written = export_marketplace(catalog, root, limits=settings.bundle_limits)

    assert marketplace_problems(root) == []
    assert written.deprecated == ["skill-old-notes"]
    entry = _entries(root)["skill-old-notes"]
    assert entry["displayName"] == "old-notes (deprecated)"
    assert str(entry["description"]).startswith(
        f"DEPRECATED (use {published['skill']}; retires 2099-01-01). "
    )
    assert "deprecated" in entry["tags"]  # type: ignore[operator]
    assert "metadata" not in entry
    facts = json.loads((root / "plugins" / "skill-old-notes" / "agentreg.json").read_text())[
        "deprecated"
    ]
    assert facts == {
        "reason": "merged",
        "replacement": str(published["skill"]),
        "sunsetAt": "2099-01-01T00:00:00+00:00",
    }
    assert _read(root)["renames"] == {
        "agent-ancient-reviewer": None,
        "skill-legacy-notes": "skill-old-notes",
    }
    assert "skill-legacy-notes" not in written.plugins


def test_a_bad_bundle_aborts_and_leaves_the_previous_export(
    catalog: DatabaseCatalog,
    settings: Settings,
    published: dict[str, AssetRef],
    sqlite_engine: Engine,
    tmp_path: Path,
) -> None:
    root = tmp_path / "marketplace"
    export_marketplace(catalog, root, limits=settings.bundle_limits)
    before = (root / ".claude-plugin" / "marketplace.json").read_text()
    (root / "README.md").write_text("ours")

    digest = catalog.show(str(published["subagent"])).content_hash
    with Session(sqlite_engine) as session:
        blob = session.get(Blob, digest)
        assert blob is not None
        blob.data = blob.data.replace(b"senior", b"junior")
        session.add(blob)
        session.commit()
    with pytest.raises(BundleMismatchError):
        export_marketplace(catalog, root, limits=settings.bundle_limits)

    assert (root / ".claude-plugin" / "marketplace.json").read_text() == before
    assert sorted(p.name for p in root.iterdir()) == [".claude-plugin", "README.md", "plugins"]


def test_a_later_export_replaces_plugins_that_left_the_catalog(
    catalog: DatabaseCatalog,
    settings: Settings,
    published: dict[str, AssetRef],
    sqlite_engine: Engine,
    tmp_path: Path,
) -> None:
    root = tmp_path / "marketplace"
    export_marketplace(catalog, root, limits=settings.bundle_limits)
    retire(sqlite_engine, published["subagent"], replacement=None)

    written = export_marketplace(catalog, root, limits=settings.bundle_limits, name="acme-tools")

    assert marketplace_problems(root) == []
    assert not (root / "plugins" / "agent-code-reviewer").exists()
    assert written.renames == {"agent-code-reviewer": None}
    assert _read(root)["name"] == "acme-tools"
