"""``agentreg install`` seen from Claude Code: what it installed is what the model is offered."""

from __future__ import annotations

from pathlib import Path

from tests.claude_client.client_run import ClaudeClient
from tests.claude_client.messages_stand_in import MessagesStandIn, say
from tests.real_client.conftest import Registry

AGENTS_HEADING = "Available agent types for the Agent tool:"


def test_an_installed_skill_subagent_and_mcp_server_are_offered_to_the_model(
    registry: Registry, client: ClaudeClient, api: MessagesStandIn, project: Path
) -> None:
    for ref in ("skill", "subagent", "mcp"):
        done = registry.agentreg("install", str(registry.refs[ref]), "--into", str(project))
        assert done.code == 0, done.stderr
    api.script(say("Ready."))

    run = client.ask("What can you use here?", project=project)

    assert run.code == 0, run.stderr
    assert run.result["result"] == "Ready."
    first = api.messages[0]
    skills = first.listed_skills()
    assert skills["release-notes"].startswith("Drafts release notes from the git history")
    text = first.text()
    agents = text.partition(AGENTS_HEADING)[2]
    assert "- code-reviewer: Reviews a diff for correctness, security and readability" in agents
    assert "mcp__tally__count_words" in first.tool_names
    assert (project / "tally-started").exists(), "the installed MCP server never started"


def test_an_empty_project_offers_none_of_them(
    registry: Registry, client: ClaudeClient, api: MessagesStandIn, project: Path
) -> None:
    """The control: the names above come from the install, not from the client itself."""
    run = client.ask("What can you use here?", project=project)

    assert run.code == 0, run.stderr
    first = api.messages[0]
    assert "release-notes" not in first.listed_skills()
    assert "code-reviewer:" not in first.text().partition(AGENTS_HEADING)[2]
    assert not [name for name in first.tool_names if name.startswith("mcp__tally")]
