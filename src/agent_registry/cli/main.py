"""The ``agentreg`` app: command groups assembled, and the one error boundary."""

from __future__ import annotations

import sys

import typer

from agent_registry.cli import catalog, db, devstack, review, submit, validate
from agent_registry.cli.errors import explain
from agent_registry.cli.render import err

app = typer.Typer(
    name="agentreg",
    help="Agent Registry: submit, review and find governed AI-agent assets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(validate.validate)
app.command()(submit.submit)
app.command()(submit.revise)
app.command()(catalog.status)
app.command("list")(catalog.list_assets)
app.command()(catalog.show)
app.command()(devstack.up)
app.add_typer(review.app, name="review")
app.add_typer(db.app, name="db")


def main() -> None:
    """Run ``agentreg``; known failures become one message on stderr and exit code 1."""
    try:
        app()
    except Exception as error:  # the boundary: every known failure is phrased for the user
        message = explain(error)
        if message is None:
            raise
        err.print(f"[bold red]error:[/] {message}", markup=True)
        sys.exit(1)
