"""What changed between the published version of an asset and the one under review.

A reviewer of version N+1 has already trusted version N; what they need to judge is the
difference in what the asset says it does (its description) and in what it may do (its
scope). This module compares the stored manifests of both versions and describes those
differences as short lines, so the review message can show them next to the findings.

The lines are plain text: they quote submitter content verbatim, and whoever renders
them (Slack mrkdwn, a terminal) escapes them for that medium.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from agent_registry.assets.refs import AssetKind

DESCRIPTION_PREVIEW = 160
"""Characters of each description shown in a change line; the rest is elided."""

SCOPE_KEY = "scope"
"""Key under which the caller puts an MCP server's declared scope next to its manifest."""

NOT_SET = "(not set)"

_TOOL_SEPARATORS = re.compile(r"[,\s]+(?![^()]*\))")

ManifestJson = Mapping[str, object]
_Differ = Callable[[ManifestJson, ManifestJson], list[str]]


def manifest_changes(
    previous: dict[str, object], current: dict[str, object], *, kind: AssetKind
) -> list[str]:
    """Describe how the description and scope changed from ``previous`` to ``current``.

    Only what a reviewer must re-judge is compared: fields that change nothing about what
    the asset claims or may do (license, metadata, version) are left out, so an empty
    list means "same description, same scope".

    Args:
        previous: Manifest JSON of the published version, as the registry stores it
            (``model_dump(mode="json", by_alias=True)``); for MCP servers with the
            declared scope under ``"scope"`` as ``{"tools": [{"name", "effects", ...}]}``.
        current: The same for the version under review.
        kind: The asset kind, which decides which fields hold scope.

    Returns:
        One line per change, description first, then scope fields in a fixed order and
        names sorted within each line, so the same pair always reads the same way.
    """
    lines = _description_change(previous, current)
    for differ in _DIFFERS[kind]:
        lines.extend(differ(previous, current))
    return lines


def _description_change(previous: ManifestJson, current: ManifestJson) -> list[str]:
    old, new = _text(previous.get("description")), _text(current.get("description"))
    if old == new:
        return []
    return [f"description: {_quote(old)} → {_quote(new)}"]


def _skill_changes(previous: ManifestJson, current: ManifestJson) -> list[str]:
    """``allowed-tools`` are pre-approved: every addition is a tool used without asking."""
    return _added_removed(
        "allowed-tools",
        _tools(previous.get("allowed-tools")) or [],
        _tools(current.get("allowed-tools")) or [],
    )


def _subagent_changes(previous: ManifestJson, current: ManifestJson) -> list[str]:
    lines = _subagent_tools_change(previous, current)
    lines += _added_removed(
        "disallowedTools",
        _tools(previous.get("disallowedTools")) or [],
        _tools(current.get("disallowedTools")) or [],
    )
    lines += _value_change("permissionMode", previous, current)
    lines += _value_change("model", previous, current)
    lines += _added_removed(
        "mcpServers",
        _server_names(previous.get("mcpServers")),
        _server_names(current.get("mcpServers")),
    )
    lines += _added_removed(
        "hooks", _hook_events(previous.get("hooks")), _hook_events(current.get("hooks"))
    )
    return lines


def _subagent_tools_change(previous: ManifestJson, current: ManifestJson) -> list[str]:
    """A missing ``tools`` field means every tool, so appearing or vanishing is a change."""
    old, new = _tools(previous.get("tools")), _tools(current.get("tools"))
    if old is not None and new is None:
        return [f"tools: now inherits every tool (was {_names(old) or 'no tools'})"]
    if old is None and new is not None:
        return [f"tools: now limited to {_names(new) or 'no tools'} (inherited every tool before)"]
    return _added_removed("tools", old or [], new or [])


def _mcp_changes(previous: ManifestJson, current: ManifestJson) -> list[str]:
    lines = _declared_tool_changes(_declared_tools(previous), _declared_tools(current))
    lines += _package_changes(_packages(previous), _packages(current))
    lines += _added_removed("remotes", _remotes(previous), _remotes(current))
    return lines


def _declared_tool_changes(
    previous: dict[str, list[str]], current: dict[str, list[str]]
) -> list[str]:
    """Tools come and go as whole lines; a kept tool shows only the effects that moved."""
    lines = [
        f"tool added: {name} ({_names(current[name]) or 'no effects declared'})"
        for name in sorted(current.keys() - previous.keys())
    ]
    lines += [f"tool removed: {name}" for name in sorted(previous.keys() - current.keys())]
    for name in sorted(previous.keys() & current.keys()):
        moves = _set_moves(previous[name], current[name])
        if moves:
            lines.append(f"{name}: {moves}")
    return lines


