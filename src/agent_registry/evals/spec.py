"""Spec checks: the public formats' rules beyond what the manifest models enforce.

Parse problems (malformed YAML, invalid fields) are found by the loader and arrive as
``asset.problems``; this family passes them through so that one report holds everything.
"""

from __future__ import annotations

import difflib
from collections import Counter
from pathlib import PurePosixPath

from agent_registry.assets.kinds import SCOPE_FILE
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.evals import mcp_publish
from agent_registry.evals.base import CheckFunction, run_checks
from agent_registry.evals.text import split_lines
from agent_registry.vocabulary.findings import Finding, Severity, make_finding

MIN_DESCRIPTION_CHARS = 20
"""Below this a description cannot tell the model when to pick the asset."""

MAX_SKILL_BODY_LINES = 500
"""The Agent Skills guidance: keep ``SKILL.md`` under 500 lines, move detail to files."""

SKILL_KEYS = frozenset(
    {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
)
"""Frontmatter keys the Agent Skills specification defines."""

SUBAGENT_KEYS = frozenset(
    {
        "name",
        "description",
        "tools",
        "disallowedTools",
        "model",
        "permissionMode",
        "maxTurns",
        "skills",
        "mcpServers",
        "hooks",
        "memory",
        "background",
        "effort",
        "isolation",
        "color",
    }
)
"""Frontmatter keys Claude Code reads from a subagent definition."""

CATALOG: dict[str, Severity] = {
    "spec.unknown-field": Severity.WARN,
    "spec.description-too-short": Severity.WARN,
    "spec.empty-body": Severity.WARN,
    "spec.body-too-long": Severity.WARN,
    "spec.name-file-mismatch": Severity.WARN,
    "spec.mcp-no-transport": Severity.BLOCK,
    "spec.scope-duplicate-tool": Severity.BLOCK,
    **mcp_publish.CATALOG,
}
"""Check ids this family raises and the severity each proposes (parse problems aside)."""


def parse_problems(asset: ParsedAsset) -> list[Finding]:
    """The loader's parse problems, unchanged: they already are findings."""
    return list(asset.problems)


def unknown_fields(asset: ParsedAsset) -> list[Finding]:
    """Frontmatter keys the format does not define: usually a typo that is silently ignored.

    ``allowed_tools`` instead of ``allowed-tools`` parses fine and then grants nothing,
    so the submitter is told, with the closest known key.
    """
    known = _known_keys(asset.kind)
    if known is None:
        return []
    findings = []
    for key in asset.frontmatter:
        if key in known:
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
        hint = f"Did you mean '{close[0]}'? " if close else ""
        findings.append(
            make_finding(
                CATALOG,
                "spec.unknown-field",
                message=f"{asset.manifest_file} frontmatter has unknown key '{key}'",
                file=asset.manifest_file,
                line=asset.line_of(key),
                field=f"frontmatter.{key}",
                fix=f"{hint}Known keys: {', '.join(sorted(known))}. Remove keys Claude Code "
                "does not read; keep registry data in the registry metadata.",
            )
        )
    return findings


def short_description(asset: ParsedAsset) -> list[Finding]:
    """A description too short to choose by: the model picks assets by their description."""
    manifest = asset.manifest
    if manifest is None or len(manifest.description.strip()) >= MIN_DESCRIPTION_CHARS:
        return []
    return [
        make_finding(
            CATALOG,
            "spec.description-too-short",
            message=(
                f"description '{manifest.description.strip()}' is shorter than "
                f"{MIN_DESCRIPTION_CHARS} characters"
            ),
            file=asset.manifest_file,
            line=asset.line_of("description"),
            field="description",
            fix="Say what it does and when to use it, e.g. 'Extracts tables from PDF "
            "reports. Use when the user asks for figures from a PDF.'",
        )
    ]


def empty_body(asset: ParsedAsset) -> list[Finding]:
    """A skill or subagent with no instructions after its frontmatter."""
    # Without parsed frontmatter the body is unknown rather than empty; the parse
    # problem already says what is wrong.
    if asset.kind is AssetKind.MCP_SERVER or not asset.frontmatter or asset.body.strip():
        return []
    what = "skill" if asset.kind is AssetKind.SKILL else "subagent"
    return [
        make_finding(
            CATALOG,
            "spec.empty-body",
            message=f"{asset.manifest_file} has no instructions after its frontmatter",
            file=asset.manifest_file,
            line=asset.body_line,
            fix=f"Write the {what}'s instructions in Markdown below the closing '---'.",
        )
    ]


def body_too_long(asset: ParsedAsset) -> list[Finding]:
    """A ``SKILL.md`` body over the 500 lines the Agent Skills guidance recommends.

    The whole body enters the context when the skill is used; detail belongs in
    reference files the model opens only when needed.
    """
    if asset.kind is not AssetKind.SKILL:
        return []
    count = len(split_lines(asset.body))
    if count <= MAX_SKILL_BODY_LINES:
        return []
    return [
        make_finding(
            CATALOG,
            "spec.body-too-long",
            message=(
                f"{asset.manifest_file} body is {count} lines, over the "
                f"{MAX_SKILL_BODY_LINES} the Agent Skills guidance recommends"
            ),
            file=asset.manifest_file,
            line=asset.body_line + MAX_SKILL_BODY_LINES,
            fix="Move detailed material into files under references/ and link them from "
            "SKILL.md; they are read only when needed.",
        )
    ]


def name_file_mismatch(asset: ParsedAsset) -> list[Finding]:
    """A subagent whose file name differs from its ``name``: installs collide or confuse."""
    subagent = asset.subagent
    if subagent is None:
        return []
    stem = PurePosixPath(asset.manifest_file).stem
    if stem == subagent.name:
        return []
    return [
        make_finding(
            CATALOG,
            "spec.name-file-mismatch",
            message=f"subagent '{subagent.name}' is in a file named '{asset.manifest_file}'",
            file=asset.manifest_file,
            line=asset.line_of("name"),
            field="name",
            fix=f"Rename the file to '{subagent.name}.md' or set name: {stem}.",
        )
    ]


def mcp_no_transport(asset: ParsedAsset) -> list[Finding]:
    """An MCP server entry with no way to run it: no packages, remotes or bundled launch.

    A server shipped inside its bundle (``launch`` in scope.yaml) runs from the
    installed bundle, so it needs neither a package nor a remote.
    """
    server = asset.mcp_server
    if server is None or server.packages or server.remotes:
        return []
    if asset.scope is not None and asset.scope.launch is not None:
        return []
    return [
        make_finding(
            CATALOG,
            "spec.mcp-no-transport",
            message=(
                f"MCP server '{server.name}' has neither packages nor remotes, and scope.yaml "
                "has no launch"
            ),
            file=asset.manifest_file,
            line=asset.line_of("packages") or asset.line_of("remotes"),
            field="packages",
            fix="Add a package clients install (e.g. registryType npm with transport "
            "stdio), a remote URL clients connect to, or a launch (command and args) in "
            "scope.yaml for a server shipped in the bundle.",
        )
    ]


def scope_duplicate_tools(asset: ParsedAsset) -> list[Finding]:
    """A tool declared twice in ``scope.yaml``: which declaration applies is ambiguous."""
    if asset.scope is None:
        return []
    counts = Counter(tool.name for tool in asset.scope.tools)
    seen: set[str] = set()
    findings = []
    for index, tool in enumerate(asset.scope.tools):
        if counts[tool.name] > 1 and tool.name in seen:
            findings.append(
                make_finding(
                    CATALOG,
                    "spec.scope-duplicate-tool",
                    message=f"tool '{tool.name}' is declared {counts[tool.name]} times",
                    file=SCOPE_FILE,
                    line=asset.line_of(f"tools[{index}]"),
                    field=f"tools[{index}]",
                    fix=f"Declare '{tool.name}' once, with all of its effects.",
                )
            )
        seen.add(tool.name)
    return findings


CHECKS: tuple[CheckFunction, ...] = (
    parse_problems,
    unknown_fields,
    short_description,
    empty_body,
    body_too_long,
    name_file_mismatch,
    mcp_no_transport,
    scope_duplicate_tools,
    *mcp_publish.CHECKS,
)


def check(asset: ParsedAsset) -> list[Finding]:
    """Run every spec check."""
    return run_checks(CHECKS, asset)


def _known_keys(kind: AssetKind) -> frozenset[str] | None:
    if kind is AssetKind.SKILL:
        return SKILL_KEYS
    if kind is AssetKind.SUBAGENT:
        return SUBAGENT_KEYS
    return None  # server.json is an open format: extensions are allowed there
