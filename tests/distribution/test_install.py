"""Installing published versions into a project, from a registry seeded through the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent_registry.assets.refs import AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import CatalogNotFoundError, InstallEvent
from agent_registry.cli.distribution import record_install
from agent_registry.config import Settings
from agent_registry.distribution.errors import (
    BundleMismatchError,
    ConflictError,
    NotInstallableError,
)
from agent_registry.distribution.install import InstallOutcome, install_version
from agent_registry.registry.tables import Blob, InstallEventRow
from agent_registry.signing.trust import trusted_keyring
from agent_registry.usage.installed import read_marker
from tests.distribution.seeding import (
    deprecate,
    retire,
    seed,
    shipped_server,
    skill_copy,
)
from tests.support import EXAMPLES

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _install(
    catalog: DatabaseCatalog, settings: Settings, ref: str, project: Path, *, force: bool = False
) -> InstallOutcome:
    return install_version(
        catalog,
        ref,
        project=project,
        limits=settings.bundle_limits,
        now=NOW,
        force=force,
        keyring=trusted_keyring(settings),
    )


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


# --- each kind ------------------------------------------------------------------------


def test_a_skill_becomes_a_folder_under_claude_skills(
    catalog: DatabaseCatalog, settings: Settings, published: dict[str, AssetRef], project: Path
) -> None:
    outcome = _install(catalog, settings, str(published["skill"]), project)

    skill = project / ".claude" / "skills" / "release-notes"
    assert (skill / "SKILL.md").read_bytes() == (
        EXAMPLES / "skills" / "release-notes" / "SKILL.md"
    ).read_bytes()
    assert (skill / "scripts" / "collect_commits.py").is_file()
    assert (skill / "references" / "style-guide.md").is_file()
    assert not (skill / "agentreg.yaml").exists()
    assert outcome.written == (".claude/skills/release-notes",)
    assert outcome.local_name == "release-notes" and outcome.warnings == ()


def test_a_subagent_becomes_one_markdown_file_under_claude_agents(
    catalog: DatabaseCatalog, settings: Settings, published: dict[str, AssetRef], project: Path
) -> None:
    _install(catalog, settings, "subagent/code-reviewer", project)

    agent = project / ".claude" / "agents" / "code-reviewer.md"
    assert agent.read_bytes() == (EXAMPLES / "subagents" / "code-reviewer.md").read_bytes()
    assert _tree(project / ".claude" / "agents") == ["code-reviewer.md"]


def test_an_mcp_server_package_becomes_a_pinned_mcp_json_entry(
    catalog: DatabaseCatalog, settings: Settings, published: dict[str, AssetRef], project: Path
) -> None:
    _install(catalog, settings, str(published["mcp"]), project)

    config = json.loads((project / ".mcp.json").read_text())
    assert config == {
        "mcpServers": {
            "time": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time==2026.10.19"]}
        }
    }
    assert not (project / ".claude" / "mcp-servers").exists()


def test_the_mcp_entry_is_merged_with_the_servers_already_configured(
    catalog: DatabaseCatalog, settings: Settings, published: dict[str, AssetRef], project: Path
) -> None:
    theirs = {"type": "http", "url": "https://mcp.example.com/mcp"}
    (project / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"notion": theirs}, "comment": "kept"})
    )
    _install(catalog, settings, str(published["mcp"]), project)

    config = json.loads((project / ".mcp.json").read_text())
    assert config["comment"] == "kept"
    assert config["mcpServers"]["notion"] == theirs
    assert config["mcpServers"]["time"]["command"] == "uvx"


def test_a_bundle_shipped_server_is_copied_and_its_entry_points_at_the_copy(
    catalog: DatabaseCatalog,
    settings: Settings,
    sqlite_engine: Engine,
    tmp_path: Path,
    project: Path,
) -> None:
    ref = seed(sqlite_engine, settings, shipped_server(tmp_path))
    _install(catalog, settings, str(ref), project)

    copy = project / ".claude" / "mcp-servers" / "clock"
    assert (copy / "server.py").read_text() == "print('clock')\n"
    assert (copy / "server.json").is_file() and (copy / "scope.yaml").is_file()
    entry = json.loads((project / ".mcp.json").read_text())["mcpServers"]["clock"]
    assert entry == {
        "type": "stdio",
        "command": "python",
        "args": ["${CLAUDE_PROJECT_DIR:-.}/.claude/mcp-servers/clock/server.py", "--zone", "UTC"],
        "env": {"CLOCK_FORMAT": "iso"},
    }


def test_install_leaves_the_marker_the_usage_hook_reads(
    catalog: DatabaseCatalog, settings: Settings, published: dict[str, AssetRef], project: Path
) -> None:
    for ref in published.values():
        _install(catalog, settings, str(ref), project)

    marker = read_marker(project / ".claude")
    assert marker is not None
    assert {(a.ref, a.local_name) for a in marker.assets} == {
        (str(published["skill"]), "release-notes"),
        (str(published["subagent"]), "code-reviewer"),
        (str(published["mcp"]), "time"),
    }


# --- the install count ----------------------------------------------------------------


def test_the_install_is_counted_with_team_and_user(
    catalog: DatabaseCatalog,
    settings: Settings,
    published: dict[str, AssetRef],
    project: Path,
    sqlite_engine: Engine,
) -> None:
    outcome = _install(catalog, settings, str(published["skill"]), project)
    assert record_install(catalog, outcome, team="docs", user="dana", now=NOW) is None

    with Session(sqlite_engine) as session:
        rows = session.exec(select(InstallEventRow)).all()
    assert [(r.kind, r.name, r.version, r.team, r.user_name) for r in rows] == [
        ("skill", "release-notes", "1.0.0", "docs", "dana")
    ]


def test_a_count_that_fails_is_a_warning_not_a_failed_install(
    catalog: DatabaseCatalog, settings: Settings, published: dict[str, AssetRef], project: Path
) -> None:
    class Unreachable(DatabaseCatalog):
        def record_install(self, event: InstallEvent) -> None:
            raise ConnectionError("registry API unreachable")

    broken = Unreachable(catalog._engine)
    outcome = _install(broken, settings, str(published["skill"]), project)
    problem = record_install(broken, outcome, team=None, user="dana", now=NOW)

    assert problem is not None and "not counted" in problem and "unreachable" in problem
    assert (project / ".claude" / "skills" / "release-notes" / "SKILL.md").is_file()


# --- what is refused ------------------------------------------------------------------


def test_a_bundle_that_does_not_hash_to_the_content_hash_is_refused_and_nothing_written(
    catalog: DatabaseCatalog,
    settings: Settings,
    published: dict[str, AssetRef],
    project: Path,
) -> None:
    class Swapped(DatabaseCatalog):
        """Serves the subagent's archive for every hash: bytes from the wrong place."""

        def bundle(self, content_hash: str) -> bytes:
            return super().bundle(catalog.show(str(published["subagent"])).content_hash)

    with pytest.raises(BundleMismatchError, match="not the reviewed content"):
        _install(Swapped(catalog._engine), settings, str(published["skill"]), project)
    assert _tree(project) == []


