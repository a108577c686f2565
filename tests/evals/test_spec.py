from __future__ import annotations

from agent_registry.assets.manifests import DeclaredLaunch
from agent_registry.evals import spec
from agent_registry.vocabulary.findings import Finding, Severity

from .builders import DEFAULT_SERVER, DEFAULT_SKILL, DEFAULT_SUBAGENT, mcp_server, skill, subagent

SCHEMA_2025_12_11 = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"


def ids(findings: list[Finding]) -> list[str]:
    return [f.check_id for f in findings]


def only(findings: list[Finding], check_id: str) -> Finding:
    matching = [f for f in findings if f.check_id == check_id]
    assert len(matching) == 1, f"expected one {check_id}, got {ids(findings)}"
    return matching[0]


def test_clean_assets_have_no_spec_findings() -> None:
    assert spec.check(skill()) == []
    assert spec.check(subagent()) == []
    assert spec.check(mcp_server()) == []
    published = {"$schema": SCHEMA_2025_12_11, **DEFAULT_SERVER}
    assert spec.check(mcp_server(server=published)) == []


def test_parse_problems_pass_through_unchanged() -> None:
    problem = Finding(
        check_id="spec.invalid-yaml",
        severity=Severity.BLOCK,
        message="SKILL.md frontmatter is not valid YAML",
        file="SKILL.md",
        line=3,
    )
    assert problem in spec.check(skill(problems=[problem]))


def test_unknown_skill_key_is_named_with_its_line_and_a_suggestion() -> None:
    asset = skill(frontmatter={**DEFAULT_SKILL, "allowed_tools": "Read"})
    finding = only(spec.check(asset), "spec.unknown-field")
    assert finding.severity is Severity.WARN
    assert "'allowed_tools'" in finding.message
    assert (finding.file, finding.line, finding.field) == (
        "SKILL.md",
        4,
        "frontmatter.allowed_tools",
    )
    assert finding.fix is not None
    assert "Did you mean 'allowed-tools'?" in finding.fix


def test_subagent_keys_claude_code_reads_are_known() -> None:
    frontmatter = {
        **DEFAULT_SUBAGENT,
        "model": "sonnet",
        "permissionMode": "plan",
        "maxTurns": 5,
        "memory": "project",
        "color": "blue",
        "effort": "high",
    }
    assert "spec.unknown-field" not in ids(spec.check(subagent(frontmatter=frontmatter)))


def test_skill_key_valid_only_for_subagents_is_unknown_in_a_skill() -> None:
    asset = skill(frontmatter={**DEFAULT_SKILL, "tools": "Read"})
    assert only(spec.check(asset), "spec.unknown-field").line == 4


def test_short_description_warns_with_its_line() -> None:
    asset = subagent(frontmatter={**DEFAULT_SUBAGENT, "description": "Reviews code"})
    finding = only(spec.check(asset), "spec.description-too-short")
    assert (finding.file, finding.line) == ("code-reviewer.md", 3)
    assert "'Reviews code'" in finding.message


def test_short_mcp_description_warns_too() -> None:
    asset = mcp_server(server={**DEFAULT_SERVER, "description": "Tickets"})
    assert only(spec.check(asset), "spec.description-too-short").file == "server.json"


def test_description_of_twenty_characters_is_enough() -> None:
    asset = skill(frontmatter={**DEFAULT_SKILL, "description": "x" * 19 + "y"})
    assert "spec.description-too-short" not in ids(spec.check(asset))


def test_empty_body_warns_for_skill_and_subagent() -> None:
    finding = only(spec.check(skill(body="\n  \n")), "spec.empty-body")
    assert (finding.file, finding.line) == ("SKILL.md", 5)
    assert "spec.empty-body" in ids(spec.check(subagent(body="")))


def test_unparsed_frontmatter_is_not_also_reported_as_empty_body() -> None:
    asset = skill(body="")
    asset.frontmatter = {}
    assert "spec.empty-body" not in ids(spec.check(asset))


def test_skill_body_over_500_lines_warns_at_line_501_of_the_body() -> None:
    body = "".join(f"step {n}\n" for n in range(1, 502))
    finding = only(spec.check(skill(body=body)), "spec.body-too-long")
    assert "501 lines" in finding.message
    assert finding.line == 5 + 500  # body starts on line 5


def test_skill_body_of_exactly_500_lines_is_fine() -> None:
    body = "".join(f"step {n}\n" for n in range(1, 501))
    assert "spec.body-too-long" not in ids(spec.check(skill(body=body)))


def test_long_subagent_body_is_not_held_to_the_skill_guidance() -> None:
    body = "".join(f"rule {n}\n" for n in range(600))
    assert "spec.body-too-long" not in ids(spec.check(subagent(body=body)))


def test_subagent_file_named_differently_from_its_name_warns() -> None:
    finding = only(spec.check(subagent(file_name="reviewer.md")), "spec.name-file-mismatch")
    assert (finding.file, finding.line) == ("reviewer.md", 2)
    assert finding.fix is not None
    assert "code-reviewer.md" in finding.fix


def test_mcp_server_without_packages_or_remotes_blocks() -> None:
    server = {k: v for k, v in DEFAULT_SERVER.items() if k != "packages"}
    finding = only(spec.check(mcp_server(server=server)), "spec.mcp-no-transport")
    assert finding.severity is Severity.BLOCK
    assert "io.github.acme/tickets" in finding.message


def test_mcp_server_with_only_a_remote_has_a_transport() -> None:
    server = {k: v for k, v in DEFAULT_SERVER.items() if k != "packages"}
    server["remotes"] = [{"type": "streamable-http", "url": "https://mcp.acme.example/mcp"}]
    assert "spec.mcp-no-transport" not in ids(spec.check(mcp_server(server=server)))


def test_mcp_server_shipped_in_its_bundle_runs_from_its_launch() -> None:
    server = {k: v for k, v in DEFAULT_SERVER.items() if k != "packages"}
    asset = mcp_server(server=server)
    assert asset.scope is not None
    asset.scope = asset.scope.model_copy(
        update={"launch": DeclaredLaunch(command="python", args=["server.py"])}
    )
    assert "spec.mcp-no-transport" not in ids(spec.check(asset))


def test_tool_declared_twice_in_scope_blocks_at_the_second_declaration() -> None:
    tools = [
        {"name": "create_ticket", "effects": ["write"]},
        {"name": "search_tickets", "effects": ["read"]},
        {"name": "create_ticket", "effects": ["read"]},
    ]
    asset = mcp_server(tools=tools)
    finding = only(spec.check(asset), "spec.scope-duplicate-tool")
    assert finding.severity is Severity.BLOCK
    assert (finding.file, finding.field) == ("scope.yaml", "tools[2]")
    assert finding.line == asset.line_of("tools[2]")
    assert finding.line is not None
    scope_text = asset.bundle.get("scope.yaml")
    assert scope_text is not None
    assert scope_text.data.decode().split("\n")[finding.line - 1] == "- name: create_ticket"
