"""What the install command left in a project, so a use can name its registry version.

Claude Code knows an asset only by its local name (``pdf-report``, the MCP key
``time``). The registry name and version come from a small marker the install command
writes next to what it installed, ``.claude/.agentreg-installed.json``, in the project
or in the user's home (user-level installs)::

    {"format": 1,
     "assets": [{"ref": "skill/pdf-report@1.2.0", "local_name": "pdf-report"},
                {"ref": "mcp-server/io.github.acme/time@1.0.0", "local_name": "time"}]}

Without a marker, a skill or subagent still counts (version unknown) when its files sit
where a registry install puts them; an MCP server does not, because its registry name
cannot be recovered from its key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from agent_registry.assets.refs import AssetKind, AssetRef, InvalidRefError
from agent_registry.distribution.install_marker import MARKER_FORMAT, MARKER_NAME
from agent_registry.usage.hook_input import AssetUse

MAX_MARKER_BYTES = 256 * 1024
"""A marker larger than this is not one the install command wrote; it is ignored."""

MAX_PARENT_LEVELS = 32
"""How far up from the session's directory the project's ``.claude`` is looked for."""


class InstalledAsset(BaseModel):
    """One installed version and the name Claude Code knows it by."""

    ref: str = Field(description="kind/name@version installed")
    local_name: str = Field(description="Skill or subagent name, or the .mcp.json key")


class InstalledMarker(BaseModel):
    """The whole marker file; the install command writes it, the usage hook reads it."""

    format: int = MARKER_FORMAT
    assets: list[InstalledAsset] = Field(default_factory=list)


@dataclass(frozen=True)
class ResolvedAsset:
    """A use's asset as the registry names it.

    Attributes:
        kind: The asset's kind.
        name: Its registry name.
        version: The installed version, or None when no marker names it.
    """

    kind: AssetKind
    name: str
    version: str | None


def claude_dirs(project_dir: Path | None, home: Path | None) -> list[Path]:
    """The ``.claude`` folders that may hold installs: the project's first, then the user's.

    Args:
        project_dir: ``CLAUDE_PROJECT_DIR`` or the session's working directory; the
            nearest parent with a ``.claude`` folder is the project.
        home: The user's home folder.

    Returns:
        Existing ``.claude`` folders, most specific first.
    """
    found: list[Path] = []
    if project_dir is not None:
        for level, folder in enumerate((project_dir, *project_dir.parents)):
            if level > MAX_PARENT_LEVELS:
                break
            candidate = folder / ".claude"
            if candidate.is_dir():
                found.append(candidate)
                break
    if home is not None:
        candidate = home / ".claude"
        if candidate.is_dir() and candidate not in found:
            found.append(candidate)
    return found


def read_marker(claude_dir: Path) -> InstalledMarker | None:
    """The marker in one ``.claude`` folder, or None if absent, too large or unreadable."""
    path = claude_dir / MARKER_NAME
    try:
        if path.stat().st_size > MAX_MARKER_BYTES:
            return None
        return InstalledMarker.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        return None


def resolve(use: AssetUse, dirs: list[Path]) -> ResolvedAsset | None:
    """Name a use's asset as the registry does, or None if it is not a registry install.

    Args:
        use: The asset a call used, by its local name.
        dirs: ``.claude`` folders, most specific first (see :func:`claude_dirs`).

    Returns:
        The registry name and (from a marker) the version; None for assets nothing
        shows came from the registry: built-in subagents, plugin skills, MCP servers
        without a marker.
    """
    for folder in dirs:
        marker = read_marker(folder)
        if marker is None:
            continue
        for entry in marker.assets:
            if entry.local_name != use.local_name:
                continue
            try:
                ref = AssetRef.parse(entry.ref)
            except InvalidRefError:
                continue
            if ref.kind is use.kind:
                return ResolvedAsset(kind=ref.kind, name=ref.name, version=ref.version)
    if use.kind is AssetKind.MCP_SERVER:
        return None
    if any(_installed_files(folder, use).is_file() for folder in dirs):
        return ResolvedAsset(kind=use.kind, name=use.local_name, version=None)
    return None


def _installed_files(claude_dir: Path, use: AssetUse) -> Path:
    """Where a registry install puts a skill or subagent (see ``distribution.naming``)."""
    if use.kind is AssetKind.SKILL:
        return claude_dir / "skills" / use.local_name / "SKILL.md"
    return claude_dir / "agents" / f"{use.local_name}.md"
