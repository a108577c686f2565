"""The names registry assets get as Claude Code plugins, and how to read them back.

The marketplace export makes one plugin per asset; the guard hook must recognise the
same asset when Claude Code calls it through that plugin. Claude Code namespaces a
plugin's components under the plugin name: a skill or agent ``x`` of plugin ``p`` is
``p:x``, and a tool of MCP server ``s`` in plugin ``p`` is ``mcp__plugin_p_s__tool``
(https://code.claude.com/docs/en/plugins/manifest-reference#name and
https://code.claude.com/docs/en/mcp#plugin-provided-mcp-servers).

A plugin name is the kind's prefix and the asset's local name (``skill-release-notes``,
``agent-code-reviewer``, ``mcp-time``), so assets of different kinds never collide and
the names are kebab-case, as ``claude plugin validate`` prefers.
"""

from __future__ import annotations

from agent_registry.assets.refs import AssetKind
from agent_registry.distribution.naming import MCP_TOOL_PREFIX, mcp_server_key

PLUGIN_PREFIXES = {
    AssetKind.SKILL: "skill-",
    AssetKind.SUBAGENT: "agent-",
    AssetKind.MCP_SERVER: "mcp-",
}

_PLUGIN_TOOL_PREFIX = f"{MCP_TOOL_PREFIX}plugin_"


def local_name(kind: AssetKind, name: str) -> str:
    """The name Claude Code knows an asset by: its name, or an MCP server's key."""
    return mcp_server_key(name) if kind is AssetKind.MCP_SERVER else name


def plugin_name(kind: AssetKind, name: str) -> str:
    """The plugin that carries ``kind``/``name`` in the exported marketplace."""
    return f"{PLUGIN_PREFIXES[kind]}{local_name(kind, name)}"


def split_qualified(name: str) -> tuple[str | None, str]:
    """``"skill-x:x"`` → ``("skill-x", "x")``; an unqualified name has no plugin."""
    plugin, separator, component = name.rpartition(":")
    if not separator:
        return None, name
    return plugin, component


def split_plugin_mcp_tool(tool_name: str) -> tuple[str, str, str] | None:
    """``mcp__plugin_mcp-time_time__convert`` → ``("mcp-time", "time", "convert")``.

    Registry plugin names hold no underscore, so the first one after the prefix ends
    the plugin name. None when ``tool_name`` is not a plugin MCP tool.
    """
    if not tool_name.startswith(_PLUGIN_TOOL_PREFIX):
        return None
    scoped, separator, tool = tool_name[len(_PLUGIN_TOOL_PREFIX) :].partition("__")
    plugin, underscore, server = scoped.partition("_")
    if not separator or not underscore or not plugin or not server or not tool:
        return None
    return plugin, server, tool
