"""The dashboard's parts, one function each, in the order the platform team asks.

What is there, what it can touch, what needs a decision, and what is actually used.

Each returns an HTML fragment built only through :mod:`~agent_registry.dashboard.markup`
(escaping) and :mod:`~agent_registry.dashboard.charts`. Dates are judged against the
report's ``generated_at``, so a page rendered from a saved report reads as it did then.
"""

from __future__ import annotations

from datetime import datetime

from agent_registry.catalog.models import DueItem, OrgReport
from agent_registry.dashboard.charts import bar_chart, daily_chart, sparkline
from agent_registry.dashboard.markup import badge, chips, day, esc, span, table, tier_badge
from agent_registry.lifecycle.visibility import (
    AWAITING_SUNSET,
    EVAL_FAILURES,
    PAST_SLA,
    PENDING_REVIEWS,
    RECERTIFICATIONS_DUE,
    TemporalConsole,
    View,
    lifecycle_workflow_id,
    views,
)

TIER_ORDER = {"high": 0, "medium": 1, "low": 2}

PAGE_ROWS = 100
"""Most rows a list shows; the rest are a click away (the Temporal UI's filtered list, or
``agentreg report --json``). The page reloads every minute in every open tab: at 10,000
versions a list of thousands of rows was most of its time, and nobody reads past the
first hundred of the most pressing."""


def summary(report: OrgReport) -> str:
    """The headline numbers, each linking to the section that explains it."""
    breached = sum(1 for r in report.pending_reviews if r.sla_breached)
    overdue = sum(1 for d in report.recertifications_due if d.overdue)
    published = next((c.count for c in report.by_stage if c.key == "Published"), 0)
    cards = [
        ("Assets", sum(c.count for c in report.by_kind), f"{published} published", "inventory"),
        (
            "Pending reviews",
            len(report.pending_reviews),
            f"{breached} past SLA",
            "governance",
        ),
        (
            "Re-certifications",
            len(report.recertifications_due),
            f"{overdue} overdue",
            "governance",
        ),
        ("Installs", sum(d.installs for d in report.daily), "last 30 days", "reuse"),
        ("Uses", sum(d.uses for d in report.daily), "last 30 days", "reuse"),
        ("Unused", len(report.unused), "published, never used", "reuse"),
    ]
    alarm = {"Pending reviews": breached, "Re-certifications": overdue}
    items = "".join(
        f'<a class="card{" alarm" if alarm.get(label) else ""}" href="#{target}" '
        f'data-metric="{esc(label.lower())}"><span class="value">{value}</span>'
        f'<span class="label">{esc(label)}</span><span class="note">{esc(note)}</span></a>'
        for label, value, note, target in cards
    )
    return f'<section class="cards" aria-label="Summary">{items}</section>'


def inventory(report: OrgReport) -> str:
    """How many assets there are by kind, stage, owner team and risk tier."""
    charts = [
        ("By kind", bar_chart(report.by_kind, title="Assets by kind")),
        ("By stage", bar_chart(report.by_stage, title="Assets by lifecycle stage")),
        ("By owner team", bar_chart(report.by_team, title="Assets by owner team")),
        ("By risk tier", bar_chart(report.by_tier, title="Assets by risk tier")),
    ]
    panels = "".join(f'<div class="panel"><h3>{esc(t)}</h3>{chart}</div>' for t, chart in charts)
    return _section(
        "inventory",
        "Inventory",
        "Latest version of each asset.",
        f'<div class="grid">{panels}</div>',
    )


