"""The ``agentreg`` app: command groups assembled, and the one error boundary."""

from __future__ import annotations

import sys

import typer

from agent_registry.process_exit import exit_without_finalizing

HOOK_GROUP = "hook"
"""``agentreg hook …`` runs on every Claude Code tool call: it gets a fast path."""


def build_app() -> typer.Typer:
    """The whole command set; its imports (Temporal, the database, Slack) take a while."""
    from agent_registry.cli import (  # late: see HOOK_GROUP
        audit,
        catalog,
        db,
        devstack,
        distribution,
        life,
        login,
        mcp_import,
        report,
        review,
        serve,
        setup,
        submit,
        validate,
    )
    from agent_registry.cli.hooks import hook_app  # late: see HOOK_GROUP

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
    app.command()(catalog.search)
    app.command()(distribution.install)
    app.command()(distribution.verify)
    app.command()(life.attest)
    app.command()(life.deprecate)
    app.command()(login.login)
    app.command()(login.logout)
    app.command()(devstack.up)
    app.command()(serve.serve)
    app.command()(setup.setup)
    app.command()(report.report)
    app.add_typer(review.app, name="review")
    app.add_typer(mcp_import.app, name="import")
    app.add_typer(db.app, name="db")
    app.add_typer(audit.app, name="audit")
    app.add_typer(distribution.export_app, name="export")
    app.add_typer(hook_app, name=HOOK_GROUP)
    return app


def run_hook(args: list[str]) -> int:
    """Run ``agentreg hook …`` with only the hooks' own imports.

    The hooks never raise (they answer Claude Code whatever happens), so there is no
    error boundary to load.
    """
    from agent_registry.cli.hooks import hook_app  # late: see HOOK_GROUP

    try:
        hook_app(args=args, prog_name=f"agentreg {HOOK_GROUP}")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


def run() -> int:
    """Run ``agentreg`` and return its exit code.

    Known failures become one message on stderr and exit code 1; anything else is a
    bug and keeps its traceback.
    """
    from rich.text import Text

    from agent_registry.cli.errors import explain  # late: see HOOK_GROUP
    from agent_registry.cli.render import err  # late: see HOOK_GROUP

    try:
        build_app()()
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except Exception as error:  # the boundary: every known failure is phrased for the user
        message = explain(error)
        if message is None:
            raise
        err.print(Text.assemble(("error:", "bold red"), " ", message))
        return 1
    return 0


def main() -> None:
    """Console entrypoint of ``agentreg``."""
    args = sys.argv[1:]
    code = run_hook(args[1:]) if args[:1] == [HOOK_GROUP] else run()
    exit_without_finalizing(code)
