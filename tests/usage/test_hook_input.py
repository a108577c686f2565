"""Reading Claude Code's hook JSON and telling which calls used an asset."""

from __future__ import annotations

import pytest

from agent_registry.assets.refs import AssetKind
from agent_registry.usage.hook_input import (
    AssetUse,
    HookInputError,
    asset_use,
    parse_hook_input,
)
from tests.usage.helpers import payload


def test_parse_reads_the_documented_fields() -> None:
    call = parse_hook_input(
        payload("Skill", {"skill": "pdf-report"}, tool_use_id="toolu_1", cwd="/repo")
    )
    assert call.tool_name == "Skill"
    assert call.tool_input == {"skill": "pdf-report"}
    assert call.session_id == "sess-1"
    assert call.tool_use_id == "toolu_1"
    assert call.cwd == "/repo"
    assert call.event == "PostToolUse"


@pytest.mark.parametrize(
    "text", ["", "not json", "[1, 2]", '{"tool_input": {}}', '{"tool_name": 3}', "\x00\xff"]
)
def test_malformed_input_is_refused(text: str) -> None:
    with pytest.raises(HookInputError):
        parse_hook_input(text)


@pytest.mark.parametrize(
    ("tool", "tool_input", "expected"),
    [
        ("Skill", {"skill": "pdf-report"}, AssetUse(AssetKind.SKILL, "pdf-report")),
        ("Skill", {"command": "/pdf-report"}, AssetUse(AssetKind.SKILL, "pdf-report")),
        ("Task", {"subagent_type": "reviewer"}, AssetUse(AssetKind.SUBAGENT, "reviewer")),
        ("Agent", {"subagent_type": "reviewer"}, AssetUse(AssetKind.SUBAGENT, "reviewer")),
        (
            "mcp__time__convert_time",
            {"time": "12:00"},
            AssetUse(AssetKind.MCP_SERVER, "time", tool="convert_time"),
        ),
    ],
)
def test_asset_calls_name_their_asset(
    tool: str, tool_input: dict[str, object], expected: AssetUse
) -> None:
    assert asset_use(parse_hook_input(payload(tool, tool_input))) == expected


@pytest.mark.parametrize(
    ("tool", "tool_input"),
    [
        ("Bash", {"command": "ls"}),
        ("Skill", {}),
        ("Skill", {"skill": "plugin:helper"}),
        ("Skill", {"skill": "../../etc"}),
        ("Task", {"prompt": "no type"}),
        ("mcp__broken", {}),
        ("mcp__time__", {}),
    ],
)
def test_other_calls_use_no_asset(tool: str, tool_input: dict[str, object]) -> None:
    assert asset_use(parse_hook_input(payload(tool, tool_input))) is None
