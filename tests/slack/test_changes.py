"""What a reviewer of version N+1 is told changed since the published version N."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent_registry.assets.manifests import (
    DeclaredScope,
    McpServerManifest,
    SkillManifest,
    SubagentManifest,
)
from agent_registry.assets.refs import AssetKind
from agent_registry.slack.changes import DESCRIPTION_PREVIEW, manifest_changes


def _skill(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"name": "pdf-report", "description": "Builds PDF reports."}
    return SkillManifest.model_validate(base | fields).model_dump(mode="json", by_alias=True)


def _subagent(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "code-reviewer",
        "description": "Reviews code.",
        "tools": "Read, Grep",
    }
    merged = {k: v for k, v in (base | fields).items() if v is not None}
    return SubagentManifest.model_validate(merged).model_dump(mode="json", by_alias=True)


PACKAGE = {
    "registryType": "npm",
    "identifier": "@acme/tickets",
    "version": "1.2.0",
    "transport": {"type": "stdio"},
    "environmentVariables": [{"name": "TICKETS_URL"}],
}
TOOLS = [
    {"name": "get_ticket", "effects": ["read"]},
    {"name": "update_ticket", "effects": ["read", "write"]},
]


def _mcp(
    *,
    tools: Sequence[Mapping[str, object]] | None = None,
    packages: Sequence[Mapping[str, object]] | None = None,
    **fields: object,
) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "io.github.acme/tickets",
        "description": "Tickets for support.",
        "version": "1.2.0",
        "packages": [PACKAGE] if packages is None else list(packages),
    }
    manifest = McpServerManifest.model_validate(base | fields).model_dump(
        mode="json", by_alias=True
    )
    scope = DeclaredScope.model_validate({"tools": TOOLS if tools is None else list(tools)})
    return manifest | {"scope": scope.model_dump(mode="json")}


def test_identical_manifests_change_nothing() -> None:
    assert manifest_changes(_skill(), _skill(), kind=AssetKind.SKILL) == []
    assert manifest_changes(_subagent(), _subagent(), kind=AssetKind.SUBAGENT) == []
    assert manifest_changes(_mcp(), _mcp(), kind=AssetKind.MCP_SERVER) == []


def test_fields_outside_scope_and_description_are_not_changes() -> None:
    previous = _skill(license="MIT", metadata={"owner": "a"})
    current = _skill(license="Apache-2.0", metadata={"owner": "b"})
    assert manifest_changes(previous, current, kind=AssetKind.SKILL) == []
    assert manifest_changes(_mcp(), _mcp(version="1.3.0"), kind=AssetKind.MCP_SERVER) == []


def test_description_change_shows_old_and_new() -> None:
    lines = manifest_changes(
        _skill(description="Builds PDF reports."),
        _skill(description="Builds PDF reports and emails them."),
        kind=AssetKind.SKILL,
    )
    assert lines == ['description: "Builds PDF reports." → "Builds PDF reports and emails them."']


def test_long_description_is_cut() -> None:
    lines = manifest_changes(
        _skill(description="a" * 1000), _skill(description="b" * 1000), kind=AssetKind.SKILL
    )
    assert len(lines) == 1
    assert "…" in lines[0]
    assert len(lines[0]) < 2 * DESCRIPTION_PREVIEW + 40


def test_skill_allowed_tools_added_and_removed() -> None:
    lines = manifest_changes(
        _skill(**{"allowed-tools": "Read Grep"}),
        _skill(**{"allowed-tools": ["Read", "Bash(git:*)", "Write"]}),
        kind=AssetKind.SKILL,
    )
    assert lines == ["allowed-tools added: Bash(git:*), Write", "allowed-tools removed: Grep"]


def test_skill_gaining_allowed_tools_from_none() -> None:
    lines = manifest_changes(_skill(), _skill(**{"allowed-tools": ["Bash"]}), kind=AssetKind.SKILL)
    assert lines == ["allowed-tools added: Bash"]


def test_subagent_tools_added_and_removed() -> None:
    lines = manifest_changes(
        _subagent(tools="Read, Grep"), _subagent(tools="Read, Bash"), kind=AssetKind.SUBAGENT
    )
    assert lines == ["tools added: Bash", "tools removed: Grep"]


def test_subagent_dropping_tools_inherits_every_tool() -> None:
    lines = manifest_changes(
        _subagent(tools="Read, Grep"), _subagent(tools=None), kind=AssetKind.SUBAGENT
    )
    assert lines == ["tools: now inherits every tool (was Grep, Read)"]


def test_subagent_listing_tools_is_limited_now() -> None:
    lines = manifest_changes(
        _subagent(tools=None), _subagent(tools="Read"), kind=AssetKind.SUBAGENT
    )
    assert lines == ["tools: now limited to Read (inherited every tool before)"]


def test_subagent_permission_mode_and_model() -> None:
    lines = manifest_changes(
        _subagent(model="sonnet"),
        _subagent(permissionMode="bypassPermissions", model="opus"),
        kind=AssetKind.SUBAGENT,
    )
    assert lines == [
        "permissionMode: (not set) → bypassPermissions",
        "model: sonnet → opus",
    ]


def test_subagent_disallowed_tools_mcp_servers_and_hooks() -> None:
    lines = manifest_changes(
        _subagent(disallowedTools="Write, Edit", mcpServers=["github"]),
        _subagent(
            disallowedTools="Edit",
            mcpServers=["github", "jira"],
            hooks={"PreToolUse": [{"matcher": "Bash"}]},
        ),
        kind=AssetKind.SUBAGENT,
    )
    assert lines == [
        "disallowedTools removed: Write",
        "mcpServers added: jira",
        "hooks added: PreToolUse",
    ]


def test_mcp_tool_added_and_removed() -> None:
    lines = manifest_changes(
        _mcp(),
        _mcp(
            tools=[
                {"name": "get_ticket", "effects": ["read"]},
                {"name": "delete_ticket", "effects": ["delete", "write"]},
            ]
        ),
        kind=AssetKind.MCP_SERVER,
    )
    assert lines == ["tool added: delete_ticket (delete, write)", "tool removed: update_ticket"]


def test_mcp_tool_effects_added_and_removed() -> None:
    lines = manifest_changes(
        _mcp(),
        _mcp(
            tools=[
                {"name": "get_ticket", "effects": ["read"]},
                {"name": "update_ticket", "effects": ["write", "delete"]},
            ]
        ),
        kind=AssetKind.MCP_SERVER,
    )
    assert lines == ["update_ticket: +delete, -read"]


def test_mcp_packages_and_remotes() -> None:
    upgraded = PACKAGE | {
        "version": "1.3.0",
        "environmentVariables": [
            {"name": "TICKETS_URL"},
            {"name": "TICKETS_TOKEN", "isSecret": True},
        ],
    }
    extra = {
        "registryType": "pypi",
        "identifier": "acme-tickets",
        "version": "2.0.0",
        "transport": {"type": "stdio"},
    }
    lines = manifest_changes(
        _mcp(),
        _mcp(
            packages=[upgraded, extra],
            remotes=[{"type": "streamable-http", "url": "https://mcp.acme.io/tickets"}],
        ),
        kind=AssetKind.MCP_SERVER,
    )
    assert lines == [
        "package added: pypi acme-tickets (2.0.0, stdio)",
        "package npm @acme/tickets version: 1.2.0 → 1.3.0",
        "package npm @acme/tickets env added: TICKETS_TOKEN (secret)",
        "remotes added: streamable-http https://mcp.acme.io/tickets",
    ]
    back = manifest_changes(
        _mcp(remotes=[{"type": "sse", "url": "https://old.acme.io"}]),
        _mcp(packages=[]),
        kind=AssetKind.MCP_SERVER,
    )
    assert back == [
        "package removed: npm @acme/tickets",
        "remotes removed: sse https://old.acme.io",
    ]


def test_description_comes_first_and_order_is_stable() -> None:
    tools = [
        {"name": "b_tool", "effects": ["read"]},
        {"name": "a_tool", "effects": ["exec", "network"]},
        {"name": "c_tool", "effects": ["delete"]},
    ]
    previous = _mcp(tools=[])
    current = _mcp(tools=tools, description="Tickets, now with deletion.")
    shuffled = list(reversed(tools))
    lines = manifest_changes(previous, current, kind=AssetKind.MCP_SERVER)
    assert lines[0].startswith("description: ")
    assert lines[1:] == [
        "tool added: a_tool (exec, network)",
        "tool added: b_tool (read)",
        "tool added: c_tool (delete)",
    ]
    again = manifest_changes(
        previous,
        _mcp(tools=shuffled, description="Tickets, now with deletion."),
        kind=AssetKind.MCP_SERVER,
    )
    assert again == lines
