"""Asset folders around the test servers, loaded with the real loader."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.assets.parsed import ParsedAsset

SERVERS = Path(__file__).parent / "servers"

READ_TOOLS: list[dict[str, Any]] = [
    {"name": "search_notes", "effects": ["read"]},
    {"name": "get_note", "effects": ["read"]},
]


def bundled_server(
    folder: Path,
    script: str,
    *,
    tools: list[dict[str, Any]],
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    version: str = "1.0.0",
) -> ParsedAsset:
    """An MCP server folder shipping ``script`` as server.py, started by scope.yaml's launch."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SERVERS / script, folder / "server.py")
    server = {
        "name": "io.github.acme/notes",
        "description": "Search and read the team's notes.",
        "version": version,
    }
    (folder / "server.json").write_text(json.dumps(server, indent=2) + "\n")
    launch: dict[str, Any] = {"command": "python", "args": ["server.py", *(args or [])]}
    if env:
        launch["env"] = env
    scope = {"tools": tools, "launch": launch}
    (folder / "scope.yaml").write_text(yaml.safe_dump(scope, sort_keys=False))
    (folder / "agentreg.yaml").write_text("owner-team: platform\n")
    return load_path(folder, limits=BundleLimits())


def process_gone(pid: int) -> bool:
    """No such process, or only a zombie left for an absent init to reap."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}
