"""``agentreg list``, ``show`` and ``status``: what the registry holds and where it stands."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from agent_registry.assets.refs import AssetKind, AssetRef, parse_unversioned
from agent_registry.cli.errors import CliError
from agent_registry.cli.lifecycle_client import lifecycle_handle, query_status
from agent_registry.cli.render import findings_table, out, plain, print_status, stage_text
from agent_registry.config import Settings
from agent_registry.lifecycle import Stage
from agent_registry.registry import store
from agent_registry.registry.db import make_engine, session_scope
from agent_registry.registry.tables import AssetVersion
from agent_registry.temporal import connect

_NAMED_WITHDRAWN = 3
"""How many withdrawn versions an error names before it counts the rest."""


def list_assets(
    kind: Annotated[AssetKind | None, typer.Option(help="Only this kind.")] = None,
    team: Annotated[str | None, typer.Option(help="Only this owner team.")] = None,
    stage: Annotated[
        Stage | None,
        typer.Option(help="Only this lifecycle stage; retired versions show only with Retired."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many rows.")] = 100,
) -> None:
    """List asset versions in the registry (retired ones only with --stage Retired)."""
    engine = make_engine(Settings().resolved_database_url)
    with session_scope(engine) as session:
        rows = store.list_versions(session, kind=kind, team=team, stage=stage, limit=limit)
        table = Table(title_justify="left")
        for column in ("asset", "version", "stage", "team", "risk", "content hash", "updated"):
            table.add_column(column)
        for asset, version in rows:
            table.add_row(
                escape(f"{asset.kind}/{asset.name}"),
                escape(version.version),
                stage_text(version.stage),
                escape(asset.owner_team),
                version.risk_tier or "-",
                version.content_hash[:12],
                f"{version.updated_at:%Y-%m-%d %H:%M}",
            )
    if not rows:
        out.print("no asset versions match")
        return
    out.print(table)


def show(
    ref: Annotated[
        str, typer.Argument(help="kind/name@version, or kind/name for the latest published.")
    ],
) -> None:
    """Show one asset version as the registry records it.

    A deprecated or retired version is still shown (an old reference deserves an
    answer), under a line that says so, why, and what to use instead.
    """
    engine = make_engine(Settings().resolved_database_url)
    with session_scope(engine) as session:
        version = _find(session, ref)
        asset = store.get_asset_for(session, version=version)
        out.print(
            f"[bold]{escape(f'{asset.kind}/{asset.name}@{version.version}')}[/]  "
            f"{stage_text(version.stage)}"
        )
        _print_withdrawal(version)
        plain(f"  {version.description}")
        plain(f"  team {asset.owner_team} · submitted by {version.submitter}")
        plain(
            f"  authors {', '.join(version.authors) or '-'} · machine-authored: "
            f"{'yes' if version.machine_authored else 'no'}"
        )
        plain(f"  content hash {version.content_hash}")
        reasons = f" ({'; '.join(version.tier_reasons)})" if version.tier_reasons else ""
        plain(f"  risk tier {version.risk_tier or '-'}{reasons}")
        if version.changelog:
            plain(f"  changelog: {version.changelog}")
        if version.published_at is not None:
            plain(
                f"  published {version.published_at:%Y-%m-%d %H:%M} UTC, approved by "
                f"{', '.join(version.approvers)}"
            )
        _print_recertification(version)
        assert version.id is not None
        latest = store.latest_eval(session, version_id=version.id)
        if latest is not None:
            run, rows = latest
            plain(
                f"  last eval: policy {run.policy_version}, {run.blocking_count} blocking, "
                f"{run.warning_count} warning(s)"
            )
            findings = [row.to_finding() for row in rows]
            if findings:
                out.print(findings_table(findings))
        for decision in store.decisions_for(session, version_id=version.id):
            reason = f": {decision.reason}" if decision.reason else ""
            plain(
                f"  {decision.decision} by {decision.reviewer} "
                f"({decision.source}, {decision.decided_at:%Y-%m-%d %H:%M}){reason}"
            )


def _print_withdrawal(version: AssetVersion) -> None:
    """Put a deprecation or retirement where nobody can miss it: right under the name."""
    reason = version.deprecation_reason or "no reason recorded"
    if version.stage == Stage.RETIRED.value:
        replaced = (
            f"replaced by {version.replacement}" if version.replacement else "no replacement named"
        )
        notice = f"RETIRED on {_day(version.retired_at)}: {reason}; {replaced}"
        out.print(f"  [bold red]{escape(notice)}[/]")
        plain("  kept for the record only: it is gone from search and install")
    elif version.stage == Stage.DEPRECATED.value:
        use = f"use {version.replacement}" if version.replacement else "no replacement named"
        notice = (
            f"DEPRECATED on {_day(version.deprecated_at)} by {version.deprecated_by or '-'}: "
            f"{reason}; {use}; retires on {_day(version.sunset_at)}"
        )
        out.print(f"  [bold yellow]{escape(notice)}[/]")


def _print_recertification(version: AssetVersion) -> None:
    # A withdrawn version is not re-certified any more, so its old due date would mislead.
    if version.recertify_by is not None and Stage(version.stage) in store.LIVE_STAGES:
        plain(f"  re-certification due {version.recertify_by:%Y-%m-%d %H:%M} UTC")
    if version.recertified_at is not None:
        plain(f"  last re-certified {version.recertified_at:%Y-%m-%d %H:%M} UTC")


def _day(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d}" if moment is not None else "an unrecorded date"


def _find(session: Session, text: str) -> AssetVersion:
    if "@" in text:
        return store.get_version(session, ref=AssetRef.parse(text))
    kind, name = parse_unversioned(text)
    latest = store.latest_published(session, kind=kind, name=name)
    if latest is None:
        raise CliError(_nothing_published(session, kind=kind, name=name))
    return latest


def _nothing_published(session: Session, *, kind: AssetKind, name: str) -> str:
    """Why ``kind/name`` has no latest version: never published, or all withdrawn."""
    asset = f"{kind.value}/{name}"
    withdrawn = store.withdrawn_versions(session, kind=kind, name=name)
    if not withdrawn:
        return f"{asset} has no published version"
    states = ", ".join(f"{v.version} is {v.stage}" for v in withdrawn[:_NAMED_WITHDRAWN])
    if len(withdrawn) > _NAMED_WITHDRAWN:
        states += f", and {len(withdrawn) - _NAMED_WITHDRAWN} more"
    replacement = next((v.replacement for v in withdrawn if v.replacement), None)
    use = f"use {replacement}" if replacement else "no replacement was named"
    return (
        f"{asset} has no published version left ({states}); {use}. "
        f"`agentreg show {asset}@{withdrawn[0].version}` says why."
    )


def status(ref: Annotated[str, typer.Argument(help="The version, kind/name@version.")]) -> None:
    """Show where a version's lifecycle stands and what it waits for (asks Temporal)."""
    asyncio.run(_status(AssetRef.parse(ref)))


async def _status(ref: AssetRef) -> None:
    client = await connect()
    print_status(await query_status(await lifecycle_handle(client, ref)))
