"""Scope checks: what an asset may do, reported so that review is proportionate to it.

Some findings here are problems (no tool list, permission checks bypassed); others are
``info`` facts (a tool that writes, a skill that ships scripts) that policy turns into a
risk tier through its ``[risk]`` table.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from agent_registry.assets.kinds import SCOPE_FILE
from agent_registry.assets.manifests import Effect, PermissionMode
from agent_registry.assets.parsed import ParsedAsset, line_of_path
from agent_registry.assets.refs import AssetKind
from agent_registry.evals.base import CheckFunction, run_checks
from agent_registry.vocabulary.findings import Finding, Severity, make_finding

SCRIPT_SUFFIXES = frozenset(
    {".sh", ".bash", ".zsh", ".py", ".js", ".mjs", ".cjs", ".ts", ".ps1", ".rb", ".pl", ".bat"}
)
"""File types an agent would run rather than read."""

MAX_NAMED_FILES = 10
"""How many script files a message names before it counts the rest."""

# ``Bash``, ``Bash(*)`` and ``Bash(*:*)`` all allow every command.
_UNRESTRICTED_SHELL = re.compile(r"^Bash(?:\(\s*\*\s*(?::\s*\*\s*)?\))?$")

_EFFECT_WORDS = {
    Effect.WRITE: "writes",
    Effect.DELETE: "deletes",
    Effect.EXEC: "executes code",
    Effect.NETWORK: "reaches the network",
}

CATALOG: dict[str, Severity] = {
    "scope.tools-inherited": Severity.WARN,
    "scope.bypass-permissions": Severity.BLOCK,
    "scope.unrestricted-shell": Severity.WARN,
    "scope.skill-scripts": Severity.INFO,
    "scope.mcp-effect-undeclared": Severity.BLOCK,
    "scope.mcp-no-tools": Severity.BLOCK,
    **{f"scope.mcp-effect.{effect.value}": Severity.INFO for effect in _EFFECT_WORDS},
}
"""Check ids this family raises and the severity each proposes."""


def tools_inherited(asset: ParsedAsset) -> list[Finding]:
    """A subagent without ``tools`` inherits every tool of the main conversation."""
    subagent = asset.subagent
    if subagent is None or subagent.tools is not None:
        return []
    return [
        make_finding(
            CATALOG,
            "scope.tools-inherited",
            message=(
                f"subagent '{subagent.name}' lists no tools, so it inherits every tool of "
                "the main conversation, MCP tools included"
            ),
            file=asset.manifest_file,
            field="tools",
            fix="List the tools it needs, e.g. tools: Read, Grep, Glob.",
        )
    ]


def bypass_permissions(asset: ParsedAsset) -> list[Finding]:
    """``permissionMode: bypassPermissions`` runs every tool call without asking anyone."""
    subagent = asset.subagent
    if subagent is None or subagent.permission_mode is not PermissionMode.BYPASS_PERMISSIONS:
        return []
    return [
        make_finding(
            CATALOG,
            "scope.bypass-permissions",
            message=(
                f"subagent '{subagent.name}' sets permissionMode: bypassPermissions, so no "
                "tool call is ever confirmed"
            ),
            file=asset.manifest_file,
            line=asset.line_of("permissionMode"),
            field="permissionMode",
            fix="Remove permissionMode (or use default or plan), and narrow tools to what "
            "the subagent needs.",
        )
    ]


def unrestricted_shell(asset: ParsedAsset) -> list[Finding]:
    """``Bash`` without a command pattern lets the asset run any shell command."""
    if asset.skill is not None:
        tools, key = asset.skill.allowed_tools, "allowed-tools"
    elif asset.subagent is not None:
        tools, key = asset.subagent.tools, "tools"
    else:
        return []
    return [
        make_finding(
            CATALOG,
            "scope.unrestricted-shell",
            message=f"{key} grants '{tool}', which runs any shell command",
            file=asset.manifest_file,
            # A YAML list has a line per item; a comma-separated string only the key's.
            line=line_of_path(asset, f"{key}[{index}]"),
            field=key,
            fix="Allow only the commands it needs, e.g. Bash(git diff:*) or "
            "Bash(python scripts/extract.py:*).",
        )
        for index, tool in enumerate(tools or [])
        if _UNRESTRICTED_SHELL.match(tool.strip())
    ]


def skill_scripts(asset: ParsedAsset) -> list[Finding]:
    """A skill that ships code for the agent to run: reviewers must read the code too."""
    if asset.kind is not AssetKind.SKILL:
        return []
    scripts = [f.path for f in asset.bundle.files if _is_script(f.path, executable=f.executable)]
    if not scripts:
        return []
    named = ", ".join(scripts[:MAX_NAMED_FILES])
    if len(scripts) > MAX_NAMED_FILES:
        named += f" and {len(scripts) - MAX_NAMED_FILES} more"
    return [
        make_finding(
            CATALOG,
            "scope.skill-scripts",
            message=(
                f"skill ships a script the agent may run: {named}"
                if len(scripts) == 1
                else f"skill ships {len(scripts)} scripts the agent may run: {named}"
            ),
            file=scripts[0] if len(scripts) == 1 else None,
            fix="Nothing to fix if the scripts are needed; reviewers will read them. Keep "
            "them short and free of network calls the description does not mention.",
        )
    ]


def mcp_effects(asset: ParsedAsset) -> list[Finding]:
    """Each declared tool's effects: undeclared is blocked, anything beyond read recorded."""
    if asset.scope is None:
        return []
    findings = []
    for index, tool in enumerate(asset.scope.tools):
        line = line_of_path(asset, f"tools[{index}].effects")
        if not tool.effects:
            findings.append(
                make_finding(
                    CATALOG,
                    "scope.mcp-effect-undeclared",
                    message=f"MCP tool '{tool.name}' declares no effects",
                    file=SCOPE_FILE,
                    line=line,
                    field=f"tools[{index}].effects",
                    fix=f"Declare what '{tool.name}' does, e.g. effects: [read] "
                    "(read, write, delete, exec, network).",
                )
            )
        for effect in dict.fromkeys(tool.effects):
            if effect is Effect.READ:
                continue
            findings.append(
                make_finding(
                    CATALOG,
                    f"scope.mcp-effect.{effect.value}",
                    message=f"MCP tool '{tool.name}' {_EFFECT_WORDS[effect]}",
                    file=SCOPE_FILE,
                    line=line,
                    field=f"tools[{index}].effects",
                    fix="Nothing to fix if the tool needs it; otherwise drop the effect or "
                    "split the tool, so that review can approve a narrower scope.",
                )
            )
    return findings


