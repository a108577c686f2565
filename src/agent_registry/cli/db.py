"""``agentreg db upgrade``: bring the registry schema up to date (Alembic)."""

from __future__ import annotations

import typer

from agent_registry.cli.render import out
from agent_registry.config import Settings
from agent_registry.registry.db import upgrade_database

app = typer.Typer(help="Registry database administration.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Apply every pending migration; safe to run again."""
    settings = Settings()
    upgrade_database(settings.resolved_database_url)
    out.print("registry schema is up to date")
