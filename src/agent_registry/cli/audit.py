"""``agentreg audit verify|export``: check the audit log's hash chain, hand it to a SIEM.

``verify`` is what an auditor runs to learn whether the log was changed behind the
registry's back; ``export`` streams the chained events as JSON lines so a SIEM keeps its
own copy, and with it the hashes that make later tampering in the database visible.
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.markup import escape

from agent_registry.cli.render import err, out
from agent_registry.config import Settings
from agent_registry.registry.audit_chain import load_chain, verify_database
from agent_registry.registry.db import make_engine, session_scope

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Recompute the audit chain; exit 1 naming the first broken link if there is one."""
    engine = make_engine(Settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            result = verify_database(session)
    finally:
        engine.dispose()
    if result.broken is not None:
        err.print(
            f"[bold red]chain broken[/] after {result.count} good events: "
            f"{escape(result.broken.message)}"
        )
        raise typer.Exit(1)
    out.print(f"chain intact: {result.count} events, head {result.head_hash}")


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
