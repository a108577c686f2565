"""Naming a used asset as the registry does, from what the install left in the project."""

from __future__ import annotations

from pathlib import Path

from agent_registry.assets.refs import AssetKind
from agent_registry.distribution.install_marker import MARKER_NAME
from agent_registry.usage.hook_input import AssetUse
from agent_registry.usage.installed import ResolvedAsset, claude_dirs, resolve
from tests.usage.helpers import make_project


def test_marker_gives_registry_name_and_version(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        [
            ("skill/pdf-report@1.2.0", "pdf-report"),
            ("mcp-server/io.github.acme/time@2.0.0", "time"),
        ],
    )
    dirs = claude_dirs(project / "src" / "deep", None)
    assert dirs == [project / ".claude"]
    assert resolve(AssetUse(AssetKind.SKILL, "pdf-report"), dirs) == ResolvedAsset(
        AssetKind.SKILL, "pdf-report", "1.2.0"
    )
    assert resolve(AssetUse(AssetKind.MCP_SERVER, "time", "now"), dirs) == ResolvedAsset(
        AssetKind.MCP_SERVER, "io.github.acme/time", "2.0.0"
    )


def test_without_marker_installed_files_count_with_unknown_version(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / ".claude" / "skills" / "pdf-report").mkdir(parents=True)
    (project / ".claude" / "skills" / "pdf-report" / "SKILL.md").write_text("---\n")
    (project / ".claude" / "agents").mkdir()
    (project / ".claude" / "agents" / "reviewer.md").write_text("---\n")
    dirs = claude_dirs(project, None)
    assert resolve(AssetUse(AssetKind.SKILL, "pdf-report"), dirs) == ResolvedAsset(
        AssetKind.SKILL, "pdf-report", None
    )
    assert resolve(AssetUse(AssetKind.SUBAGENT, "reviewer"), dirs) == ResolvedAsset(
        AssetKind.SUBAGENT, "reviewer", None
    )
    # Built-ins and MCP servers without a marker are not registry installs.
    assert resolve(AssetUse(AssetKind.SUBAGENT, "general-purpose"), dirs) is None
    assert resolve(AssetUse(AssetKind.MCP_SERVER, "time", "now"), dirs) is None


def test_user_level_installs_are_found_in_home(tmp_path: Path) -> None:
    home = make_project(tmp_path, [("subagent/reviewer@0.3.0", "reviewer")])
    dirs = claude_dirs(tmp_path / "elsewhere", home)
    assert resolve(AssetUse(AssetKind.SUBAGENT, "reviewer"), dirs) == ResolvedAsset(
        AssetKind.SUBAGENT, "reviewer", "0.3.0"
    )


def test_corrupt_marker_or_wrong_kind_is_ignored(tmp_path: Path) -> None:
    project = make_project(tmp_path, [("skill/reviewer@1.0.0", "reviewer")])
    dirs = claude_dirs(project, None)
    assert resolve(AssetUse(AssetKind.SUBAGENT, "reviewer"), dirs) is None
    (project / ".claude" / MARKER_NAME).write_text("{not json")
    assert resolve(AssetUse(AssetKind.SKILL, "reviewer"), dirs) is None
