"""Exporting the registry's MCP policy as Claude Code managed settings.

Administrators deploy the file as ``managed-settings.json``; its keys are the documented
ones (https://code.claude.com/docs/en/managed-mcp and /permissions):

- ``allowedMcpServers`` lists each published server by what it runs, a
  ``serverCommand`` (the exact command and arguments) for a stdio server and a
  ``serverUrl`` for a remote one; ``serverName`` entries are not used, because the docs
  warn a user can give any server any name. ``allowManagedMcpServersOnly`` makes that
  list the only allowlist. A server that runs its own bundled files is matched by a
  path, and any file at that path in any repository would match; so it is allowlisted
  only with the guard, whose command pins its files digest (``--pin key=digest``) and
  which denies its tools when the copy at that path is not the published one.
- ``deniedMcpServers`` lists the commands and URLs of deprecated and retired versions,
  except those a published version still uses.
- ``permissions.allow`` pre-approves each declared tool, ``mcp__<key>__<tool>``, and
  ``permissions.deny`` blocks ``mcp__<key>`` (every tool) of a server with no published
  version left; each rule is also written for the server's plugin form,
  ``mcp__plugin_mcp-<key>_<key>…``, the name its tools get when installed from the
  exported marketplace. A deny rule cannot carry exceptions (deny is evaluated before allow), so
  a published server's undeclared tools cannot be denied by rule; they fall back to the
  permission prompt, and the guard hook (``--with-guard``) denies them.
- ``hooks.PreToolUse`` (``--with-guard``) runs ``agentreg hook guard`` on skill,
  subagent and MCP tool calls, failing closed, with the registry's public keys inline
  (``--trusted-keys``) so no file or variable a user controls decides what it trusts.

An existing file is merged: keys the export does not own are kept, as are permission
rules and hooks that are not about the registry's servers or its guard.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.kinds import parse_mcp_server
from agent_registry.assets.refs import AssetKind
from agent_registry.catalog.models import (
    MAX_PAGE_SIZE,
    CatalogNotFoundError,
    CatalogSource,
    SearchQuery,
    VersionSummary,
)
from agent_registry.distribution.bundles import verified_bundle
from agent_registry.distribution.errors import DistributionError
from agent_registry.distribution.files import atomic_write_text, bundle_digests
from agent_registry.distribution.listing import every_hit
from agent_registry.distribution.local_copy import tree_digest
from agent_registry.distribution.mcp_launch import McpLaunch, mcp_launch, project_bundle_root
from agent_registry.distribution.naming import MCP_TOOL_PREFIX, mcp_server_key, mcp_tool_name
from agent_registry.distribution.plugin_names import plugin_name
from agent_registry.lifecycle.stages import Stage
from agent_registry.signing.keys import Keyring

GUARD_COMMAND = "agentreg hook guard"
GUARD_MATCHER = "^(Skill|Agent|Task|mcp__.*)$"
"""Tools the guard judges; a regular expression, per the hooks reference's matcher rules."""

GUARD_TIMEOUT_SECONDS = 10

_LIVE = frozenset({Stage.PUBLISHED.value, Stage.RECERTIFYING.value})
_WITHDRAWN = frozenset({Stage.DEPRECATED.value, Stage.RETIRED.value})
_OWNED_KEYS = ("allowManagedMcpServersOnly", "allowedMcpServers", "deniedMcpServers")

ServerMatch = dict[str, object]
"""One ``allowedMcpServers``/``deniedMcpServers`` entry."""


@dataclass
class ManagedPolicy:
    """The registry's MCP policy, before it is written.

    Attributes:
        allowed: Allowlist entries of published versions.
        denied: Denylist entries of withdrawn versions.
        allow_rules: Permission rules pre-approving declared tools.
        deny_rules: Permission rules blocking servers with nothing published.
        keys: Every ``.mcp.json`` key the policy speaks for.
        allowed_refs: Versions allowed.
        denied_refs: Versions denied.
        skipped: Versions left out, with the reason.
        pins: For each server that runs its own bundled files, the files digests of its
            published versions: what the guard requires the copy on disk to hash to.
    """

    allowed: list[ServerMatch] = field(default_factory=list)
    denied: list[ServerMatch] = field(default_factory=list)
    allow_rules: list[str] = field(default_factory=list)
    deny_rules: list[str] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    allowed_refs: list[str] = field(default_factory=list)
    denied_refs: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pins: dict[str, set[str]] = field(default_factory=dict)


