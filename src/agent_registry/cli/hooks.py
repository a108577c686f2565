"""``agentreg hook …``: commands Claude Code runs as hooks, reading its JSON on stdin.

A hook runs on every tool call, so this module imports only what the two hooks need:
``agentreg`` dispatches ``hook`` here before loading the rest of the CLI (Temporal's
client, the database layer, the MCP SDK), which would cost seconds per call.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agent_registry.distribution.guard import FAIL_VARIABLE
from agent_registry.distribution.guard_entry import (
    DEFAULT_MAX_AGE_MINUTES,
    DEFAULT_MAX_STALE_HOURS,
    DEFAULT_TIMEOUT_SECONDS,
    DRIFT_VARIABLE,
    MAX_AGE_VARIABLE,
    MAX_STALE_VARIABLE,
    SNAPSHOT_VARIABLE,
    TIMEOUT_VARIABLE,
    parse_drift,
    parse_mode,
    parse_number,
    serve_guard,
)
from agent_registry.usage.entry import hook_main

hook_app = typer.Typer(
    help="Claude Code hooks: run by Claude Code on tool calls, with its JSON on stdin.",
    no_args_is_help=True,
)


@hook_app.command()
def usage() -> None:
    """Count a use of a registry skill, subagent or MCP tool (PostToolUse hook).

    Prints nothing, always exits 0 and never waits long: the use is spooled locally
    and sent in batches; problems are written to usage-hook.log in the spool folder.
    """
    hook_main(getattr(sys.stdin, "buffer", None))


@hook_app.command()
def guard(
    fail: Annotated[
        str | None,
        typer.Option(
            "--fail",
            envvar=FAIL_VARIABLE,
            help="When there is no usable signed snapshot and the registry cannot be "
            "reached, or the input is unreadable: closed (deny, the default and what the "
            "managed-settings export writes) or open (allow; a choice for your own machine).",
        ),
    ] = None,
    max_age: Annotated[
        str | None,
        typer.Option(
            envvar=MAX_AGE_VARIABLE,
            help="Minutes a snapshot is used before it is refreshed "
            f"[{DEFAULT_MAX_AGE_MINUTES:g}].",
        ),
    ] = None,
    timeout: Annotated[
        str | None,
        typer.Option(
            envvar=TIMEOUT_VARIABLE,
            help="Seconds a refresh may take before the old snapshot is used "
            f"[{DEFAULT_TIMEOUT_SECONDS:g}].",
        ),
    ] = None,
    snapshot: Annotated[
        str | None,
        typer.Option(
            envvar=SNAPSHOT_VARIABLE,
            help="The snapshot file (default: guard.json in the user's registry cache).",
        ),
    ] = None,
    max_stale: Annotated[
        str | None,
        typer.Option(
            envvar=MAX_STALE_VARIABLE,
            help="Hours a snapshot may still be used while the registry cannot be reached "
            f"[{DEFAULT_MAX_STALE_HOURS:g}].",
        ),
    ] = None,
    drift: Annotated[
        str | None,
        typer.Option(
            envvar=DRIFT_VARIABLE,
            help="A copy on disk that is not a published version's files: deny (default) or warn.",
        ),
    ] = None,
    trusted_keys: Annotated[
        str | None,
        typer.Option(
            help="The registry's public keys: a keyring inline (JSON) or its file; "
            "overrides AGENT_REGISTRY_TRUSTED_KEYS.",
        ),
    ] = None,
    pin: Annotated[
        list[str] | None,
        typer.Option(
            help="KEY=DIGEST: the files digest a bundled MCP server's copy must have "
            "(repeatable; written by the managed-settings export).",
        ),
    ] = None,
) -> None:
    """Deny unpublished or retired skills, subagents and MCP tools (PreToolUse hook).

    Reads Claude Code's hook JSON on stdin. Allows silently; denies with Claude Code's
    documented JSON on stdout, giving the reason and the replacement. Decides from a
    local snapshot of the catalog signed by the registry, refreshed when older than
    --max-age and refused when its signature fails, when it is dated in the future or
    when it is older than --max-stale. Denies a skill, subagent or bundled MCP server
    whose copy on disk is not a published version's files. Fails closed by default:
    without a usable snapshot, or on unreadable input, the call is denied with a
    message on stderr; --fail open (a choice for your own machine) allows. Unusable option
    values fall back to the defaults, so the hook itself never fails.
    `python -m agent_registry.distribution.guard_entry` is the same hook, faster to start.
    """
    serve_guard(
        mode=parse_mode(fail),
        max_age_minutes=parse_number(max_age, DEFAULT_MAX_AGE_MINUTES),
        timeout=parse_number(timeout, DEFAULT_TIMEOUT_SECONDS),
        max_stale_hours=parse_number(max_stale, DEFAULT_MAX_STALE_HOURS),
        drift=parse_drift(drift),
        trusted_keys=trusted_keys,
        pins=pin or [],
        snapshot=Path(snapshot).expanduser() if snapshot else None,
        stdin=sys.stdin.buffer,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )
