"""The guard hook inside Claude Code: what the registry refuses does not run.

The managed settings the registry exports (``--with-guard``) are applied where an
administrator puts them; the stand-in then asks, as a model would, for a retired skill
and for a tool the MCP server's scope does not declare. The client runs ``agentreg hook
guard``, does not run the tool, and reports the registry's reason back in its next
request. A published skill and a declared tool run.

The user allows the Skill tool and every tally tool (``--allowedTools``), so the
client's own permission flow would let each call through: only the guard stops one.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.claude_client.client_run import ClaudeClient
from tests.claude_client.messages_stand_in import MessagesStandIn, result_text, say, use
from tests.distribution.seeding import retire, skill_copy
from tests.real_client.conftest import Registry

RELEASE_NOTES_BODY = "Collect the commits"
"""Words from the release-notes skill's body: in the conversation only if the skill ran."""

ALLOW = ("--allowedTools", "Skill", "mcp__tally")
"""What the user lets run without asking."""


def _managed(registry: Registry, tmp_path: Path) -> Path:
    folder = tmp_path / "etc-claude-code"
    folder.mkdir()
    done = registry.agentreg(
        "export", "managed-settings", str(folder / "managed-settings.json"), "--with-guard"
    )
    assert done.code == 0, done.stderr
    return folder


def _only_result(api: MessagesStandIn) -> str:
    """The text of the one tool result the client reported."""
    results = api.messages[-1].tool_results()
    assert len(results) == 1, results
    return result_text(results[0])


def test_a_retired_skill_is_refused_with_the_registry_reason(
    registry: Registry, client: ClaudeClient, api: MessagesStandIn, project: Path, tmp_path: Path
) -> None:
    old = registry.publish(skill_copy(tmp_path, "old-notes", description="Old release notes."))
    assert registry.agentreg("install", str(old), "--into", str(project)).code == 0
    retire(registry.engine, old, replacement=str(registry.refs["skill"]), reason="merged away")
    managed = _managed(registry, tmp_path)
    api.script(use("Skill", {"skill": "old-notes"}), say("Understood."))

    run = client.ask("Draft the release notes.", project=project, managed=managed, args=ALLOW)

    assert run.code == 0, run.stderr
    assert len(api.messages) == 2
    denial = _only_result(api)
    assert "old-notes" in denial and "retired" in denial, denial
    assert "merged away" in denial and str(registry.refs["skill"]) in denial, denial
    assert RELEASE_NOTES_BODY not in api.messages[-1].text()
    assert [d["tool_name"] for d in run.result["permission_denials"]] == ["Skill"]


def test_a_published_skill_runs_under_the_guard(
    registry: Registry, client: ClaudeClient, api: MessagesStandIn, project: Path, tmp_path: Path
) -> None:
    assert (
        registry.agentreg("install", str(registry.refs["skill"]), "--into", str(project)).code == 0
    )
    managed = _managed(registry, tmp_path)
    api.script(use("Skill", {"skill": "release-notes"}), say("Drafted."))

    run = client.ask("Draft the release notes.", project=project, managed=managed, args=ALLOW)

    assert run.code == 0, run.stderr
    assert run.result["permission_denials"] == []
    assert RELEASE_NOTES_BODY in api.messages[-1].text(), "the skill's instructions never loaded"


def test_an_undeclared_mcp_tool_does_not_run_and_a_declared_one_does(
    registry: Registry, client: ClaudeClient, api: MessagesStandIn, project: Path, tmp_path: Path
) -> None:
    assert registry.agentreg("install", str(registry.refs["mcp"]), "--into", str(project)).code == 0
    managed = _managed(registry, tmp_path)
    api.script(
        use("mcp__tally__erase_notes", {}),
        use("mcp__tally__count_words", {"text": "three little words"}),
        say("Counted."),
    )

    run = client.ask(
        "Tidy the notes, then count words.", project=project, managed=managed, args=ALLOW
    )

    assert run.code == 0, run.stderr
    assert len(api.messages) == 3
    denial = result_text(api.messages[1].tool_results()[-1])
    assert "erase_notes" in denial and "declare" in denial, denial
    counted = result_text(api.messages[2].tool_results()[-1])
    assert json.loads(counted) == {"result": 3}, counted
    ran = (project / "tally-ran").read_text().split()
    assert ran == ["count_words"], "the undeclared tool ran"