def scope(report: OrgReport) -> str:
    """What each published asset can touch, riskiest first."""
    rows = sorted(report.scope, key=lambda r: (TIER_ORDER.get(r.risk_tier or "", 3), r.ref))
    total = len(rows)
    rows = rows[:PAGE_ROWS]
    body = table(
        ["Asset", "Kind", "Owner team", "Risk", "Can touch"],
        (
            [
                f"<code>{esc(r.ref)}</code>",
                esc(r.kind.value),
                esc(r.owner_team),
                tier_badge(r.risk_tier),
                chips(r.reach),
            ]
            for r in rows
        ),
        row_attrs=[f'data-ref="{esc(r.ref)}"' for r in rows],
        empty="No published assets yet.",
    ) + _more(len(rows), total, "<code>agentreg report --json</code> lists them all")
    return _section(
        "scope",
        "What assets can touch",
        "Tools, effects and permissions each published asset declares, by risk tier.",
        body,
    )


def governance(report: OrgReport, console: TemporalConsole) -> str:
    """Decisions waiting: reviews and their age, re-certifications, deprecations, failures.

    Every version links to its lifecycle in the Temporal UI, and every list to the UI's
    workflow list filtered by the visibility query that selects the same versions (shown
    beside the link, ready to save as a view).
    """
    now = report.generated_at
    shown = {v.key: v for v in views(now)}
    pending = report.pending_reviews[:PAGE_ROWS]
    due = report.recertifications_due[:PAGE_ROWS]
    deprecated = report.deprecations[:PAGE_ROWS]
    failed = report.eval_failures[:PAGE_ROWS]
    reviews = table(
        ["Version", "Owner team", "Risk", "Waiting since", "Age", "SLA", "Behaviour"],
        (
            [
                _version_link(r.ref, console),
                esc(r.owner_team),
                tier_badge(r.risk_tier),
                esc(day(r.waiting_since)),
                esc(span(r.age_hours * 3600)),
                badge("breached", "bad") if r.sla_breached else badge("within", "ok"),
                esc(r.behaviour) if r.behaviour else "&ndash;",
            ]
            for r in pending
        ),
        row_attrs=[
            f'data-ref="{esc(r.ref)}"' + (' class="breach"' if r.sla_breached else "")
            for r in pending
        ],
        empty="No versions are waiting for review.",
    )
    recerts = table(
        ["Version", "Owner team", "Due", "Status"],
        (
            [
                _version_link(d.ref, console),
                esc(d.owner_team),
                esc(day(d.due)),
                _due_status(d, now),
            ]
            for d in due
        ),
        row_attrs=[f'data-ref="{esc(d.ref)}"' for d in due],
        empty="No re-certifications due in the next 30 days.",
    )
    sunsets = table(
        ["Version", "Owner team", "Sunset", "Status", "Use instead"],
        (
            [
                _version_link(d.ref, console),
                esc(d.owner_team),
                esc(day(d.due)),
                _due_status(d, now, overdue_text="retired"),
                f"<code>{esc(d.replacement)}</code>" if d.replacement else "&ndash;",
            ]
            for d in deprecated
        ),
        row_attrs=[f'data-ref="{esc(d.ref)}"' for d in deprecated],
        empty="Nothing is deprecated.",
    )
    failures = table(
        ["Version", "Owner team", "Risk", "Submitted", "Failed"],
        (
            [
                _version_link(f.ref, console),
                esc(f.owner_team),
                tier_badge(f.risk_tier),
                esc(day(f.submitted_at)),
                esc(day(f.failed_at)),
            ]
            for f in failed
        ),
        row_attrs=[f'data-ref="{esc(f.ref)}"' for f in failed],
        empty="No eval failures in lifecycles started this week.",
    )
    body = (
        _decision_list(
            "Pending reviews",
            _view_links(console, shown[PENDING_REVIEWS], shown[PAST_SLA]),
            reviews,
            shown=len(pending),
            total=len(report.pending_reviews),
        )
        + _decision_list(
            "Re-certifications due",
            _view_links(console, shown[RECERTIFICATIONS_DUE]),
            recerts,
            shown=len(due),
            total=len(report.recertifications_due),
        )
        + _decision_list(
            "Deprecations and sunsets",
            _view_links(console, shown[AWAITING_SUNSET]),
            sunsets,
            shown=len(deprecated),
            total=len(report.deprecations),
        )
        + _decision_list(
            "Eval failures this week",
            _view_links(console, shown[EVAL_FAILURES]),
            failures,
            shown=len(failed),
            total=len(report.eval_failures),
        )
    )
    return _section("governance", "Governance", "What needs a decision, oldest first.", body)


