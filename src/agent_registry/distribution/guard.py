"""The guard hook: stop Claude Code from running what the registry does not allow.

Claude Code runs ``agentreg hook guard`` as a ``PreToolUse`` hook and hands it the call
as JSON on stdin (``tool_name``, ``tool_input``; https://code.claude.com/docs/en/hooks,
"PreToolUse input"). Three kinds of call can be a registry asset: the ``Skill`` tool
(the skill's name in ``tool_input.skill``), the ``Agent`` tool (``Task`` before it was
renamed; ``tool_input.subagent_type``) and an MCP tool ``mcp__<key>__<tool>`` (or
``mcp__plugin_<plugin>_<key>__<tool>`` for a server a plugin ships).

For those the guard denies, with the reason Claude is shown, when the asset is not
published in the registry, when it is retired (naming the replacement), when an MCP
tool is outside its server's declared scope, or when the copy on disk (the project's or
the user's ``.claude/skills/<name>``, ``.claude/agents/<name>.md``, a bundled server's
``.claude/mcp-servers/<key>``) does not hold the files of a published version: a local
edit, or a local asset borrowing a published name (``drift``; warned instead of denied
when so configured). Everything else passes silently, as does every other tool. A
denial is the documented ``hookSpecificOutput`` with ``permissionDecision: "deny"``;
allowing is exit 0 with no output, which leaves the normal permission flow in charge.

It decides from a snapshot signed by the registry (see
:mod:`agent_registry.distribution.snapshot`), refused when its signature fails, when it
claims to be from the future, or when it is older than ``max_stale`` and the registry
cannot be reached for a new one. The guard never fails its caller. When it cannot decide
(stdin is not a hook call, or there is no usable snapshot) it denies (``closed``, the
default everywhere, so deleting the snapshot and going offline is no way around it)
unless a user chose ``open`` on their own machine, and says why on stderr; the denial
names that choice (:data:`FAIL_VARIABLE`, ``--fail open``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable

from securesystemslib.signer import Signer

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.refs import AssetKind
from agent_registry.catalog.models import CatalogSource
from agent_registry.distribution.local_copy import LocalCopyError, installed_files, tree_digest
from agent_registry.distribution.mcp_launch import PROJECT_SERVERS_DIR
from agent_registry.distribution.naming import split_mcp_tool_name
from agent_registry.distribution.plugin_names import (
    plugin_name,
    split_plugin_mcp_tool,
    split_qualified,
)
from agent_registry.distribution.snapshot import (
    GuardAsset,
    GuardSnapshot,
    open_snapshot,
    read_snapshot,
    save_snapshot,
    sign_snapshot,
    take_snapshot,
)
from agent_registry.signing.keys import Keyring

SKILL_TOOLS = frozenset({"Skill"})
SUBAGENT_TOOLS = frozenset({"Agent", "Task"})
SKILL_FIELDS = ("skill", "command", "name")
"""Where the Skill tool's input has carried the skill's name, newest first. The hooks
reference does not document the Skill tool's input; ``skill`` is what it sends."""

BUILTIN_SUBAGENTS = frozenset(
    {"general-purpose", "Explore", "Plan", "statusline-setup", "output-style-setup"}
)
"""Subagents Claude Code ships; they are not registry assets and always pass."""

MAX_INPUT_BYTES = 4 * 1024 * 1024
"""A hook call larger than this is not read (a written file's content can be large)."""


CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a snapshot's time may be before it is refused as forged."""


FAIL_VARIABLE = "AGENT_REGISTRY_GUARD_FAIL"
"""The variable (or ``--fail``) with which a user chooses fail-open on their machine."""

OPEN_HINT = (
    f"To allow what the guard cannot decide on this machine, set {FAIL_VARIABLE}=open "
    "or pass --fail open (the managed settings never do)."
)


class FailMode(StrEnum):
    """What the guard does when it cannot decide."""

    OPEN = "open"
    CLOSED = "closed"


