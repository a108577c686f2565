"""``agentreg search``, ``show``, ``list`` and ``status``: what the registry holds, and where.

``search`` and ``show`` read through :func:`agent_registry.distribution.source.open_catalog`,
so they work against the registry's API as well as its database; ``list`` reads the
database and ``status`` asks Temporal.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from agent_registry.assets.refs import AssetKind, AssetRef, parse_unversioned, semver_key
from agent_registry.catalog.models import (
    MAX_PAGE_SIZE,
    CatalogNotFoundError,
    CatalogSource,
    Page,
    SearchHit,
    SearchQuery,
    VersionDetail,
    VersionSummary,
)
from agent_registry.cli.distribution import catalog_errors
from agent_registry.cli.errors import CliError
from agent_registry.cli.registry_writes import read_status
from agent_registry.cli.render import (
    findings_table,
    one_line,
    out,
    plain,
    print_status,
    stage_text,
)
from agent_registry.config import Settings
from agent_registry.distribution.source import open_catalog
from agent_registry.lifecycle.client import LifecycleClient, LifecycleNotFoundError
from agent_registry.lifecycle.stages import IN_CATALOG, WITHDRAWN, Stage
from agent_registry.registry import store
from agent_registry.registry.db import make_engine, session_scope
from agent_registry.temporal import connect

_NAMED_WITHDRAWN = 3
"""How many withdrawn versions an error names before it counts the rest."""

DESCRIPTION_CHARS = 48
"""Description width in the search table; ``show`` has the whole text."""


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


def search(
    query: Annotated[str, typer.Argument(help="Words to look for in names and descriptions.")] = "",
    kind: Annotated[AssetKind | None, typer.Option(help="Only this kind.")] = None,
    team: Annotated[str | None, typer.Option(help="Only this owner team.")] = None,
    stage: Annotated[
        Stage | None,
        typer.Option(help="Only this stage (default: what may be installed)."),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=MAX_PAGE_SIZE, help="At most this many results.")
    ] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many results.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the page as JSON.")] = False,
) -> None:
    """Search the catalog: the latest installable version of each asset, best match first."""
    request = SearchQuery(
        text=query,
        kind=kind,
        team=team,
        stage=stage.value if stage is not None else None,
        limit=limit,
        offset=offset,
    )
    with catalog_errors():
        page = open_catalog(Settings()).search(request)
    if as_json:
        sys.stdout.write(page.model_dump_json(indent=2) + "\n")
        return
    if not page.items:
        plain(f"nothing matches (of {page.total})" if page.total else "nothing matches")
        return
    out.print(search_table(page.items))
    plain(page_line(page))


def search_table(hits: Sequence[SearchHit]) -> Table:
    """Search results: where each stands, who owns it, how risky, what it does, how well.

    The ref is never wrapped (it is copied into ``install``); the description, clipped
    to a few dozen characters, wraps instead on a narrow terminal.
    """
    table = Table(title_justify="left")
    table.add_column("ref", no_wrap=True)
    for column in ("stage", "team", "risk"):
        table.add_column(column)
    table.add_column("description", max_width=DESCRIPTION_CHARS)
    table.add_column("score", justify="right")
    for hit in hits:
        table.add_row(
            escape(hit.ref),
            stage_text(hit.stage),
            escape(hit.owner_team),
            escape(hit.risk_tier or "-"),
            escape(clip(one_line(hit.description), DESCRIPTION_CHARS)),
            f"{hit.score:.2f}",
        )
    return table


def page_line(page: Page[SearchHit]) -> str:
    """``N of M``, and how to ask for the next page when there is one."""
    first = f" (from #{page.offset + 1})" if page.offset else ""
    line = f"{len(page.items)} of {page.total}{first}"
    if page.next_offset is not None:
        line += f"; next page: --offset {page.next_offset}"
    return line


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def show(
    ref: Annotated[
        str, typer.Argument(help="kind/name@version, or kind/name for the latest published.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the version as JSON.")] = False,
) -> None:
    """Show one asset version: stage, owner, risk, scope, eval, approvals and life.

    A deprecated or retired version is still shown (an old reference deserves an
    answer), under a line that says so, why, and what to use instead.
    """
    with catalog_errors():
        catalog = open_catalog(Settings())
        version = _shown_version(catalog, ref)
    if as_json:
        sys.stdout.write(version.model_dump_json(indent=2) + "\n")
        return
    print_version(version)


def print_version(version: VersionDetail) -> None:
    """Everything ``show`` knows about a version, withdrawal first."""
    out.print(f"[bold]{escape(version.ref)}[/]  {stage_text(version.stage)}")
    _print_withdrawal(version)
    plain(f"  {one_line(version.description)}")
    plain(f"  team {version.owner_team} · submitted by {version.submitter}")
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
        approvers = ", ".join(version.approvers) or "-"
        plain(f"  published {version.published_at:%Y-%m-%d %H:%M} UTC, approved by {approvers}")
    _print_recertification(version)
    if version.scope:
        out.print(scope_table(version))
    _print_eval(version)
    if version.other_versions:
        out.print(versions_table(version.other_versions))


def scope_table(version: VersionDetail) -> Table:
    """The tools an MCP server declared, with what each may do."""
    table = Table(title="Declared scope", title_justify="left")
    for column in ("tool", "effects", "description"):
        table.add_column(column)
    for tool in version.scope:
        table.add_row(
            escape(tool.name),
            escape(", ".join(tool.effects) or "-"),
            escape(tool.description or ""),
        )
    return table


def versions_table(versions: Sequence[VersionSummary]) -> Table:
    """The asset's other versions, so an old reference shows what came after it."""
    table = Table(title="Other versions", title_justify="left")
    for column in ("version", "stage", "published", "replacement"):
        table.add_column(column)
    for other in versions:
        table.add_row(
            escape(other.version),
            stage_text(other.stage),
            f"{other.published_at:%Y-%m-%d}" if other.published_at else "-",
            escape(other.replacement or ""),
        )
    return table


