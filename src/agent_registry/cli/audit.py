"""``agentreg audit verify|export|rekey``: check the audit chain, hand it to a SIEM.

``verify`` is what an auditor runs to learn whether the log was changed behind the
registry's back; with the audit key (``AGENT_REGISTRY_AUDIT_KEY``) it also catches a
full rewrite by a database writer, who cannot recompute keyed digests. ``export``
streams the chained events as JSON lines so a SIEM keeps its own copy. ``rekey`` keys
an existing unkeyed chain once, after checking it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.markup import escape
from sqlmodel import Session

from agent_registry.cli.render import err, out
from agent_registry.config import Settings
from agent_registry.registry.audit_chain import (
    Verification,
    load_chain,
    rekey_chain,
    verify_database,
)
from agent_registry.registry.audit_key import resolve_audit_key
from agent_registry.registry.db import make_engine, session_scope

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


def _audit_key(settings: Settings) -> bytes | None:
    """The configured audit key, else the embedded stack's (``make up`` made it)."""
    try:
        return resolve_audit_key(settings.audit_key, settings.data_dir)
    except ValueError as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}")
        raise typer.Exit(1) from None


def _on_chain(settings: Settings, step: Callable[[Session], Verification]) -> Verification:
    """Run ``step`` on the stored chain in one transaction, then let the engine go."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(engine) as session:
            return step(session)
    finally:
        engine.dispose()


@app.command()
def verify() -> None:
    """Recompute the audit chain; exit 1 naming the first row that disagrees, if one does."""
    settings = Settings()
    key = _audit_key(settings)
    result = _on_chain(settings, lambda session: verify_database(session, key=key))
    if result.broken is not None:
        err.print(
            f"[bold red]chain broken[/] after {result.count} good events: "
            f"{escape(result.broken.message)}"
        )
        raise typer.Exit(1)
    out.print(f"chain intact: {result.count} events, head {result.head_hash}")
    if key is None:
        err.print(
            "note: checked without an audit key (AGENT_REGISTRY_AUDIT_KEY), so a rewrite "
            "that re-hashed every later row would pass"
        )


@app.command()
def rekey() -> None:
    """Key the audit chain with AGENT_REGISTRY_AUDIT_KEY, once, after checking it intact."""
    settings = Settings()
    key = _audit_key(settings)
    if key is None:
        err.print("[bold red]error:[/] set AGENT_REGISTRY_AUDIT_KEY to the audit key's file first")
        raise typer.Exit(1)
    result = _on_chain(settings, lambda session: rekey_chain(session, key=key))
    if result.broken is not None:
        err.print(
            f"[bold red]not re-keyed[/]: the chain is broken after {result.count} good "
            f"events: {escape(result.broken.message)}"
        )
        raise typer.Exit(1)
    out.print(f"chain keyed: {result.count} events, head {result.head_hash}")


@app.command()
def export(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout."),
    ] = None,
    since: Annotated[
        int | None,
        typer.Option(
            "--since",
            help="Only events with an id above this one (the last id a previous export wrote).",
        ),
    ] = None,
) -> None:
    """Write audit events as JSON lines, in chain order, with every chained field and hash."""
    engine = make_engine(Settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            events = load_chain(session, after_id=since)
    finally:
        engine.dispose()
    with ExitStack() as stack:
        stream: TextIO = (
            sys.stdout
            if output is None
            else stack.enter_context(output.open("w", encoding="utf-8"))
        )
        for event in events:
            stream.write(json.dumps(event.record(), sort_keys=True, ensure_ascii=False) + "\n")
    if output is not None:
        out.print(f"wrote {len(events)} events to {output}")