class DriftMode(StrEnum):
    """What the guard does with a copy on disk that is not a published version's files."""

    DENY = "deny"
    WARN = "warn"


@runtime_checkable
class SignedSnapshotSource(Protocol):
    """A registry that signs the guard's snapshot itself (the API, through its server)."""

    def signed_guard_snapshot(self) -> str:
        """The registry's current snapshot, as a signed envelope."""
        ...


@dataclass(frozen=True)
class CalledAsset:
    """The registry asset a tool call would use, by the name Claude Code gave it.

    Attributes:
        kind: Skill, subagent or MCP server.
        name: The local name (skill or subagent name, or the MCP server key).
        tool: For an MCP server, the tool called.
        plugin: The plugin the call went through, when qualified.
        label: How the call names the asset, for messages.
    """

    kind: AssetKind
    name: str
    tool: str | None = None
    plugin: str | None = None
    label: str = ""


@dataclass(frozen=True)
class Verdict:
    """Deny (with the reason Claude is shown) or let the call through."""

    deny: bool
    reason: str = ""


ALLOW = Verdict(deny=False)


class HookInputError(ValueError):
    """Stdin is not a Claude Code hook call."""


def parse_hook(raw: bytes) -> tuple[str, dict[str, object], Path | None]:
    """``tool_name``, ``tool_input`` and the session's ``cwd`` (None if absent) of a call.

    Raises:
        HookInputError: Not a JSON object with a string ``tool_name``.
    """
    if len(raw) > MAX_INPUT_BYTES:
        raise HookInputError(f"the hook input is larger than {MAX_INPUT_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise HookInputError(f"the hook input is not JSON ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("tool_name"), str):
        raise HookInputError("the hook input has no tool_name; is this a PreToolUse hook?")
    tool_input = data.get("tool_input", {})
    cwd = data.get("cwd")
    return (
        data["tool_name"],
        tool_input if isinstance(tool_input, dict) else {},
        Path(cwd) if isinstance(cwd, str) and cwd.startswith("/") else None,
    )


def called_asset(tool_name: str, tool_input: dict[str, object]) -> CalledAsset | None:
    """The registry asset a call would use, or None for a call no asset is behind."""
    if tool_name in SKILL_TOOLS:
        named = next((v for f in SKILL_FIELDS if isinstance(v := tool_input.get(f), str)), "")
        name = named.strip().lstrip("/").split()[0] if named.strip() else ""
        return _qualified(AssetKind.SKILL, name) if name else None
    if tool_name in SUBAGENT_TOOLS:
        agent = tool_input.get("subagent_type")
        if not isinstance(agent, str) or not agent.strip() or agent in BUILTIN_SUBAGENTS:
            return None
        return _qualified(AssetKind.SUBAGENT, agent.strip())
    scoped = split_plugin_mcp_tool(tool_name)
    if scoped is not None:
        plugin, server, tool = scoped
        return CalledAsset(AssetKind.MCP_SERVER, server, tool, plugin, label=tool_name)
    plain = split_mcp_tool_name(tool_name)
    if plain is not None:
        server, tool = plain
        return CalledAsset(AssetKind.MCP_SERVER, server, tool, None, label=tool_name)
    return None


def _qualified(kind: AssetKind, name: str) -> CalledAsset:
    plugin, component = split_qualified(name)
    return CalledAsset(kind, component, None, plugin, label=name)


def judge(call: CalledAsset, snapshot: GuardSnapshot) -> Verdict:
    """Whether the registry lets ``call`` run, by what ``snapshot`` says.

    A call through a plugin counts as the registry's asset only when the plugin is the
    one the marketplace export made for it; another plugin's component of the same name
    is not registry content.
    """
    noun = {
        AssetKind.SKILL: "skill",
        AssetKind.SUBAGENT: "subagent",
        AssetKind.MCP_SERVER: "MCP server",
    }[call.kind]
    found = snapshot.find(call.kind, call.name)
    if call.plugin is not None:
        found = [a for a in found if plugin_name(a.kind, a.name) == call.plugin]
    if not found:
        shown = call.name if call.kind is AssetKind.MCP_SERVER else call.label
        return Verdict(
            deny=True,
            reason=(
                f"The {noun} '{shown}' is not published in the Agent Registry, so it may "
                f"not run here. Find a published alternative with `agentreg search {call.name}`."
            ),
        )
    usable = [a for a in found if a.status != "retired"]
    if not usable:
        return Verdict(deny=True, reason=_retired(found[0], noun))
    if call.kind is AssetKind.MCP_SERVER and call.tool is not None:
        return _in_scope(call, usable)
    return ALLOW


def local_copies(call: CalledAsset, *, cwd: Path | None, home: Path | None) -> list[Path]:
    """Where Claude Code would load the called asset from on disk, that exist.

    A plugin's copy lives in Claude Code's plugin cache and is not checked here.
    """
    if call.plugin is not None:
        return []
    relative = {
        AssetKind.SKILL: f".claude/skills/{call.name}",
        AssetKind.SUBAGENT: f".claude/agents/{call.name}.md",
        AssetKind.MCP_SERVER: f"{PROJECT_SERVERS_DIR}/{call.name}",
    }[call.kind]
    if "/" in call.name or call.name in {"", ".", ".."}:
        return []
    roots = [cwd] if call.kind is AssetKind.MCP_SERVER else [cwd, home]
    found = [root / relative for root in roots if root is not None]
    return [path for path in found if path.exists() or path.is_symlink()]


def judge_drift(
    call: CalledAsset,
    snapshot: GuardSnapshot,
    copies: list[Path],
    pins: Mapping[str, frozenset[str]] | None = None,
) -> Verdict:
    """Deny a call whose copy on disk is not the files of any published version.

    This is what stops a local skill that only borrows a published name, an installed
    skill edited afterwards, and a bundled MCP server swapped at its path. A server the
    managed export pinned (``--pin key=digest``) must match a pin as well.
    """
    assets = [a for a in snapshot.find(call.kind, call.name) if a.status != "retired"]
    published = {digest for asset in assets for digest in asset.digests}
    pinned = (pins or {}).get(call.name) if call.kind is AssetKind.MCP_SERVER else None
    if pinned is not None:
        published = published & pinned if published else set(pinned)
    if not assets or (not published and pinned is None):
        return ALLOW
    single = assets[0].single_file
    refs = ", ".join(asset.ref for asset in assets)
    for path in copies:
        try:
            digest = tree_digest(installed_files(path, single_file=single), single_file=single)
        except LocalCopyError as error:
            return Verdict(deny=True, reason=f"{path} cannot be checked against {refs}: {error}")
        if digest not in published:
            return Verdict(
                deny=True,
                reason=(
                    f"{path} is not the published content of {refs}: its files differ "
                    f"(files digest {digest[:12]}, published "
                    f"{', '.join(d[:12] for d in sorted(published))}). It was edited after "
                    f"install, or is a local asset using a published name; reinstall it with "
                    f"`agentreg install {assets[0].ref}`."
                ),
            )
    return ALLOW


def _retired(asset: GuardAsset, noun: str) -> str:
    why = f": {asset.reason}" if asset.reason else ""
    use = (
        f" Use {asset.replacement} instead (`agentreg install {asset.replacement}`)."
        if asset.replacement
        else " No replacement was named."
    )
    return f"The {noun} {asset.ref} is retired in the Agent Registry{why}.{use}"


def _in_scope(call: CalledAsset, servers: list[GuardAsset]) -> Verdict:
    declared = sorted({tool for server in servers for tool in (server.tools or [])})
    if call.tool in declared:
        return ALLOW
    refs = ", ".join(server.ref for server in servers)
    listed = ", ".join(declared) or "none"
    return Verdict(
        deny=True,
        reason=(
            f"{call.label} is not in the declared scope of {refs} (declared tools: {listed}); "
            "the Agent Registry allows only tools a server declared and was reviewed for."
        ),
    )


