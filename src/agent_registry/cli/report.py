"""``agentreg report``: the org dashboard's numbers in the terminal, or as JSON.

The same :class:`~agent_registry.catalog.models.OrgReport` the web dashboard shows,
read from the API when ``AGENT_REGISTRY_API_URL`` is set, else from the database; for a
platform engineer in a shell, or a script (``--json``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import typer
from rich.columns import Columns
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent_registry.catalog.http import CatalogApiError
from agent_registry.catalog.models import CountByKey, DailyCount, DueItem, OrgReport
from agent_registry.cli.errors import CliError
from agent_registry.cli.render import out, stage_text
from agent_registry.config import Settings
from agent_registry.distribution.source import NoRegistryError, open_catalog
from agent_registry.lifecycle.visibility import (
    AWAITING_SUNSET,
    EVAL_FAILURES,
    PAST_SLA,
    PENDING_REVIEWS,
    RECERTIFICATIONS_DUE,
    TemporalConsole,
    console_for,
    views,
)

TIER_STYLE = {"low": "green", "medium": "yellow", "high": "bold red"}
SPARK = "▁▂▃▄▅▆▇█"


def report(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON, for scripts.")
    ] = False,
) -> None:
    """Show the org report: inventory, scope, governance and reuse of registry assets.

    Each governance list is followed by its Temporal visibility query and the Temporal UI
    link (``AGENT_REGISTRY_UI_URL``) that lists the same lifecycles.
    """
    settings = Settings()
    try:
        data = open_catalog(settings).report()
    except (NoRegistryError, CatalogApiError) as error:  # phrased for the user already
        raise CliError(str(error)) from error
    if as_json:
        typer.echo(data.model_dump_json(indent=2))
        return
    print_report(data, out, temporal=console_for(settings.ui_url))


def print_report(
    data: OrgReport, console: Console, *, temporal: TemporalConsole | None = None
) -> None:
    """Print every part of the report as rich tables, most pressing first.

    Args:
        data: The report.
        console: Where to print.
        temporal: The Temporal UI the governance lists link to; without it only their
            queries are printed.
    """
    now = data.generated_at
    shown = {v.key: v for v in views(now)}

    def queries(*keys: str) -> None:
        for key in keys:
            console.print(f"  [bold]{escape(shown[key].title)}[/] in Temporal:", soft_wrap=True)
            console.print(f"    query: {escape(shown[key].query)}", soft_wrap=True)
            if temporal is not None:
                link = temporal.workflow_list(shown[key].query)
                console.print(f"    {escape(link)}", soft_wrap=True)

    console.print(f"[bold]Agent Registry org report[/]  generated {now:%Y-%m-%d %H:%M} UTC")
    console.print(
        Columns(
            [
                _counts("By kind", data.by_kind),
                _counts("By stage", data.by_stage, stages=True),
                _counts("By owner team", data.by_team),
                _counts("By risk tier", data.by_tier),
            ],
            padding=(0, 2),
        )
    )
    console.print(_scope(data))
    console.print(_reviews(data))
    queries(PENDING_REVIEWS, PAST_SLA)
    console.print(_due("Re-certifications due", data.recertifications_due, now, "overdue"))
    queries(RECERTIFICATIONS_DUE)
    console.print(_due("Deprecations and sunsets", data.deprecations, now, "retired"))
    queries(AWAITING_SUNSET)
    console.print(_eval_failures(data))
    queries(EVAL_FAILURES)
    console.print(_daily(data.daily))
    console.print(_reuse(data))
    if data.unused:
        console.print(f"[bold]Nobody uses ({len(data.unused)})[/]")
        for ref in data.unused:
            console.print(f"  • {escape(ref)}")
    else:
        console.print("[bold]Nobody uses:[/] none, every published asset is installed or used")


def _counts(title: str, counts: Sequence[CountByKey], *, stages: bool = False) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("key")
    table.add_column("count", justify="right")
    table.add_column("")
    top = max((c.count for c in counts), default=0) or 1
    for row in sorted(counts, key=lambda c: (-c.count, c.key)):
        label = stage_text(row.key) if stages else escape(row.key)
        table.add_row(label, str(row.count), "█" * max(1, round(20 * row.count / top)))
    return table


def _scope(data: OrgReport) -> Table:
    table = Table(title="What published assets can touch", title_justify="left")
    for column in ("asset", "kind", "team", "risk", "can touch"):
        table.add_column(column)
    for row in data.scope:
        table.add_row(
            escape(row.ref),
            row.kind.value,
            escape(row.owner_team),
            _tier(row.risk_tier),
            escape(", ".join(row.reach) or "nothing declared"),
        )
    return table


def _reviews(data: OrgReport) -> Table:
    table = Table(title=f"Pending reviews ({len(data.pending_reviews)})", title_justify="left")
    for column in ("version", "team", "risk", "waiting since", "age", "SLA"):
        table.add_column(column)
    for row in data.pending_reviews:
        table.add_row(
            escape(row.ref),
            escape(row.owner_team),
            _tier(row.risk_tier),
            f"{row.waiting_since:%Y-%m-%d %H:%M}",
            f"{row.age_hours:.1f} h",
            "[bold red]breached[/]" if row.sla_breached else "[green]within[/]",
        )
    return table


def _due(title: str, items: Sequence[DueItem], now: datetime, past: str) -> Table:
    table = Table(title=f"{title} ({len(items)})", title_justify="left")
    for column in ("version", "team", "date", "status", "use instead"):
        table.add_column(column)
    for item in items:
        days = (item.due - now).total_seconds() / 86400
        status = (
            f"[bold red]{past} {abs(days):.0f} d ago[/]"
            if item.overdue or days < 0
            else f"in {days:.0f} d"
        )
        table.add_row(
            escape(item.ref),
            escape(item.owner_team),
            f"{item.due:%Y-%m-%d}",
            status,
            escape(item.replacement or "-"),
        )
    return table


def _eval_failures(data: OrgReport) -> Table:
    table = Table(
        title=f"Eval failures this week ({len(data.eval_failures)})", title_justify="left"
    )
    for column in ("version", "team", "risk", "submitted", "failed"):
        table.add_column(column)
    for item in data.eval_failures:
        table.add_row(
            escape(item.ref),
            escape(item.owner_team),
            _tier(item.risk_tier),
            f"{item.submitted_at:%Y-%m-%d %H:%M}",
            f"{item.failed_at:%Y-%m-%d %H:%M}",
        )
    return table


def _daily(days: Sequence[DailyCount]) -> Table:
    table = Table(title="Installs and uses per day", title_justify="left")
    table.add_column("")
    table.add_column("total", justify="right")
    table.add_column(f"{days[0].day} → {days[-1].day}" if days else "no days")
    for label, values in (
        ("installs", [d.installs for d in days]),
        ("uses", [d.uses for d in days]),
    ):
        table.add_row(label, str(sum(values)), _spark(values))
    return table


def _reuse(data: OrgReport) -> Table:
    table = Table(title="Reuse per asset", title_justify="left")
    for column in ("asset", "team"):
        table.add_column(column, overflow="fold")
    for column in ("installs", "uses", "teams"):
        table.add_column(column, justify="right")
    table.add_column("last used")
    trend = any(row.daily for row in data.reuse)  # a source may not break counts down by day
    if trend:
        table.add_column("trend", no_wrap=True)
    for row in data.reuse:
        table.add_row(
            escape(row.ref),
            escape(row.owner_team),
            str(row.installs),
            str(row.uses),
            str(row.teams),
            f"{row.last_used_at:%Y-%m-%d}" if row.last_used_at else "never",
            *([_spark([d.installs + d.uses for d in row.daily])] if trend else []),
        )
    return table


def _tier(tier: str | None) -> str:
    if tier is None:
        return "-"
    return f"[{TIER_STYLE.get(tier, 'bold')}]{escape(tier)}[/]"


def _spark(values: Sequence[int]) -> str:
    top = max(values, default=0)
    if top == 0:
        return "·" * len(values)
    return "".join(SPARK[round((len(SPARK) - 1) * v / top)] for v in values)