def _print_eval(version: VersionDetail) -> None:
    evaluated = version.eval
    if evaluated is None:
        return
    verdict = "passed" if evaluated.passed else "failed"
    when = f", {evaluated.evaluated_at:%Y-%m-%d %H:%M} UTC" if evaluated.evaluated_at else ""
    plain(
        f"  last eval: policy {evaluated.policy_version}, {verdict}: {evaluated.blocking} "
        f"blocking, {evaluated.warnings} warning(s){when}"
    )
    if evaluated.behaviour is not None:
        plain(f"  behaviour: {evaluated.behaviour.summary_line()}")
    if evaluated.findings:
        out.print(findings_table(evaluated.findings))


def _print_withdrawal(version: VersionDetail) -> None:
    """Put a deprecation or retirement where nobody can miss it: right under the name."""
    gone = version.deprecation
    reason = (gone.reason if gone else None) or "no reason recorded"
    replacement = version.replacement or (gone.replacement if gone else None)
    if version.stage == Stage.RETIRED.value:
        replaced = f"replaced by {replacement}" if replacement else "no replacement named"
        notice = f"RETIRED on {_day(version.retired_at)}: {reason}; {replaced}"
        out.print(f"  [bold red]{escape(notice)}[/]")
        plain("  kept for the record only: it is gone from search and install")
    elif version.stage == Stage.DEPRECATED.value:
        use = f"use {replacement}" if replacement else "no replacement named"
        sunset = version.sunset_at or (gone.sunset_at if gone else None)
        by = (gone.deprecated_by if gone else None) or "-"
        notice = (
            f"DEPRECATED on {_day(gone.deprecated_at if gone else None)} by {by}: "
            f"{reason}; {use}; retires on {_day(sunset)}"
        )
        out.print(f"  [bold yellow]{escape(notice)}[/]")


def _print_recertification(version: VersionDetail) -> None:
    # A withdrawn version is not re-certified any more, so its old due date would mislead.
    live = {stage.value for stage in IN_CATALOG}
    if version.recertify_by is not None and version.stage in live:
        plain(f"  re-certification due {version.recertify_by:%Y-%m-%d %H:%M} UTC")
    if version.recertified_at is not None:
        plain(f"  last re-certified {version.recertified_at:%Y-%m-%d %H:%M} UTC")


def _day(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d}" if moment is not None else "an unrecorded date"


def _shown_version(catalog: CatalogSource, ref: str) -> VersionDetail:
    """The version ``ref`` names; for ``kind/name``, its latest published one.

    The catalog answers ``kind/name`` with a deprecated version when nothing else is
    left (it can still be installed); ``show`` says instead that nothing is published,
    listing the withdrawn versions and the replacement, and the user picks one.

    Raises:
        CliError: ``kind/name`` has only withdrawn versions.
        CatalogNotFoundError: No such asset or version.
    """
    if "@" in ref:
        return catalog.show(ref)
    kind, name = parse_unversioned(ref)
    try:
        version = catalog.show(ref)
    except CatalogNotFoundError:
        retired = [
            hit
            for hit in catalog.search(
                SearchQuery(text=name, kind=kind, stage=Stage.RETIRED.value, limit=MAX_PAGE_SIZE)
            ).items
            if hit.name == name
        ]
        if not retired:
            raise
        version = catalog.show(retired[0].ref)
    if version.stage in {stage.value for stage in IN_CATALOG}:
        return version
    every: list[VersionSummary] = [version, *version.other_versions]
    withdrawn = [v for v in every if v.stage in {s.value for s in WITHDRAWN}]
    withdrawn.sort(key=lambda v: semver_key(v.version), reverse=True)
    raise CliError(_nothing_published(kind, name, withdrawn))


def _nothing_published(kind: AssetKind, name: str, withdrawn: list[VersionSummary]) -> str:
    """Why ``kind/name`` has no latest version: every version was withdrawn."""
    asset = f"{kind.value}/{name}"
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
    """Show where a version's lifecycle stands and what it waits for.

    Asked of the registry server when ``AGENT_REGISTRY_API_URL`` is set (people hold no
    Temporal credentials in production), else of Temporal directly (``make up``).
    """
    target = AssetRef.parse(ref)
    settings = Settings()
    if settings.api_url:
        print_status(read_status(settings, str(target)).status)
        return
    asyncio.run(_status(target))


async def _status(ref: AssetRef) -> None:
    lifecycles = LifecycleClient(await connect())
    try:
        state = await lifecycles.status(ref)
    except LifecycleNotFoundError as error:
        raise CliError(f"{error} (no workflow {ref.workflow_id})") from None
    print_status(state.status)