def test_bytes_damaged_in_storage_are_refused_and_nothing_written(
    catalog: DatabaseCatalog,
    settings: Settings,
    published: dict[str, AssetRef],
    project: Path,
    sqlite_engine: Engine,
) -> None:
    digest = catalog.show(str(published["mcp"])).content_hash
    with Session(sqlite_engine) as session:
        blob = session.get(Blob, digest)
        assert blob is not None
        blob.data = blob.data.replace(b"uvx", b"sh ")
        session.add(blob)
        session.commit()

    with pytest.raises(BundleMismatchError, match=digest[:12]):
        _install(catalog, settings, str(published["mcp"]), project)
    assert _tree(project) == []


def test_a_retired_version_is_refused_naming_its_replacement(
    catalog: DatabaseCatalog,
    settings: Settings,
    published: dict[str, AssetRef],
    sqlite_engine: Engine,
    tmp_path: Path,
    project: Path,
) -> None:
    successor = seed(sqlite_engine, settings, skill_copy(tmp_path, "release-notes-v2"))
    retire(sqlite_engine, published["skill"], replacement=str(successor), reason="too slow")

    with pytest.raises(NotInstallableError) as refused:
        _install(catalog, settings, str(published["skill"]), project)
    message = str(refused.value)
    assert "retired" in message and "too slow" in message
    assert f"install {successor} instead" in message
    assert _tree(project) == []