def reuse(report: OrgReport) -> str:
    """Installs and uses over time and per asset, and what nobody uses."""
    trend = any(a.daily for a in report.reuse)  # a source may not break counts down by day
    assets = table(
        ["Asset", "Owner team", "Installs", "Uses", "Teams", "Last used"]
        + (["Last 30 days"] if trend else []),
        (
            [
                f"<code>{esc(a.ref)}</code>",
                esc(a.owner_team),
                f'<span data-col="installs">{a.installs}</span>',
                f'<span data-col="uses">{a.uses}</span>',
                f'<span data-col="teams">{a.teams}</span>',
                esc(day(a.last_used_at)) if a.last_used_at else "never",
            ]
            + ([sparkline(a.daily)] if trend else [])
            for a in report.reuse
        ),
        numeric=(2, 3, 4),
        row_attrs=[f'data-ref="{esc(a.ref)}"' for a in report.reuse],
        empty="No installs or uses recorded yet.",
    )
    unused = (
        '<ul class="unused">'
        + "".join(f"<li><code>{esc(ref)}</code></li>" for ref in report.unused)
        + "</ul>"
        if report.unused
        else '<p class="empty">Every published asset is installed or used.</p>'
    )
    body = (
        f'<div class="panel wide">{daily_chart(report.daily)}</div>'
        f"<h3>Per asset</h3>{assets}"
        f"<h3>Nobody uses ({len(report.unused)})</h3>{unused}"
    )
    return _section(
        "reuse", "Reuse", "Installs and uses per day, per asset and across teams.", body
    )


def _due_status(item: DueItem, now: datetime, *, overdue_text: str = "overdue") -> str:
    seconds = (item.due - now).total_seconds()
    if item.overdue or seconds < 0:
        return badge(f"{overdue_text} {span(seconds)} ago", "bad")
    return badge(f"in {span(seconds)}", "warn" if seconds < 7 * 86400 else "ok")


def _decision_list(title: str, links: str, rows: str, *, shown: int, total: int) -> str:
    """One list of the governance section: heading with the full count, views, rows.

    The four lists read alike (and a reader finds the rest in Temporal the same way);
    ``title``, ``links`` and ``rows`` are trusted HTML.
    """
    return (
        f"<h3>{title} ({total})</h3>"
        + links
        + rows
        + _more(shown, total, "the Temporal list has them all")
    )


def _more(shown: int, total: int, where: str) -> str:
    """A note under a list cut at :data:`PAGE_ROWS`; ``where`` is trusted HTML."""
    if shown >= total:
        return ""
    return f'<p class="more">Showing the first {shown} of {total:,}; {where}.</p>'


def _version_link(ref: str, console: TemporalConsole) -> str:
    """A version as a link to its lifecycle workflow in the Temporal UI."""
    href = console.workflow(lifecycle_workflow_id(ref))
    return f'<a class="wf" href="{esc(href)}"><code>{esc(ref)}</code></a>'


def _view_links(console: TemporalConsole, *shown: View) -> str:
    """Links to the UI's workflow list filtered like the section, with their queries."""
    items = "".join(
        f'<li><a class="view" data-view="{esc(v.key)}" '
        f'href="{esc(console.workflow_list(v.query))}">'
        f"{esc(v.title)} in Temporal</a> <code>{esc(v.query)}</code></li>"
        for v in shown
    )
    return f'<ul class="views">{items}</ul>'


def _section(anchor: str, title: str, lead: str, body: str) -> str:
    return (
        f'<section id="{anchor}"><h2>{esc(title)}</h2>'
        f'<p class="lead">{esc(lead)}</p>{body}</section>'
    )
