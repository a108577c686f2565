"""Import drafts: one folder per upstream version, ready to submit once its scope is confirmed.

A draft is an ordinary MCP server folder (``server.json``, ``scope.yaml`` and the
``agentreg.yaml`` sidecar), laid out as ``<root>/<namespace>/<version>/<name>/`` so
that the folder, and therefore the bundle, is named after the server as a hand-made
submission would be. ``server.json`` is the upstream document exactly as served.

A draft is written whole or not at all (into a temporary folder, then renamed), and
an existing draft is never overwritten: its ``scope.yaml`` may hold the submitter's
confirmation. A draft whose ``server.json`` no longer matches the upstream document
is refused rather than submitted, since the reviewed scope was for other content.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent_registry.assets.kinds import SCOPE_FILE, SERVER_FILE
from agent_registry.mcp_registry.scope_proposal import is_confirmed

SIDECAR = "agentreg.yaml"


class DraftError(ValueError):
    """A draft that cannot be used as it is; the message names its folder and why."""


@dataclass(frozen=True)
class Draft:
    """One draft folder and where it stands.

    Attributes:
        folder: The MCP server folder to submit.
        name: The server name.
        version: The server version.
        confirmed: Whether its ``scope.yaml`` was confirmed.
        written: Whether this run wrote it (False: it was there already).
    """

    folder: Path
    name: str
    version: str
    confirmed: bool
    written: bool


def draft_folder(root: Path, name: str, version: str) -> Path:
    """Where the draft of ``name`` at ``version`` lives under ``root``.

    The parts come from an upstream registry, and the published schema lets a name
    part be ``..``: every part must be a plain folder name, so that no draft is ever
    written outside ``root``.

    Raises:
        DraftError: A part is empty, ``.`` or ``..``, or holds a path separator or NUL.
    """
    namespace, _, short = name.partition("/")
    for part in (namespace, short, version):
        if part in ("", ".", "..") or any(c in part for c in ("/", "\\", "\x00")):
            raise DraftError(
                f"{name} {version}: {part!r} cannot name a draft folder; nothing was written"
            )
    return root / namespace / version / short


def server_text(server: dict[str, Any]) -> str:
    """``server.json`` as the draft holds it: the document, indented, key order kept."""
    return json.dumps(server, indent=2, ensure_ascii=False) + "\n"


def write_draft(
    root: Path,
    *,
    name: str,
    version: str,
    server: dict[str, Any],
    scope_text: str,
    team: str | None,
    changelog: str,
) -> Draft:
    """Write the draft of one version, unless it exists (then it is checked and kept).

    Raises:
        DraftError: An existing draft holds another ``server.json``.
    """
    folder = draft_folder(root, name, version)
    if folder.exists():
        return read_draft(root, name=name, version=version, server=server)
    sidecar: dict[str, object] = {"changelog": changelog}
    if team:
        sidecar["owner-team"] = team
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".draft-", dir=folder.parent))
    try:
        (staging / SERVER_FILE).write_text(server_text(server), encoding="utf-8")
        (staging / SCOPE_FILE).write_text(scope_text, encoding="utf-8")
        (staging / SIDECAR).write_text(yaml.safe_dump(sidecar, sort_keys=False), encoding="utf-8")
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Draft(folder, name, version, confirmed=is_confirmed(scope_text), written=True)


def read_draft(root: Path, *, name: str, version: str, server: dict[str, Any]) -> Draft:
    """The existing draft of one version, checked against the upstream ``server.json``.

    Raises:
        DraftError: There is no draft, it lacks a file, or its ``server.json`` differs.
    """
    folder = draft_folder(root, name, version)
    if not folder.is_dir():
        raise DraftError(f"no draft of {name} {version} at {folder}; run without --submit first")
    try:
        held = json.loads((folder / SERVER_FILE).read_text(encoding="utf-8"))
        scope_text = (folder / SCOPE_FILE).read_text(encoding="utf-8")
    except (OSError, ValueError) as error:
        raise DraftError(f"the draft at {folder} cannot be read: {error}") from None
    if held != server:
        raise DraftError(
            f"the draft at {folder} holds another server.json than {name} {version} "
            "upstream; move it away and import again"
        )
    return Draft(folder, name, version, confirmed=is_confirmed(scope_text), written=False)
