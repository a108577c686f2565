"""Rich rendering shared by the commands: findings tables and lifecycle status."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent_registry.lifecycle.contract import AssetStatus, SimilarAsset
from agent_registry.vocabulary.findings import Finding, Severity

SEVERITY_STYLE = {
    Severity.BLOCK: "bold red",
    Severity.WARN: "yellow",
    Severity.INFO: "cyan",
    Severity.OFF: "dim",
}
SEVERITY_ORDER = (Severity.BLOCK, Severity.WARN, Severity.INFO)

STAGE_STYLE = {
    "Published": "bold green",
    "Rejected": "bold red",
    "EvalFailed": "bold red",
    "ChangesRequested": "yellow",
    "InReview": "cyan",
    "Recertifying": "cyan",
    "Deprecated": "bold yellow",
    "Retired": "dim",
}

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def plain(text: str) -> None:
    """Print text that may hold user content (names, reasons): never read as markup."""
    out.print(text, markup=False)


def findings_table(findings: Sequence[Finding], *, title: str = "Findings") -> Table:
    """Findings grouped by severity (blocking first), each with its file:line and fix."""
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("severity")
    table.add_column("check")
    table.add_column("where")
    table.add_column("what is wrong, and how to fix it")
    for severity in SEVERITY_ORDER:
        for finding in (f for f in findings if f.severity is severity):
            message = finding.message if not finding.fix else f"{finding.message}\n→ {finding.fix}"
            table.add_row(
                f"[{SEVERITY_STYLE[severity]}]{severity.value}[/]",
                escape(finding.check_id),
                escape(finding.location),
                escape(message),
            )
    return table


def print_similar(similar: Sequence[SimilarAsset]) -> None:
    """Published assets like this one, so the submitter talks to their owners first."""
    if not similar:
        return
    out.print("[bold yellow]similar published assets[/] (could one be reused instead?):")
    for match in similar:
        plain(f"  • {match.label()}: {one_line(match.description)}")


def one_line(text: str) -> str:
    """Whitespace collapsed, so a multi-line description stays on its bullet."""
    return " ".join(text.split())


def stage_text(stage: str) -> str:
    """A stage name styled by what it means."""
    return f"[{STAGE_STYLE.get(stage, 'bold')}]{escape(stage)}[/]"


def print_status(status: AssetStatus) -> None:
    """Print a lifecycle's state: stage, what it waits for, eval, votes, timeline."""
    out.print(f"[bold]{escape(str(status.ref))}[/]  {stage_text(status.stage.value)}")
    out.print(escape(f"  team {status.owner_team} · submitted by {status.submitter}"))
    if status.content_hash:
        plain(f"  content hash {status.content_hash}")
    if status.waiting_for:
        out.print(escape(f"  now: {status.waiting_for}"))
    if status.eval is not None:
        summary = status.eval
        reasons = "; ".join(summary.tier_reasons) or "no risk signals"
        out.print(
            escape(
                f"  eval (policy {summary.policy_version}): {summary.blocking} blocking, "
                f"{summary.warnings} warning(s) · risk {summary.risk_tier.value} ({reasons})"
            )
        )
        if summary.top_findings:
            out.print(findings_table(summary.top_findings, title="Findings"))
        unlisted = summary.blocking + summary.warnings - len(summary.top_findings)
        if unlisted > 0:
            plain(f"  … {unlisted} more finding(s): agentreg show {status.ref}")
        print_similar(summary.similar)
    if status.plan is not None and status.votes:
        for vote in status.votes:
            reason = f": {vote.reason}" if vote.reason else ""
            out.print(escape(f"  {vote.decision.value} by {vote.reviewer} ({vote.source}){reason}"))
    if status.recertify_by is not None:
        cycles = (
            f" (re-certified {status.recertifications} times)" if status.recertifications else ""
        )
        plain(f"  re-certification due {status.recertify_by:%Y-%m-%d %H:%M} UTC{cycles}")
    if status.deprecation is not None:
        gone = status.deprecation
        use = f"; use {gone.replacement}" if gone.replacement else ""
        plain(
            f"  deprecated {gone.at:%Y-%m-%d} by {gone.by}: {gone.reason}{use}; "
            f"retires {gone.sunset_at:%Y-%m-%d %H:%M} UTC"
        )
    if status.outcome_reason:
        out.print(escape(f"  reason: {status.outcome_reason}"))
    for change in status.history:
        note = f" — {change.note}" if change.note else ""
        out.print(f"  [dim]{change.at:%Y-%m-%d %H:%M:%S}[/] {escape(change.stage.value + note)}")
