"""Checks of exported files against Claude Code's documented formats.

Each check returns the problems found, phrased after the documentation's rules:

- marketplace file: https://code.claude.com/docs/en/plugins/marketplace-reference
  (required ``name``/``owner``/``plugins``, name characters, ``owner.name``, entry
  ``name``/``source``, relative sources starting with ``./`` without ``..``, unique
  names, ``renames`` targets that resolve, ``version`` not in both entry and manifest);
- plugin manifest and layout: https://code.claude.com/docs/en/plugins/manifest-reference
  (``name`` required, kebab-case, no reserved prefix; component locations);
- MCP entries: https://code.claude.com/docs/en/mcp (stdio ``command``/``args``/``env``,
  remote ``type`` plus ``url``);
- managed settings: https://code.claude.com/docs/en/managed-mcp and /permissions and
  /hooks (server match entries with one key, ``mcp__`` rule syntax, hook matcher groups).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RESERVED_PLUGIN_PREFIXES = ("claude-", "anthropic-", "anthropics-", "cc-plugin-")
RESERVED_MARKETPLACES = {
    "claude-code-marketplace",
    "claude-code-plugins",
    "claude-plugins-official",
    "anthropic-marketplace",
    "anthropic-plugins",
    "agent-skills",
    "inline",
    "builtin",
    "skills-dir",
    "synced",
    "npm",
    "github",
}
MARKETPLACE_KEYS = {
    "name",
    "owner",
    "plugins",
    "$schema",
    "description",
    "version",
    "metadata",
    "forceRemoveDeletedPlugins",
    "allowCrossMarketplaceDependenciesOn",
    "renames",
}
MANIFEST_KEYS = {
    "$schema",
    "name",
    "displayName",
    "version",
    "description",
    "author",
    "homepage",
    "repository",
    "license",
    "keywords",
    "metadata",
    "defaultEnabled",
    "dependencies",
    "settings",
    "userConfig",
    "channels",
    "skills",
    "commands",
    "agents",
    "hooks",
    "mcpServers",
    "lspServers",
    "outputStyles",
    "workflows",
    "experimental",
}
ENTRY_KEYS = (MANIFEST_KEYS - {"$schema"}) | {
    "source",
    "category",
    "tags",
    "strict",
    "relevance",
    "headers",
    "headersHelper",
}
SERVER_TYPES = {"stdio", "http", "streamable-http", "sse", "ws"}
MCP_RULE = re.compile(r"^mcp__[A-Za-z0-9_-]+(__[A-Za-z0-9_*-]+)?$")


def marketplace_problems(root: Path) -> list[str]:
    """Problems of the marketplace rooted at ``root`` and of every plugin it lists."""
    path = root / ".claude-plugin" / "marketplace.json"
    data = json.loads(path.read_text())
    problems: list[str] = []
    if not isinstance(data, dict):
        return ["marketplace.json is not an object"]
    problems += [f"unknown top-level key {k}" for k in data if k not in MARKETPLACE_KEYS]
    name = data.get("name")
    if not isinstance(name, str) or not ID_PATTERN.match(name) or ".." in name:
        problems.append(f"marketplace name {name!r} is not letters, digits, '.', '_', '-'")
    elif name in RESERVED_MARKETPLACES:
        problems.append(f"marketplace name {name} is reserved")
    owner = data.get("owner")
    if not isinstance(owner, dict) or not str(owner.get("name", "")).strip():
        problems.append("owner.name is required")
    plugins = data.get("plugins")
    if not isinstance(plugins, list):
        return [*problems, "plugins must be an array"]
    names: list[str] = []
    for index, entry in enumerate(plugins):
        problems += [f"plugins[{index}]: {p}" for p in _entry_problems(root, entry)]
        if isinstance(entry, dict):
            names.append(str(entry.get("name")))
    if len(names) != len(set(names)):
        problems.append("duplicate plugin names")
    renames = data.get("renames", {})
    if not isinstance(renames, dict):
        problems.append("renames must be an object")
    else:
        for old, new in renames.items():
            if new is not None and (not isinstance(new, str) or not ID_PATTERN.match(new)):
                problems.append(f"renames.{old}: target {new!r} is not a valid plugin name")
            elif new is not None and new not in names and new not in renames:
                problems.append(f"renames.{old}: chain does not resolve ({new})")
            if old in names:
                problems.append(f"renames.{old}: the former name is still listed")
    return problems


def _entry_problems(root: Path, entry: object) -> list[str]:
    if not isinstance(entry, dict):
        return ["not an object"]
    problems = [f"unknown key {k}" for k in entry if k not in ENTRY_KEYS]
    name = entry.get("name")
    if not isinstance(name, str) or not ID_PATTERN.match(name):
        problems.append(f"name {name!r} cannot be installed")
    source = entry.get("source")
    if not isinstance(source, str) or not source.startswith("./"):
        problems.append(f"source {source!r} is not a relative path starting with ./")
        return problems
    if ".." in source.split("/") or "\\" in source:
        problems.append(f"source {source} leaves the marketplace")
        return problems
    folder = root / source
    if not folder.is_dir():
        return [*problems, f"source {source} does not exist"]
    problems += [f"plugin.json → {p}" for p in plugin_problems(folder)]
    manifest = json.loads((folder / ".claude-plugin" / "plugin.json").read_text())
    if "version" in entry and "version" in manifest:
        problems.append("version is set in both the entry and plugin.json")
    if manifest.get("name") != name:
        problems.append("the entry name differs from plugin.json's")
    return problems


def plugin_problems(folder: Path) -> list[str]:
    """Problems of one plugin folder: its manifest and its components."""
    manifest_path = folder / ".claude-plugin" / "plugin.json"
    if not manifest_path.is_file():
        return ["no .claude-plugin/plugin.json"]
    extra = [p.name for p in (folder / ".claude-plugin").iterdir() if p.name != "plugin.json"]
    problems = [f"{name} inside .claude-plugin/ (components go at the root)" for name in extra]
    manifest = json.loads(manifest_path.read_text())
    problems += [f"unknown key {k}" for k in manifest if k not in MANIFEST_KEYS]
    name = manifest.get("name")
    if not isinstance(name, str) or not name or re.search(r"[\s@:/\\]", name):
        return [*problems, f"name {name!r} is missing or has spaces, '@', ':' or '/'"]
    if not KEBAB.match(name):
        problems.append(f"name {name} is not kebab-case")
    if name.startswith(RESERVED_PLUGIN_PREFIXES):
        problems.append(f"name {name} passes as one of Anthropic's own")
    author = manifest.get("author")
    if author is not None and (not isinstance(author, dict) or not author.get("name")):
        problems.append("author needs a name")
    for skill in (folder / "skills").glob("*") if (folder / "skills").is_dir() else []:
        if not (skill / "SKILL.md").is_file():
            problems.append(f"skills/{skill.name} has no SKILL.md")
    for agent in (folder / "agents").glob("*") if (folder / "agents").is_dir() else []:
        if agent.suffix != ".md":
            problems.append(f"agents/{agent.name} is not a Markdown file")
    if (folder / ".mcp.json").exists():
        problems += mcp_config_problems(json.loads((folder / ".mcp.json").read_text()))
    return problems


def mcp_config_problems(config: object) -> list[str]:
    """Problems of an ``.mcp.json`` document."""
    if not isinstance(config, dict) or not isinstance(config.get("mcpServers"), dict):
        return ["no mcpServers object"]
    problems: list[str] = []
    for key, entry in config["mcpServers"].items():
        if not re.match(r"^[A-Za-z0-9_-]+$", key):
            problems.append(f"server name {key} has characters other than letters, digits, -, _")
        if not isinstance(entry, dict):
            problems.append(f"{key}: not an object")
            continue
        kind = entry.get("type", "stdio")
        if kind not in SERVER_TYPES:
            problems.append(f"{key}: unknown type {kind}")
        elif kind == "stdio":
            if not isinstance(entry.get("command"), str):
                problems.append(f"{key}: a stdio server needs a command")
            args = entry.get("args", [])
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                problems.append(f"{key}: args must be strings")
            env = entry.get("env", {})
            if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
                problems.append(f"{key}: env values must be strings")
        elif not isinstance(entry.get("url"), str):
            problems.append(f"{key}: a remote server needs a url")
    return problems


def managed_settings_problems(settings: object) -> list[str]:
    """Problems of the MCP, permission and hook keys of a managed settings document."""
    if not isinstance(settings, dict):
        return ["not an object"]
    problems: list[str] = []
    for key in ("allowedMcpServers", "deniedMcpServers"):
        for entry in settings.get(key, []):
            if not isinstance(entry, dict) or len(entry) != 1:
                problems.append(f"{key}: {entry!r} is not an object with one key")
                continue
            ((field, value),) = entry.items()
            if field == "serverCommand":
                if (
                    not isinstance(value, list)
                    or not value
                    or not all(isinstance(v, str) for v in value)
                ):
                    problems.append(f"{key}: serverCommand must be a non-empty array of strings")
            elif field == "serverUrl":
                if not isinstance(value, str) or "://" not in value:
                    problems.append(f"{key}: serverUrl must be a URL pattern")
            elif field == "serverName":
                if not isinstance(value, str) or not value.strip():
                    problems.append(f"{key}: serverName must be a name")
            else:
                problems.append(f"{key}: unknown match key {field}")
    permissions = settings.get("permissions", {})
    if not isinstance(permissions, dict):
        return [*problems, "permissions must be an object"]
    for kind in ("allow", "deny"):
        for rule in permissions.get(kind, []):
            if rule.startswith("mcp__") and not MCP_RULE.match(rule):
                problems.append(f"permissions.{kind}: {rule} is not mcp__<server>[__<tool>]")
            if kind == "allow" and rule.startswith("mcp__*"):
                problems.append(f"permissions.allow: {rule} is an unanchored glob")
    hooks = settings.get("hooks", {})
    for group in hooks.get("PreToolUse", []) if isinstance(hooks, dict) else []:
        if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
            problems.append("hooks.PreToolUse: a matcher group needs a hooks array")
            continue
        matcher = group.get("matcher", "")
        if not isinstance(matcher, str):
            problems.append("hooks.PreToolUse: matcher must be a string")
        elif re.search(r"[^A-Za-z0-9_\-, |]", matcher):
            re.compile(matcher)
        for handler in group["hooks"]:
            if handler.get("type") != "command" or not isinstance(handler.get("command"), str):
                problems.append("hooks.PreToolUse: a command handler needs type and command")
    return problems
