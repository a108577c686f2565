"""The ``agentreg`` app: command groups assembled, and the one error boundary."""

from __future__ import annotations

import os
import sys

import typer
from rich.markup import escape

from agent_registry.cli import catalog, db, devstack, life, review, serve, submit, validate
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
app.command()(life.attest)
app.command()(life.deprecate)
app.command()(devstack.up)
app.command()(serve.serve)
app.add_typer(review.app, name="review")
app.add_typer(db.app, name="db")


def run() -> int:
    """Run ``agentreg`` and return its exit code.

    Known failures become one message on stderr and exit code 1; anything else is a
    bug and keeps its traceback.
    """
    try:
        app()
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except Exception as error:  # the boundary: every known failure is phrased for the user
        message = explain(error)
        if message is None:
            raise
        err.print(f"[bold red]error:[/] {escape(message)}")
        return 1
    return 0


def main() -> None:
    """Console entrypoint of ``agentreg``."""
    code = run()
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal client's core threads can abort CPython's finalization in a short
    # process (temporalio/sdk-python#300). Output is flushed and nothing else needs
    # tearing down, so leave without finalization.
    os._exit(code)