def test_a_deprecated_version_installs_with_a_warning_naming_replacement_and_sunset(
    catalog: DatabaseCatalog,
    settings: Settings,
    published: dict[str, AssetRef],
    sqlite_engine: Engine,
    tmp_path: Path,
    project: Path,
) -> None:
    successor = seed(sqlite_engine, settings, skill_copy(tmp_path, "release-notes-v2"))
    deprecate(sqlite_engine, published["skill"], replacement=str(successor))

    outcome = _install(catalog, settings, str(published["skill"]), project)

    assert len(outcome.warnings) == 1
    assert f"use {successor}" in outcome.warnings[0]
    assert "retires on 2099-01-01" in outcome.warnings[0]
    assert (project / ".claude" / "skills" / "release-notes" / "SKILL.md").is_file()


def test_an_unknown_version_is_not_found(
    catalog: DatabaseCatalog, settings: Settings, published: dict[str, AssetRef], project: Path
) -> None:
    with pytest.raises(CatalogNotFoundError):
        _install(catalog, settings, "skill/release-notes@9.9.9", project)
    assert _tree(project) == []


# --- what is already there ------------------------------------------------------------


def test_installing_the_same_version_again_changes_nothing(
    catalog: DatabaseCatalog, settings: Settings, published: dict[str, AssetRef], project: Path
) -> None:
    _install(catalog, settings, str(published["skill"]), project)
    again = _install(catalog, settings, str(published["skill"]), project)
    assert again.unchanged and again.written == ()


def test_someone_elses_skill_is_not_overwritten_without_force(
    catalog: DatabaseCatalog, settings: Settings, published: dict[str, AssetRef], project: Path
) -> None:
    theirs = project / ".claude" / "skills" / "release-notes"
    theirs.mkdir(parents=True)
    (theirs / "SKILL.md").write_text("---\nname: release-notes\ndescription: mine\n---\n")

    with pytest.raises(ConflictError, match="--force"):
        _install(catalog, settings, str(published["skill"]), project)
    assert (theirs / "SKILL.md").read_text().endswith("description: mine\n---\n")

    forced = _install(catalog, settings, str(published["skill"]), project, force=True)
    assert forced.written == (".claude/skills/release-notes",)
    assert (theirs / "scripts" / "collect_commits.py").is_file()
    assert "description: mine" not in (theirs / "SKILL.md").read_text()


def test_another_servers_mcp_key_is_not_overwritten_without_force(
    catalog: DatabaseCatalog, settings: Settings, published: dict[str, AssetRef], project: Path
) -> None:
    other = {"command": "node", "args": ["time-server.js"]}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"time": other}}))

    with pytest.raises(ConflictError, match="'time'"):
        _install(catalog, settings, str(published["mcp"]), project)
    assert json.loads((project / ".mcp.json").read_text())["mcpServers"]["time"] == other


def test_a_newer_version_with_the_same_files_only_updates_the_marker(
    catalog: DatabaseCatalog,
    settings: Settings,
    published: dict[str, AssetRef],
    sqlite_engine: Engine,
    project: Path,
) -> None:
    _install(catalog, settings, str(published["subagent"]), project)
    newer = seed(
        sqlite_engine, settings, EXAMPLES / "subagents" / "code-reviewer.md", version="1.1.0"
    )
    same = catalog.show(str(published["subagent"])).content_hash
    assert catalog.show(str(newer)).content_hash == same

    outcome = _install(catalog, settings, str(newer), project)
    marker = read_marker(project / ".claude")
    assert marker is not None
    assert [a.ref for a in marker.assets] == [str(newer)]
    assert outcome.unchanged


def test_an_upgrade_replaces_unedited_files_but_not_edited_ones(
    catalog: DatabaseCatalog,
    settings: Settings,
    sqlite_engine: Engine,
    tmp_path: Path,
    project: Path,
) -> None:
    first = seed(sqlite_engine, settings, skill_copy(tmp_path, "notes", description="First."))
    second_path = tmp_path / "second"
    second_path.mkdir()
    second = seed(
        sqlite_engine,
        settings,
        skill_copy(second_path, "notes", description="Second."),
        version="2.0.0",
    )
    _install(catalog, settings, str(first), project)
    upgraded = _install(catalog, settings, str(second), project)
    assert upgraded.previous == str(first)
    skill = project / ".claude" / "skills" / "notes" / "SKILL.md"
    assert "Second." in skill.read_text()

    skill.write_text(skill.read_text() + "\nmy own note\n")
    with pytest.raises(ConflictError, match="local changes"):
        _install(catalog, settings, str(first), project)
    assert "my own note" in skill.read_text()