def mcp_policy(
    catalog: CatalogSource, *, limits: BundleLimits, with_guard: bool = False
) -> ManagedPolicy:
    """Read every MCP server version and sort them into allowed and denied.

    Args:
        catalog: The registry.
        limits: Caps on the bundles read.
        with_guard: Whether the guard runs; without it a server that runs its own files
            cannot be checked by content, so it is left out (and said so).

    Raises:
        BundleMismatchError: A version's bundle is not its reviewed content.
    """
    policy = ManagedPolicy()
    live: list[tuple[VersionSummary, McpLaunch]] = []
    withdrawn: list[tuple[VersionSummary, McpLaunch]] = []
    live_keys: set[str] = set()
    for version in _mcp_versions(catalog):
        try:
            detail = catalog.show(version.ref)
            bundle = verified_bundle(catalog, detail, limits=limits)
        except CatalogNotFoundError as missing:
            policy.skipped.append(f"{version.ref}: {missing}")
            continue
        key = mcp_server_key(detail.name)
        launch = mcp_launch(parse_mcp_server(bundle), bundle_root=project_bundle_root(key))
        policy.keys.add(key)
        if detail.stage in _LIVE and launch.ships_bundle:
            if not with_guard:
                policy.skipped.append(
                    f"{detail.ref}: it runs its own files, matched only by their path; it is "
                    "allowed with --with-guard, which checks them by content"
                )
                continue
            digest = tree_digest(bundle_digests(bundle), single_file=bundle.single_file)
            policy.pins.setdefault(key, set()).add(digest)
        if detail.stage in _LIVE:
            live.append((detail, launch))
            live_keys.add(key)
            policy.allow_rules.extend(
                mcp_tool_name(server, tool.name)
                for server in rule_servers(key)
                for tool in detail.scope
            )
        else:
            withdrawn.append((detail, launch))
    in_use = [_match(launch) for _, launch in live]
    for version, launch in live:
        _add(policy.allowed, _match(launch))
        policy.allowed_refs.append(version.ref)
    for version, launch in withdrawn:
        match = _match(launch)
        if match not in in_use:
            _add(policy.denied, match)
            policy.denied_refs.append(version.ref)
    for key in sorted(policy.keys - live_keys):
        policy.deny_rules.extend(f"{MCP_TOOL_PREFIX}{server}" for server in rule_servers(key))
    policy.allow_rules = sorted(set(policy.allow_rules))
    return policy


def _mcp_versions(catalog: CatalogSource) -> list[VersionSummary]:
    """Every published, deprecated or retired version of every MCP server, once each."""
    assets: dict[str, VersionSummary] = {}
    stages = [*sorted(_LIVE), *sorted(_WITHDRAWN)]
    for stage in stages:
        query = SearchQuery(kind=AssetKind.MCP_SERVER, stage=stage, limit=MAX_PAGE_SIZE)
        for hit in every_hit(catalog, query):
            assets.setdefault(hit.name, hit)
    versions: dict[str, VersionSummary] = {}
    for first in assets.values():
        detail = catalog.show(first.ref)
        listed: list[VersionSummary] = [detail, *detail.other_versions]
        for version in listed:
            if version.stage in _LIVE | _WITHDRAWN:
                versions.setdefault(version.ref, version)
    return sorted(versions.values(), key=lambda v: v.ref)


def _match(launch: McpLaunch) -> ServerMatch:
    if launch.server_url is not None:
        return {"serverUrl": launch.server_url}
    return {"serverCommand": list(launch.server_command or ())}


def _add(entries: list[ServerMatch], entry: ServerMatch) -> None:
    if entry not in entries:
        entries.append(entry)


def guard_command_line(policy: ManagedPolicy, keyring: Keyring, command: str) -> str:
    """The guard's command as the export writes it: closed, its keys and pins inline."""
    pins = " ".join(
        f"--pin {shlex.quote(f'{key}={digest}')}"
        for key in sorted(policy.pins)
        for digest in sorted(policy.pins[key])
    )
    line = f"{command} --fail closed --trusted-keys {shlex.quote(keyring.to_json())}"
    return f"{line} {pins}" if pins else line


def settings_document(
    policy: ManagedPolicy, *, with_guard: bool, guard_command: str = GUARD_COMMAND
) -> dict[str, object]:
    """The managed settings that enforce ``policy`` (and run ``guard_command``, if asked)."""
    document: dict[str, object] = {
        "allowManagedMcpServersOnly": True,
        "allowedMcpServers": policy.allowed,
        "deniedMcpServers": policy.denied,
        "permissions": {"allow": policy.allow_rules, "deny": policy.deny_rules},
    }
    if with_guard:
        document["hooks"] = {"PreToolUse": [guard_hook(guard_command)]}
    return document


def guard_hook(command: str = GUARD_COMMAND) -> dict[str, object]:
    """The ``PreToolUse`` matcher group that runs the guard."""
    return {
        "matcher": GUARD_MATCHER,
        "hooks": [{"type": "command", "command": command, "timeout": GUARD_TIMEOUT_SECONDS}],
    }


