"""The names registry assets have inside Claude Code, in one place.

Install, the managed-settings export, the guard hook and the usage hook must agree on
them: a skill is ``.claude/skills/<name>/`` and invoked as ``<name>``; a subagent is
``.claude/agents/<name>.md``; an MCP server is a key in ``.mcp.json`` and its tools are
``mcp__<key>__<tool>``.
"""

from __future__ import annotations

import re

MCP_TOOL_PREFIX = "mcp__"
"""Claude Code's prefix for MCP tool names: ``mcp__<server key>__<tool>``."""

_KEY_UNSAFE = re.compile(r"[^a-z0-9-]+")


def mcp_server_key(registry_name: str) -> str:
    """The ``.mcp.json`` key of an MCP server: the last part of its reverse-DNS name.

    ``io.github.modelcontextprotocol/time`` becomes ``time``; characters Claude Code
    does not keep in tool names become ``-``. Two published servers with the same last
    part would collide, which the install command reports rather than overwrites.

    Args:
        registry_name: The server's registry name, ``namespace/name``.

    Returns:
        The key, lowercase letters, digits and hyphens.
    """
    last = registry_name.rsplit("/", 1)[-1].lower()
    return _KEY_UNSAFE.sub("-", last).strip("-") or "server"


def mcp_tool_name(server_key: str, tool: str) -> str:
    """The tool name Claude Code shows for ``tool`` of the server at ``server_key``."""
    return f"{MCP_TOOL_PREFIX}{server_key}__{tool}"


def split_mcp_tool_name(tool_name: str) -> tuple[str, str] | None:
    """``mcp__time__convert_time`` → ``("time", "convert_time")``; None if not an MCP tool."""
    if not tool_name.startswith(MCP_TOOL_PREFIX):
        return None
    rest = tool_name[len(MCP_TOOL_PREFIX) :]
    server, separator, tool = rest.partition("__")
    if not separator or not server or not tool:
        return None
    return server, tool
