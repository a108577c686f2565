"""What an asset can touch, in lines a reviewer reads, and a view of it for comparison.

The review message shows the declared scope, and for a new version of a published asset
what changed in it; both come from the parsed bundle, never from the submitter's claims
alone.
"""

from __future__ import annotations

from agent_registry.assets.parsed import ParsedAsset

SCRIPT_SUFFIXES = (".sh", ".bash", ".py", ".js", ".ts", ".ps1", ".rb")


def declared_scope_lines(asset: ParsedAsset) -> list[str]:
    """The asset's declared reach: tools, permission mode, scripts, MCP tools and effects.

    Args:
        asset: A parsed asset whose manifest validated.

    Returns:
        One line per fact, most consequential first; empty when the manifest is invalid.
    """
    if (skill := asset.skill) is not None:
        tools = ", ".join(skill.allowed_tools) if skill.allowed_tools else "not pre-approved"
        lines = [f"allowed-tools: {tools}"]
        scripts = [
            f.path for f in asset.bundle.files if f.executable or f.path.endswith(SCRIPT_SUFFIXES)
        ]
        if scripts:
            lines.append("ships scripts: " + ", ".join(scripts))
        return lines
    if (subagent := asset.subagent) is not None:
        tools = ", ".join(subagent.tools) if subagent.tools else "inherits every tool"
        lines = [f"tools: {tools}"]
        if subagent.disallowed_tools:
            lines.append("disallowed tools: " + ", ".join(subagent.disallowed_tools))
        if subagent.permission_mode is not None:
            lines.append(f"permissionMode: {subagent.permission_mode.value}")
        if subagent.mcp_servers:
            lines.append("mcpServers: " + ", ".join(sorted(subagent.mcp_servers)))
        return lines
    if (server := asset.mcp_server) is not None:
        lines = []
        for tool in asset.scope.tools if asset.scope else []:
            effects = ", ".join(e.value for e in tool.effects) or "no effect declared"
            lines.append(f"tool {tool.name}: {effects}")
        for package in server.packages:
            version = f" {package.version}" if package.version else ""
            lines.append(
                f"package {package.registry_type} {package.identifier}{version} "
                f"({package.transport.type})"
            )
        lines += [f"remote {remote.type} {remote.url}" for remote in server.remotes]
        return lines
    return []


def comparable_manifest(asset: ParsedAsset) -> dict[str, object]:
    """The manifest as JSON, with an MCP server's declared scope under ``scope``.

    Two versions' views are what the change summary in a review request compares.
    """
    if asset.manifest is None:
        return {}
    view: dict[str, object] = asset.manifest.model_dump(mode="json", by_alias=True)
    if asset.scope is not None:
        view["scope"] = asset.scope.model_dump(mode="json")
    return view
