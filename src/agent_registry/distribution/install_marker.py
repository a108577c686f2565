"""The marker install leaves in a project: what it put where, and for which version.

Two readers need it. The usage hook names a use's registry version from it (format and
file name are :mod:`agent_registry.usage.installed`'s, which reads only ``ref`` and
``local_name``). Install itself reads the rest to tell an upgrade of its own earlier
install, which it may replace, from files someone else put there or edited, which it
refuses to overwrite without ``--force``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from agent_registry.assets.refs import AssetKind, AssetRef, InvalidRefError
from agent_registry.distribution.files import atomic_write_text

MARKER_NAME = ".agentreg-installed.json"
"""The marker's file name, inside a ``.claude`` folder (the usage hook reads it there)."""

MARKER_FORMAT = 1


class MarkedInstall(BaseModel):
    """One installed version.

    Attributes:
        ref: ``kind/name@version``.
        local_name: The name Claude Code knows it by (skill, subagent, ``.mcp.json`` key).
        content_hash: The version's content hash.
        files: sha256 of each file the install wrote, by path relative to the project.
        mcp_entry: For an MCP server, the ``.mcp.json`` entry the install wrote.
        installed_at: When.
        attestation: The signed publication statement install verified, so
            ``agentreg verify`` can check the files offline later.
    """

    ref: str
    local_name: str
    content_hash: str | None = None
    files: dict[str, str] = Field(default_factory=dict)
    mcp_entry: dict[str, object] | None = None
    installed_at: datetime | None = None
    attestation: str | None = None

    def asset(self) -> tuple[AssetKind, str] | None:
        """``(kind, name)`` of the installed version, or None if the ref is unreadable."""
        try:
            parsed = AssetRef.parse(self.ref)
        except InvalidRefError:
            return None
        return parsed.kind, parsed.name


class InstallMarker(BaseModel):
    """The whole marker file."""

    format: int = MARKER_FORMAT
    assets: list[MarkedInstall] = Field(default_factory=list)

    def find(self, kind: AssetKind, local_name: str) -> MarkedInstall | None:
        """The install that Claude Code knows as ``local_name`` of ``kind``."""
        for entry in self.assets:
            asset = entry.asset()
            if asset is not None and asset[0] is kind and entry.local_name == local_name:
                return entry
        return None

    def replaced_by(self, entry: MarkedInstall) -> InstallMarker:
        """This marker with ``entry`` in place of any install of the same asset or name."""
        kept = [old for old in self.assets if not _same_slot(old, entry)]
        return InstallMarker(format=self.format, assets=[*kept, entry])


def _same_slot(old: MarkedInstall, new: MarkedInstall) -> bool:
    """Whether two installs are of one asset, or claim one local name of one kind."""
    old_asset, new_asset = old.asset(), new.asset()
    if old_asset is None or new_asset is None:
        return old.local_name == new.local_name
    return old_asset == new_asset or (
        old_asset[0] is new_asset[0] and old.local_name == new.local_name
    )


def marker_path(project: Path) -> Path:
    """The marker file of a project."""
    return project / ".claude" / MARKER_NAME


def read_install_marker(project: Path) -> InstallMarker:
    """The project's marker; an empty one when it is missing or unreadable.

    An unreadable marker only costs the upgrade shortcut: without it, install treats
    what it finds as someone else's and asks for ``--force``.
    """
    try:
        return InstallMarker.model_validate(
            json.loads(marker_path(project).read_text(encoding="utf-8"))
        )
    except (OSError, ValueError, ValidationError):
        return InstallMarker()


def write_install_marker(project: Path, marker: InstallMarker) -> None:
    """Save the marker atomically."""
    text = json.dumps(marker.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    atomic_write_text(marker_path(project), text)
