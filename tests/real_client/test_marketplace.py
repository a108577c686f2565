"""``agentreg export marketplace`` read by the client's own plugin commands.

The client adds the exported folder as a marketplace and installs plugins from it
(``claude plugin marketplace add``, ``claude plugin install``), then offers the model
what those plugins carry: the skill under its plugin-qualified name, and the MCP
server's tools under the plugin form the managed-settings export writes rules for.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.claude_client.client_run import ClaudeClient
from tests.claude_client.messages_stand_in import MessagesStandIn, say
from tests.real_client.conftest import Registry


def _added_marketplace(registry: Registry, client: ClaudeClient, tmp_path: Path) -> str:
    market = tmp_path / "registry-marketplace"
    exported = registry.agentreg("export", "marketplace", str(market))
    assert exported.code == 0, exported.stderr
    name = json.loads((market / ".claude-plugin" / "marketplace.json").read_text())["name"]
    added = client.command("plugin", "marketplace", "add", str(market), cwd=tmp_path)
    assert added.code == 0, added.stdout + added.stderr
    return str(name)


def test_plugins_installed_from_the_exported_marketplace_are_offered(
    registry: Registry, client: ClaudeClient, api: MessagesStandIn, project: Path, tmp_path: Path
) -> None:
    market = _added_marketplace(registry, client, tmp_path)
    for plugin in ("skill-release-notes", "mcp-tally"):
        installed = client.command("plugin", "install", f"{plugin}@{market}", cwd=project)
        assert installed.code == 0, installed.stdout + installed.stderr
    api.script(say("Ready."))

    run = client.ask("What can you use here?", project=project)

    assert run.code == 0, run.stderr
    skills = api.messages[0].listed_skills()
    description = skills.get("skill-release-notes:release-notes", "")
    assert description.startswith("Drafts release notes from the git history"), skills
    assert "mcp__plugin_mcp-tally_tally__count_words" in api.messages[0].tool_names


def test_an_added_marketplace_alone_offers_nothing(
    registry: Registry, client: ClaudeClient, api: MessagesStandIn, project: Path, tmp_path: Path
) -> None:
    """The control: the skill comes from the plugin install, not from adding the market."""
    _added_marketplace(registry, client, tmp_path)

    run = client.ask("What can you use here?", project=project)

    assert run.code == 0, run.stderr
    assert not [s for s in api.messages[0].listed_skills() if "release-notes" in s]
