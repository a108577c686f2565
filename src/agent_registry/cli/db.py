"""``agentreg db``: bring the registry schema up to date (Alembic), prune and purge bundles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from agent_registry.cli.errors import CliError
from agent_registry.cli.render import out
from agent_registry.config import Settings
from agent_registry.policy.durations import parse_duration
from agent_registry.registry import store
from agent_registry.registry.audit_chain import keyed_engine
from agent_registry.registry.audit_key import resolve_audit_key
from agent_registry.registry.db import make_engine, session_scope, upgrade_database
from agent_registry.registry.store.purge import purge_secret_bundles

app = typer.Typer(help="Registry database administration.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Apply every pending migration; safe to run again."""
    settings = Settings()
    upgrade_database(settings.resolved_database_url)
    out.print("registry schema is up to date")


@app.command()
def prune(
    older_than: Annotated[
        str, typer.Option(help="Keep anything staged more recently than this, e.g. 7d.")
    ] = "7d",
) -> None:
    """Delete staged bundles that no lifecycle claimed (safe to run on a schedule).

    ``submit`` stages a bundle before it starts the lifecycle; a start that failed, or a
    client that staged and never started, leaves bytes no version, eval run or audit
    event points at. Those older than ``--older-than`` are deleted.
    """
    try:
        cutoff = datetime.now(UTC) - parse_duration(older_than)
    except ValueError as error:
        raise CliError(f"--older-than: {error}") from None
    engine = make_engine(Settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            deleted = store.prune_unclaimed_blobs(session, staged_before=cutoff)
    finally:
        engine.dispose()
    out.print(f"deleted {deleted} unclaimed bundle(s) staged before {cutoff:%Y-%m-%d %H:%M} UTC")


@app.command("purge-secrets")
def purge_secrets(
    older_than: Annotated[
        str,
        typer.Option(help="Only versions that failed their eval longer ago than this, e.g. 7d."),
    ] = "7d",
) -> None:
    """Delete the bundles the eval bar blocked for a secret (safe to run on a schedule).

    A version left in EvalFailed for a credential past ``--older-than`` (the window in
    which its submitter may still mark a false positive) loses its bundle's bytes; the
    audit log keeps the content hash and the checks that blocked it.
    """
    try:
        cutoff = datetime.now(UTC) - parse_duration(older_than)
    except ValueError as error:
        raise CliError(f"--older-than: {error}") from None
    settings = Settings()
    try:
        audit_key = resolve_audit_key(settings.audit_key, settings.data_dir)
    except ValueError as error:
        raise CliError(str(error)) from None
    engine = keyed_engine(make_engine(settings.resolved_database_url), audit_key)
    try:
        with session_scope(engine) as session:
            purged = purge_secret_bundles(session, failed_before=cutoff)
    finally:
        engine.dispose()
    for ref in purged:
        out.print(f"purged the bundle of {ref}")
    out.print(f"purged {len(purged)} bundle(s) blocked for a secret")