def _package_changes(
    previous: dict[str, dict[str, object]], current: dict[str, dict[str, object]]
) -> list[str]:
    """Packages are matched by registry and identifier, so an upgrade reads as one line."""
    lines = [
        f"package added: {key}{_package_detail(current[key])}"
        for key in sorted(current.keys() - previous.keys())
    ]
    lines += [f"package removed: {key}" for key in sorted(previous.keys() - current.keys())]
    for key in sorted(previous.keys() & current.keys()):
        old, new = previous[key], current[key]
        for field in ("version", "transport"):
            if old.get(field) != new.get(field):
                lines.append(
                    f"package {key} {field}: {_text(old.get(field)) or NOT_SET} → "
                    f"{_text(new.get(field)) or NOT_SET}"
                )
        lines += _added_removed(f"package {key} env", _env(old), _env(new))
    return lines


def _package_detail(package: Mapping[str, object]) -> str:
    parts = [_text(package.get("version")), _text(package.get("transport"))]
    env = _env(package)
    if env:
        parts.append(f"env {_names(env)}")
    shown = [part for part in parts if part]
    return f" ({', '.join(shown)})" if shown else ""


def _value_change(field: str, previous: ManifestJson, current: ManifestJson) -> list[str]:
    old, new = _text(previous.get(field)), _text(current.get(field))
    if old == new:
        return []
    return [f"{field}: {old or NOT_SET} → {new or NOT_SET}"]


def _added_removed(label: str, previous: Iterable[str], current: Iterable[str]) -> list[str]:
    old, new = set(previous), set(current)
    lines: list[str] = []
    if new - old:
        lines.append(f"{label} added: {_names(new - old)}")
    if old - new:
        lines.append(f"{label} removed: {_names(old - new)}")
    return lines


def _set_moves(previous: Iterable[str], current: Iterable[str]) -> str:
    """``+delete, -read``: additions first, since those widen what the tool may do."""
    old, new = set(previous), set(current)
    return ", ".join([f"+{e}" for e in sorted(new - old)] + [f"-{e}" for e in sorted(old - new)])


def _tools(value: object) -> list[str] | None:
    """Tool lists are lists once validated, but both formats also allow a string."""
    if value is None:
        return None
    if isinstance(value, str):
        return [part for part in _TOOL_SEPARATORS.split(value) if part]
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


def _declared_tools(manifest: ManifestJson) -> dict[str, list[str]]:
    """Name → effects of the declared scope; a missing scope declares no tools."""
    scope = manifest.get(SCOPE_KEY)
    tools = scope.get("tools") if isinstance(scope, Mapping) else None
    declared: dict[str, list[str]] = {}
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, Mapping) and tool.get("name"):
            effects = tool.get("effects")
            if isinstance(effects, str):
                effects = [effects]
            declared[str(tool["name"])] = [
                str(e) for e in (effects if isinstance(effects, list) else [])
            ]
    return declared


def _packages(manifest: ManifestJson) -> dict[str, dict[str, object]]:
    packages: dict[str, dict[str, object]] = {}
    for package in _mappings(manifest.get("packages")):
        key = f"{_text(package.get('registryType'))} {_text(package.get('identifier'))}".strip()
        transport = package.get("transport")
        packages[key] = {
            "version": package.get("version"),
            "transport": transport.get("type") if isinstance(transport, Mapping) else transport,
            "environmentVariables": package.get("environmentVariables"),
        }
    return packages


def _env(package: Mapping[str, object]) -> list[str]:
    """Env var names, secrets marked: a new secret is a new credential the server holds."""
    names: list[str] = []
    for variable in _mappings(package.get("environmentVariables")):
        name = _text(variable.get("name"))
        names.append(f"{name} (secret)" if variable.get("isSecret") else name)
    return names


def _remotes(manifest: ManifestJson) -> list[str]:
    return [
        f"{_text(remote.get('type'))} {_text(remote.get('url'))}".strip()
        for remote in _mappings(manifest.get("remotes"))
    ]


def _server_names(value: object) -> list[str]:
    """``mcpServers`` is a list of names or a name → config map."""
    if isinstance(value, Mapping):
        return [str(key) for key in value]
    if isinstance(value, list):
        return [
            str(item) if not isinstance(item, Mapping) else _text(item.get("name"))
            for item in value
        ]
    return []


def _hook_events(value: object) -> list[str]:
    """Hooks run commands; which events have them is what a reviewer needs to see."""
    return [str(key) for key in value] if isinstance(value, Mapping) else []


def _mappings(value: object) -> list[Mapping[str, object]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _names(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _quote(text: str) -> str:
    """Quote a description, one line, cut at :data:`DESCRIPTION_PREVIEW` characters."""
    flat = " ".join(text.split())
    if len(flat) > DESCRIPTION_PREVIEW:
        flat = flat[: DESCRIPTION_PREVIEW - 1].rstrip() + "…"
    return f'"{flat}"' if flat else NOT_SET


_DIFFERS: dict[AssetKind, tuple[_Differ, ...]] = {
    AssetKind.SKILL: (_skill_changes,),
    AssetKind.SUBAGENT: (_subagent_changes,),
    AssetKind.MCP_SERVER: (_mcp_changes,),
}
