"""Managed settings, applied as an administrator applies them, decide which servers start.

The registry's export (``--with-guard``: a server that runs its own files is allowed
only with the guard checking them) is placed at ``/etc/claude-code/managed-settings.json``
as the client sees it. The project's ``.mcp.json`` holds the published tally server (installed
by ``agentreg install``) and a server the registry never saw, added by hand: the client
starts the first and not the second. Without the managed settings both start, which
shows the difference is the export's doing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.claude_client.client_run import ClaudeClient
from tests.claude_client.messages_stand_in import MessagesStandIn, say
from tests.real_client.conftest import SERVERS, Registry


def _add_unlisted_server(project: Path) -> None:
    """A server entry added to the project by hand: same code, not in the registry."""
    shutil.copy(SERVERS / "tally.py", project / "rogue.py")
    config_file = project / ".mcp.json"
    config = json.loads(config_file.read_text())
    config["mcpServers"]["rogue"] = {
        "type": "stdio",
        "command": "python",
        "args": ["rogue.py", "--mark", "rogue"],
    }
    config_file.write_text(json.dumps(config, indent=2))


def _prepared(registry: Registry, project: Path, tmp_path: Path) -> Path:
    assert registry.agentreg("install", str(registry.refs["mcp"]), "--into", str(project)).code == 0
    _add_unlisted_server(project)
    managed = tmp_path / "etc-claude-code"
    managed.mkdir()
    target = managed / "managed-settings.json"
    done = registry.agentreg("export", "managed-settings", str(target), "--with-guard")
    assert done.code == 0, done.stderr
    return managed


def test_only_the_published_server_starts_under_the_managed_settings(
    registry: Registry, client: ClaudeClient, api: MessagesStandIn, project: Path, tmp_path: Path
) -> None:
    managed = _prepared(registry, project, tmp_path)
    api.script(say("Ready."))

    run = client.ask("Which tools do you have?", project=project, managed=managed)

    assert run.code == 0, run.stderr
    tools = api.messages[0].tool_names
    assert "mcp__tally__count_words" in tools
    assert not [t for t in tools if t.startswith("mcp__rogue")], tools
    assert (project / "tally-started").exists(), "the published server did not start"
    assert not (project / "rogue-started").exists(), "a server not in the registry started"


def test_without_the_managed_settings_both_start(
    registry: Registry, client: ClaudeClient, api: MessagesStandIn, project: Path, tmp_path: Path
) -> None:
    _prepared(registry, project, tmp_path)
    api.script(say("Ready."))

    run = client.ask("Which tools do you have?", project=project)

    assert run.code == 0, run.stderr
    tools = api.messages[0].tool_names
    assert {"mcp__tally__count_words", "mcp__rogue__count_words"} <= set(tools)
    assert (project / "rogue-started").exists()