def mcp_remotes(asset: ParsedAsset) -> list[Finding]:
    """A hosted (HTTP) server: every call leaves the machine."""
    server = asset.mcp_server
    if server is None:
        return []
    return [
        make_finding(
            CATALOG,
            "scope.mcp-effect.network",
            message=f"remote MCP server at {remote.url} is reached over the network",
            file=asset.manifest_file,
            line=line_of_path(asset, f"remotes[{index}].url"),
            field=f"remotes[{index}]",
            fix="Nothing to fix if the server is meant to be hosted; reviewers check who "
            "runs it and what data it receives.",
        )
        for index, remote in enumerate(server.remotes)
    ]


def mcp_no_tools(asset: ParsedAsset) -> list[Finding]:
    """An MCP server with no declared tools: nothing to hold its behaviour to."""
    if asset.kind is not AssetKind.MCP_SERVER:
        return []
    if asset.scope is not None and asset.scope.tools:
        return []
    # Even when a parse problem already explains why there is no scope, this finding
    # stays: policy may soften that problem, and a server with no declared scope must
    # still not pass.
    unreadable = any(problem.file == SCOPE_FILE for problem in asset.problems)
    why = f"{SCOPE_FILE} could not be read" if unreadable else "MCP server declares no tools"
    return [
        make_finding(
            CATALOG,
            "scope.mcp-no-tools",
            message=f"{why}, so the server's scope cannot be reviewed",
            file=SCOPE_FILE,
            field="tools",
            fix=f"Add {SCOPE_FILE} listing every tool the server exposes with its effects, "
            "e.g. tools: [{name: search_tickets, effects: [read]}].",
        )
    ]


CHECKS: tuple[CheckFunction, ...] = (
    tools_inherited,
    bypass_permissions,
    unrestricted_shell,
    skill_scripts,
    mcp_effects,
    mcp_remotes,
    mcp_no_tools,
)


def check(asset: ParsedAsset) -> list[Finding]:
    """Run every scope check."""
    return run_checks(CHECKS, asset)


def _is_script(path: str, *, executable: bool) -> bool:
    pure = PurePosixPath(path)
    in_scripts = len(pure.parts) > 1 and pure.parts[0] == "scripts"
    return executable or in_scripts or pure.suffix.lower() in SCRIPT_SUFFIXES
