from __future__ import annotations

import pytest

from agent_registry.evals import scope
from agent_registry.vocabulary.findings import Finding, Severity

from .builders import DEFAULT_SERVER, DEFAULT_SKILL, DEFAULT_SUBAGENT, mcp_server, skill, subagent


def ids(findings: list[Finding]) -> list[str]:
    return [f.check_id for f in findings]


def without(mapping: dict[str, object], key: str) -> dict[str, object]:
    return {k: v for k, v in mapping.items() if k != key}


def test_clean_assets_have_no_scope_findings() -> None:
    assert scope.check(skill()) == []
    assert scope.check(subagent()) == []
    assert scope.check(mcp_server()) == []


def test_subagent_without_tools_inherits_everything() -> None:
    asset = subagent(frontmatter=without(DEFAULT_SUBAGENT, "tools"))
    [finding] = scope.check(asset)
    assert finding.check_id == "scope.tools-inherited"
    assert finding.severity is Severity.WARN
    assert (finding.file, finding.field) == ("code-reviewer.md", "tools")
    assert finding.fix is not None
    assert "tools:" in finding.fix


def test_bypass_permissions_blocks_at_its_line() -> None:
    asset = subagent(frontmatter={**DEFAULT_SUBAGENT, "permissionMode": "bypassPermissions"})
    [finding] = scope.check(asset)
    assert finding.check_id == "scope.bypass-permissions"
    assert finding.severity is Severity.BLOCK
    assert (finding.file, finding.line) == ("code-reviewer.md", 5)


def test_other_permission_modes_are_fine() -> None:
    asset = subagent(frontmatter={**DEFAULT_SUBAGENT, "permissionMode": "acceptEdits"})
    assert scope.check(asset) == []


@pytest.mark.parametrize("shell", ["Bash", "Bash(*)", "Bash(*:*)"])
def test_unrestricted_shell_in_skill_allowed_tools(shell: str) -> None:
    asset = skill(frontmatter={**DEFAULT_SKILL, "allowed-tools": ["Read", shell]})
    [finding] = scope.check(asset)
    assert finding.check_id == "scope.unrestricted-shell"
    assert finding.severity is Severity.WARN
    assert f"'{shell}'" in finding.message
    assert (finding.file, finding.line) == ("SKILL.md", 4)


def test_unrestricted_shell_in_subagent_tools_string() -> None:
    asset = subagent(frontmatter={**DEFAULT_SUBAGENT, "tools": "Read, Bash"})
    [finding] = scope.check(asset)
    assert (finding.check_id, finding.line) == ("scope.unrestricted-shell", 4)


def test_shell_narrowed_to_commands_is_fine() -> None:
    tools = ["Bash(git diff:*)", "Bash(python scripts/extract.py:*)"]
    asset = skill(frontmatter={**DEFAULT_SKILL, "allowed-tools": tools})
    assert scope.check(asset) == []


def test_skill_scripts_are_recorded_and_named() -> None:
    asset = skill(
        files={
            "scripts/extract.py": "print('hi')\n",
            "tools/run.sh": "#!/bin/sh\n",
            "bin/helper": "#!/bin/sh\n",
            "references/guide.md": "# Guide\n",
        },
        executable=["bin/helper"],
    )
    [finding] = scope.check(asset)
    assert finding.check_id == "scope.skill-scripts"
    assert finding.severity is Severity.INFO
    for path in ("scripts/extract.py", "tools/run.sh", "bin/helper"):
        assert path in finding.message
    assert "references/guide.md" not in finding.message


def test_one_script_is_the_finding_file() -> None:
    [finding] = scope.check(skill(files={"scripts/extract.py": "print('hi')\n"}))
    assert finding.file == "scripts/extract.py"


def test_skill_with_only_references_ships_no_scripts() -> None:
    assert scope.check(skill(files={"references/guide.md": "# Guide\n"})) == []


def test_mcp_tool_without_effects_blocks_at_the_tool_line() -> None:
    asset = mcp_server(
        tools=[{"name": "search_tickets", "effects": ["read"]}, {"name": "purge", "effects": []}]
    )
    [finding] = scope.check(asset)
    assert finding.check_id == "scope.mcp-effect-undeclared"
    assert finding.severity is Severity.BLOCK
    assert "'purge'" in finding.message
    assert (finding.file, finding.line) == ("scope.yaml", asset.line_of("tools[1]"))
    assert finding.fix is not None
    assert "effects: [read]" in finding.fix


def test_each_effect_beyond_read_is_one_info_finding_naming_the_tool() -> None:
    asset = mcp_server(
        tools=[
            {"name": "search_tickets", "effects": ["read"]},
            {"name": "create_ticket", "effects": ["read", "write", "network"]},
            {"name": "run_query", "effects": ["exec", "delete"]},
        ]
    )
    findings = scope.check(asset)
    assert sorted(ids(findings)) == [
        "scope.mcp-effect.delete",
        "scope.mcp-effect.exec",
        "scope.mcp-effect.network",
        "scope.mcp-effect.write",
    ]
    write = next(f for f in findings if f.check_id == "scope.mcp-effect.write")
    assert write.severity is Severity.INFO
    assert "'create_ticket'" in write.message
    assert (write.file, write.line) == ("scope.yaml", asset.line_of("tools[1]"))


def test_remote_server_reaches_the_network() -> None:
    server = {
        **DEFAULT_SERVER,
        "remotes": [{"type": "streamable-http", "url": "https://mcp.acme.example/mcp"}],
    }
    asset = mcp_server(server=server)
    [finding] = scope.check(asset)
    assert finding.check_id == "scope.mcp-effect.network"
    assert "https://mcp.acme.example/mcp" in finding.message
    assert (finding.file, finding.line) == ("server.json", asset.line_of("remotes"))


def test_mcp_server_without_declared_tools_blocks() -> None:
    for asset in (mcp_server(tools=None), mcp_server(tools=[])):
        [finding] = scope.check(asset)
        assert finding.check_id == "scope.mcp-no-tools"
        assert finding.severity is Severity.BLOCK
        assert finding.file == "scope.yaml"


def test_unreadable_scope_still_blocks_and_says_why() -> None:
    # Policy may soften the parse problem; the missing scope must block regardless.
    problem = Finding(
        check_id="spec.unknown-field",
        severity=Severity.BLOCK,
        message="tools.0.effect: Extra inputs are not permitted",
        file="scope.yaml",
        line=3,
    )
    [finding] = scope.check(mcp_server(tools=None, problems=[problem]))
    assert finding.check_id == "scope.mcp-no-tools"
    assert finding.message.startswith("scope.yaml could not be read")


def test_shell_in_a_yaml_list_points_at_its_item_line() -> None:
    asset = skill(frontmatter={**DEFAULT_SKILL, "allowed-tools": ["Read", "Bash(*)"]})
    asset.field_lines["allowed-tools[1]"] = 6
    [finding] = scope.check(asset)
    assert finding.line == 6