def merge_settings(
    existing: dict[str, object], policy: ManagedPolicy, ours: dict[str, object]
) -> dict[str, object]:
    """``existing`` with the registry's part replaced by ``ours``, the rest kept.

    Permission rules about the policy's servers and earlier guard hooks are replaced;
    other rules and hooks are the administrator's and stay.
    """
    merged = dict(existing)
    for key in _OWNED_KEYS:
        merged[key] = ours[key]
    permissions = dict(_object(existing.get("permissions")))
    new_rules = _object(ours["permissions"])
    for kind in ("allow", "deny"):
        kept = [
            rule
            for rule in _strings(permissions.get(kind))
            if not _about(rule, policy.keys) and rule not in _strings(new_rules.get(kind))
        ]
        permissions[kind] = [*kept, *_strings(new_rules.get(kind))]
    merged["permissions"] = permissions
    hooks = dict(_object(existing.get("hooks")))
    groups = [
        group
        for group in _list(hooks.get("PreToolUse"))
        if not (isinstance(group, dict) and _runs_guard(group))
    ]
    ours_hooks = _object(ours.get("hooks"))
    groups.extend(_list(ours_hooks.get("PreToolUse")))
    if groups:
        hooks["PreToolUse"] = groups
    else:
        hooks.pop("PreToolUse", None)
    if hooks:
        merged["hooks"] = hooks
    else:
        merged.pop("hooks", None)
    return merged


def _about(rule: str, keys: set[str]) -> bool:
    """Whether a permission rule names one of the policy's servers, in either form."""
    if not rule.startswith(MCP_TOOL_PREFIX):
        return False
    server = rule[len(MCP_TOOL_PREFIX) :].split("__", 1)[0]
    return any(server in rule_servers(key) for key in keys)


def rule_servers(key: str) -> tuple[str, str]:
    """The server segments a key's tools have: from ``.mcp.json``, and from its plugin.

    Claude Code names a plugin-bundled server's tools ``mcp__plugin_<plugin>_<key>__…``
    (https://code.claude.com/docs/en/mcp#plugin-provided-mcp-servers); rules are
    written for both, so a server installed either way is covered.
    """
    return key, f"plugin_{plugin_name(AssetKind.MCP_SERVER, key)}_{key}"


def _runs_guard(group: dict[object, object]) -> bool:
    return any(
        isinstance(hook, dict) and "hook guard" in str(hook.get("command", ""))
        for hook in _list(group.get("hooks"))
    )


def _object(value: object) -> dict[str, object]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _strings(value: object) -> list[str]:
    return [item for item in _list(value) if isinstance(item, str)]


@dataclass(frozen=True)
class ManagedSettingsExport:
    """What the export wrote: the file and the policy in it."""

    path: Path
    policy: ManagedPolicy
    document: dict[str, object]


def export_managed_settings(
    catalog: CatalogSource,
    path: Path,
    *,
    limits: BundleLimits,
    with_guard: bool = False,
    guard_command: str = GUARD_COMMAND,
    keyring: Keyring | None = None,
) -> ManagedSettingsExport:
    """Write (or update) the managed settings file at ``path``.

    Args:
        catalog: The registry.
        path: The managed settings file.
        limits: Caps on the bundles read.
        with_guard: Also run the guard before tool calls.
        guard_command: How the guard is started; the export adds ``--fail closed``,
            the keys and the pins.
        keyring: The registry's public keys, embedded in the guard's command.

    Raises:
        DistributionError: ``path`` exists but is not a JSON object, or the guard is
            asked for without the registry's keys.
        BundleMismatchError: A bundle is not its version's reviewed content; nothing
            is written.
    """
    existing = _read_settings(path)
    if with_guard and not keyring:
        raise DistributionError(
            "the guard checks the registry's signatures, so --with-guard needs its public "
            "keys: set AGENT_REGISTRY_TRUSTED_KEYS (or AGENT_REGISTRY_SIGNING_KEY on the "
            "registry's host)"
        )
    policy = mcp_policy(catalog, limits=limits, with_guard=with_guard)
    if with_guard and keyring:
        guard_command = guard_command_line(policy, keyring, guard_command)
    ours = settings_document(policy, with_guard=with_guard, guard_command=guard_command)
    document = merge_settings(existing, policy, ours)
    atomic_write_text(path, json.dumps(document, indent=2) + "\n")
    return ManagedSettingsExport(path=path, policy=policy, document=document)


def _read_settings(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    try:
        existing = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DistributionError(
            f"{path} exists but cannot be read as JSON ({error}); fix or move it first"
        ) from None
    if not isinstance(existing, dict):
        raise DistributionError(f"{path} exists but is not a JSON object; fix or move it first")
    return existing
