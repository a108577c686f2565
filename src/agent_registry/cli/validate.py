"""``agentreg validate PATH``: check an asset locally, with no server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from agent_registry.assets.loader import load_path
from agent_registry.assets.metadata import missing_metadata
from agent_registry.cli.render import findings_table, out, plain
from agent_registry.config import Settings
from agent_registry.evals.runner import evaluate
from agent_registry.policy_loader import load_policy


def validate(
    path: Annotated[
        Path, typer.Argument(help="A skill folder, a subagent .md file or an MCP server folder.")
    ],
) -> None:
    """Check an asset against the manifest rules and the eval bar, locally.

    Exits 1 when anything blocks; warnings are printed but pass. Missing registry
    metadata (team, version) is listed as what `agentreg submit` will need.
    """
    settings = Settings()
    parsed = load_path(path, limits=settings.bundle_limits)
    report = evaluate(parsed, load_policy(settings.policy))
    name = parsed.name or path.name
    out.print(f"[bold]{escape(f'{parsed.kind.value}/{name}')}[/] ({escape(str(path))})")
    if report.findings:
        out.print(findings_table(report.findings))
    needed = missing_metadata(parsed.registry_metadata, kind=parsed.kind)
    if needed:
        out.print("[bold]submit will need:[/]")
        for line in needed:
            plain(f"  • {line}")
    reasons = "; ".join(report.tier_reasons) or "no risk signals"
    plain(f"risk tier: {report.risk_tier.value} ({reasons}) · policy {report.policy_version}")
    if not report.passed:
        out.print(f"[bold red]blocked:[/] {report.summary_line()}")
        raise typer.Exit(code=1)
    out.print(f"[bold green]ok:[/] {report.summary_line()}")
