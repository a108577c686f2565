"""What one Claude Code hook call says, and which registry asset (if any) it used.

Claude Code hands a ``PreToolUse``/``PostToolUse`` hook one JSON object on stdin with
``session_id``, ``hook_event_name``, ``tool_name``, ``tool_input``, ``cwd`` and, in
current versions, ``tool_use_id``. Only three kinds of call can be a registry asset:
the ``Skill`` tool (``tool_input.skill``), the ``Task``/``Agent`` tool with a
``subagent_type``, and an MCP tool named ``mcp__<server key>__<tool>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from agent_registry.assets.refs import AssetKind
from agent_registry.distribution.naming import split_mcp_tool_name

SKILL_TOOLS = frozenset({"Skill"})
"""Tools whose call invokes a skill by name."""

SUBAGENT_TOOLS = frozenset({"Task", "Agent"})
"""Tools whose call starts a subagent (``Agent`` is the newer name of ``Task``)."""

_SKILL_FIELDS = ("skill", "command", "name")
"""Where the Skill tool has carried the skill's name, newest first."""

MAX_FIELD_CHARS = 200
"""Longer names are not names a registry install produces; they are dropped, not cut."""


class HookInputError(ValueError):
    """The hook's stdin is not the JSON object Claude Code sends."""


@dataclass(frozen=True)
class ToolCall:
    """The fields of a hook call that usage counting reads.

    Attributes:
        tool_name: The tool Claude called.
        tool_input: Its arguments.
        session_id: The Claude Code session.
        tool_use_id: Claude's id of this call; the same in its Pre and Post hooks.
        cwd: The working directory of the session.
        event: ``PreToolUse`` or ``PostToolUse`` (or another event, ignored upstream).
    """

    tool_name: str
    tool_input: dict[str, object]
    session_id: str | None = None
    tool_use_id: str | None = None
    cwd: str | None = None
    event: str | None = None


@dataclass(frozen=True)
class AssetUse:
    """A call that may have used a registry asset.

    Attributes:
        kind: The asset's kind.
        local_name: Its name in Claude Code: the skill or subagent name, or the MCP
            server's ``.mcp.json`` key (not yet its registry name).
        tool: For an MCP server, the tool called.
    """

    kind: AssetKind
    local_name: str
    tool: str | None = None


def parse_hook_input(text: str) -> ToolCall:
    """Read the hook's stdin.

    Args:
        text: What Claude Code wrote on stdin.

    Returns:
        The call's fields; unknown fields are ignored.

    Raises:
        HookInputError: Not a JSON object, or no ``tool_name``.
    """
    try:
        data = json.loads(text)
    except ValueError as error:
        raise HookInputError(f"stdin is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise HookInputError("stdin is not a JSON object")
    tool_name = data.get("tool_name")
    if not isinstance(tool_name, str) or not tool_name:
        raise HookInputError("no tool_name in the hook input")
    tool_input = data.get("tool_input")
    return ToolCall(
        tool_name=tool_name,
        tool_input=tool_input if isinstance(tool_input, dict) else {},
        session_id=_text(data.get("session_id")),
        tool_use_id=_text(data.get("tool_use_id")),
        cwd=_text(data.get("cwd")),
        event=_text(data.get("hook_event_name")),
    )


def asset_use(call: ToolCall) -> AssetUse | None:
    """Which asset a call used, if it is a skill, subagent or MCP call at all.

    Namespaced names (``plugin:skill``) belong to Claude Code plugins, never to a
    registry install, which puts assets under their plain names.

    Args:
        call: The parsed hook call.

    Returns:
        The asset's kind and local name, or None for any other tool.
    """
    if call.tool_name in SKILL_TOOLS:
        name = next(
            (v for f in _SKILL_FIELDS if (v := _text(call.tool_input.get(f))) is not None), None
        )
        name = name.lstrip("/") if name else None
        return _local(AssetKind.SKILL, name)
    if call.tool_name in SUBAGENT_TOOLS:
        return _local(AssetKind.SUBAGENT, _text(call.tool_input.get("subagent_type")))
    parts = split_mcp_tool_name(call.tool_name)
    if parts is None:
        return None
    server_key, tool = parts
    if len(server_key) > MAX_FIELD_CHARS or len(tool) > MAX_FIELD_CHARS:
        return None
    return AssetUse(kind=AssetKind.MCP_SERVER, local_name=server_key, tool=tool)


def _local(kind: AssetKind, name: str | None) -> AssetUse | None:
    if not name or name.startswith(".") or len(name) > MAX_FIELD_CHARS:
        return None
    if any(c in name for c in ":/\\"):
        return None
    return AssetUse(kind=kind, local_name=name)


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
