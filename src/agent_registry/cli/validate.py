"""``agentreg validate PATH``: check an asset locally, before submitting it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from agent_registry.assets.loader import load_path
from agent_registry.assets.metadata import missing_metadata
from agent_registry.cli.render import findings_table, out, plain, print_similar
from agent_registry.config import Settings
from agent_registry.evals.live import run_live_checks
from agent_registry.evals.runner import judge_findings, run_families
from agent_registry.mcp_probe.sandbox import INSTALL_HINT
from agent_registry.policy.loader import load_policy
from agent_registry.registry.db import make_engine
from agent_registry.registry.reuse_cache import CatalogIndexCache
from agent_registry.reuse.index import SimilarityIndex

_log = logging.getLogger(__name__)


def validate(
    path: Annotated[
        Path, typer.Argument(help="A skill folder, a subagent .md file or an MCP server folder.")
    ],
    probe: Annotated[
        bool,
        typer.Option(
            "--probe/--no-probe",
            help="Start an MCP server and compare what it exposes with scope.yaml.",
        ),
    ] = True,
) -> None:
    """Check an asset against the manifest rules and the eval bar, locally.

    Runs the same bar as a submission: every check family, the live probe for an MCP
    server (in the bubblewrap sandbox, once the static checks pass), and reuse against
    the registry's published catalog when the registry database is reachable from here.
    Exits 1 when anything blocks; warnings are printed but pass. Missing registry
    metadata (team, version) is listed as what `agentreg submit` will need.
    """
    settings = Settings()
    parsed = load_path(path, limits=settings.bundle_limits)
    policy = load_policy(settings.policy)
    catalog = _published_catalog(settings)
    live = run_live_checks(parsed, policy, catalog=catalog, baseline=None, probe=False)
    checked = run_families(parsed)
    report = judge_findings(parsed, policy, checked, external=live.findings)
    if probe and not report.blocking:
        # As in a submission: the sandboxed probe only once the static bar passes.
        probed = run_live_checks(
            parsed,
            policy,
            catalog=None,
            baseline=None,
            probe=True,
            cache_dir=settings.probe_cache_dir,
        )
        live.findings.extend(probed.findings)
        report = judge_findings(parsed, policy, checked, external=live.findings)
    name = parsed.name or path.name
    out.print(f"[bold]{escape(f'{parsed.kind.value}/{name}')}[/] ({escape(str(path))})")
    if report.findings:
        out.print(findings_table(report.findings))
    print_similar(live.similar)
    if any(f.check_id == "probe.sandbox-unavailable" for f in report.findings):
        plain(f"to run the live probe here, {INSTALL_HINT}")
    if catalog is None:
        out.print("[dim]reuse not checked: the registry database is not reachable from here[/]")
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


def _published_catalog(settings: Settings) -> SimilarityIndex | None:
    """The published catalog's index, or None when the registry cannot be read.

    Validation is useful offline, so an unreachable or empty database only skips the
    reuse check (which can only ever add a warning).
    """
    if settings.embedded_database_missing:
        return None
    engine = make_engine(settings.resolved_database_url)
    try:
        return CatalogIndexCache(engine).current()
    except SQLAlchemyError as error:
        _log.debug("registry not readable for the reuse check: %s", type(error).__name__)
        return None
    finally:
        engine.dispose()