def deny_output(reason: str) -> str:
    """The documented PreToolUse denial, as the line to print on stdout."""
    return json.dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": reason,
            }
        }
    )


@dataclass(frozen=True)
class GuardConfig:
    """How the guard finds and refreshes its snapshot, and what it does when it can't.

    Attributes:
        mode: Allow (``open``) or deny (``closed``) when no decision can be made.
        snapshot_path: The snapshot file.
        max_age: A snapshot older than this is refreshed before use.
        timeout: Seconds a refresh may take; past it, the old snapshot is used.
        keyring: The registry's public keys; a snapshot they do not verify is refused.
        max_stale: A snapshot older than this is not used even when the registry cannot
            be reached: the call is undecided (denied in ``closed`` mode).
        signer: Signs a snapshot read straight from the registry database (on the
            registry's own host, which holds the key); the API signs its own.
        drift: Deny (default) or only warn about a copy on disk that is not published.
        pins: Files digests a bundled MCP server's copy must have, by ``.mcp.json`` key
            (written into the command by the managed-settings export).
        home: The user's home, where personal skills and subagents live.
        limits: Caps on bundles read while taking a snapshot from the database.
    """

    mode: FailMode
    snapshot_path: Path
    max_age: timedelta
    timeout: float
    keyring: Keyring
    max_stale: timedelta = timedelta(hours=24)
    signer: Signer | None = None
    drift: DriftMode = DriftMode.DENY
    home: Path | None = None
    pins: Mapping[str, frozenset[str]] = field(default_factory=dict)
    limits: BundleLimits = field(default_factory=BundleLimits)


def run_guard(
    raw: bytes,
    *,
    config: GuardConfig,
    open_catalog: Callable[[], CatalogSource],
    now: datetime,
    err: TextIO,
) -> str | None:
    """Decide one hook call; never raises.

    Args:
        raw: The hook's stdin.
        config: Snapshot and failure settings.
        open_catalog: Opens the registry, for a refresh.
        now: The current time.
        err: Where to explain an undecided call (stderr).

    Returns:
        The denial to print on stdout, or None to let the call through.
    """
    try:
        tool_name, tool_input, cwd = parse_hook(raw)
    except HookInputError as error:
        return undecided(config.mode, f"agentreg guard: {error}", err)
    try:
        call = called_asset(tool_name, tool_input)
        if call is None:
            return None
        snapshot, problem = _current_snapshot(config, open_catalog, now, err)
        if snapshot is None:
            return undecided(config.mode, f"agentreg guard: {problem}", err)
        verdict = judge(call, snapshot)
        if not verdict.deny:
            copies = local_copies(call, cwd=cwd, home=config.home)
            verdict = judge_drift(call, snapshot, copies, config.pins)
            if verdict.deny and config.drift is DriftMode.WARN:
                err.write(f"agentreg guard: warning: {verdict.reason}\n")
                verdict = ALLOW
    except Exception as error:  # the hook must answer whatever happens
        return undecided(config.mode, f"agentreg guard: {type(error).__name__}: {error}", err)
    return deny_output(verdict.reason) if verdict.deny else None


def parse_pins(values: Sequence[str]) -> dict[str, frozenset[str]]:
    """``key=digest`` flags as digests by key; malformed ones are dropped, never fatal."""
    pins: dict[str, set[str]] = {}
    for value in values:
        key, _, digest = value.partition("=")
        if key and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
            pins.setdefault(key, set()).add(digest)
    return {key: frozenset(digests) for key, digests in pins.items()}


def undecided(mode: FailMode, message: str, err: TextIO) -> str | None:
    """The answer when no decision can be made: allow or deny by ``mode``, said on stderr.

    Returns:
        The denial to print, or None to allow.
    """
    if mode is FailMode.OPEN:
        err.write(f"{message}; allowing (fail open)\n")
        return None
    err.write(f"{message}; denying (fail closed)\n")
    return deny_output(
        f"{message}. The registry guard fails closed, so the call is denied. {OPEN_HINT}"
    )


def _current_snapshot(
    config: GuardConfig,
    open_catalog: Callable[[], CatalogSource],
    now: datetime,
    err: TextIO,
) -> tuple[GuardSnapshot | None, str]:
    """The snapshot, refreshed first when stale; a stale one when refreshing fails.

    A snapshot that does not verify, or that claims a time in the future, counts as
    none; one older than ``max_stale`` is not used.

    Returns:
        The snapshot to decide by (None if there is none), and why no usable one was
        found (empty when one was).
    """
    snapshot, problem = read_snapshot(config.snapshot_path, config.keyring)
    if snapshot is not None and snapshot.taken_at > now + CLOCK_SKEW:
        problem = (
            f"the snapshot at {config.snapshot_path} claims to be taken "
            f"{snapshot.taken_at:%Y-%m-%d %H:%M} UTC, in the future, so it is refused"
        )
        snapshot = None
    if snapshot is not None and now - snapshot.taken_at <= config.max_age:
        return snapshot, ""
    fresh, failure = _refresh(open_catalog, now, config)
    if fresh is not None:
        envelope, taken = fresh
        try:
            save_snapshot(config.snapshot_path, envelope)
        except OSError as error:
            err.write(f"agentreg guard: cannot save the snapshot ({error})\n")
        return taken, ""
    if snapshot is not None and now - snapshot.taken_at <= config.max_stale:
        err.write(
            f"agentreg guard: {failure}; using the snapshot taken "
            f"{snapshot.taken_at:%Y-%m-%d %H:%M} UTC\n"
        )
        return snapshot, ""
    if snapshot is not None:
        problem = (
            f"the snapshot taken {snapshot.taken_at:%Y-%m-%d %H:%M} UTC is older than the "
            f"{_hours(config.max_stale)} the guard trusts a snapshot for"
        )
    return None, f"{failure}, and {problem}"


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hours"


def _refresh(
    open_catalog: Callable[[], CatalogSource], now: datetime, config: GuardConfig
) -> tuple[tuple[str, GuardSnapshot] | None, str]:
    """A new signed snapshot within ``config.timeout`` seconds, or None and why not.

    The read runs in a daemon thread so a registry that hangs costs the call no more
    than the timeout; the process ends right after the hook answers, taking it along.
    What the registry sends is verified like the file: an answer no trusted key signed,
    or one dated in the future, is not used.
    """
    outcome: dict[str, object] = {}
    timeout = config.timeout
    deadline = time.monotonic() + timeout

    def read() -> None:
        try:
            catalog = open_catalog()
            if isinstance(catalog, SignedSnapshotSource):
                envelope = catalog.signed_guard_snapshot()
            elif config.signer is not None:
                taken = take_snapshot(catalog, now=now, limits=config.limits, deadline=deadline)
                envelope = sign_snapshot(taken, config.signer)
            else:
                raise LookupError(
                    "the registry database is readable here but no signing key is configured "
                    "to sign a snapshot (set AGENT_REGISTRY_API_URL, or AGENT_REGISTRY_SIGNING_KEY "
                    "on the registry's host)"
                )
            snapshot = open_snapshot(envelope, config.keyring)
            if snapshot.taken_at > now + CLOCK_SKEW:
                raise ValueError("the registry sent a snapshot dated in the future")
            outcome["fresh"] = (envelope, snapshot)
        except Exception as error:  # reported to the caller, who decides
            outcome["error"] = error

    worker = threading.Thread(target=read, name="agentreg-guard-refresh", daemon=True)
    worker.start()
    worker.join(timeout)
    fresh = outcome.get("fresh")
    if isinstance(fresh, tuple):
        return (str(fresh[0]), fresh[1]), ""
    error = outcome.get("error")
    if error is not None:
        return None, f"the registry cannot be reached ({type(error).__name__}: {error})"
    return None, f"the registry did not answer within {timeout:g}s"
