"""The org report's numbers over a small registry whose every number is known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import (
    AssetReuse,
    CountByKey,
    DueItem,
    OrgReport,
    ScopeRow,
)
from agent_registry.lifecycle.stages import RiskTier, Stage
from agent_registry.policy.loader import load_policy
from agent_registry.policy.model import Policy
from agent_registry.registry import store
from agent_registry.registry.tables import AuditEvent
from tests.catalog.seeding import deprecate, mcp_archive, move, published, register, retire
from tests.seeding import installed, rate, used


@dataclass(frozen=True)
class Seeded:
    now: datetime
    draft_since: datetime


def recertify_by(session: Session, ref: AssetRef, due: datetime) -> None:
    store.schedule_recertification(session, ref=ref, recertify_by=due, event_key=f"{ref}/rc")


def review_entered(session: Session, ref: AssetRef) -> datetime:
    (event,) = [e for e in store.audit_for(session, ref=ref) if e.action == "stage:InReview"]
    return event.at


@pytest.fixture
def seeded(session: Session, catalog: DatabaseCatalog) -> Seeded:
    skill = published(
        session,
        "skill/pdf-report@1.0.0",
        team="docs",
        manifest={"name": "pdf-report", "allowed-tools": ["Read", "Bash"]},
    )
    rate(session, skill, RiskTier.MEDIUM)
    update_ref = register(session, "skill/pdf-report@2.0.0", team="docs")
    move(session, update_ref, Stage.IN_REVIEW)
    reviewer = published(
        session,
        "subagent/reviewer@1.0.0",
        manifest={"name": "reviewer", "tools": None, "permissionMode": "bypassPermissions"},
    )
    linter = published(
        session, "subagent/linter@1.0.0", manifest={"name": "linter", "tools": ["Read", "Grep"]}
    )
    tickets = published(
        session,
        "mcp-server/io.github.acme/tickets@1.0.0",
        archive=mcp_archive(
            "tickets", {"search_tickets": ["read"], "close_ticket": ["write", "delete"]}
        ),
    )
    rate(session, tickets, RiskTier.HIGH)
    old = published(session, "skill/old-thing@1.0.0", team="docs")
    retire(session, published(session, "skill/gone@1.0.0", team="docs"))
    draft = register(session, "skill/draft@1.0.0", team="data")
    move(session, draft, Stage.IN_REVIEW)
    register(session, "skill/new-idea@1.0.0", team="data")
    session.commit()

    draft_since = review_entered(session, draft)
    now = draft_since + timedelta(hours=1)
    # The update has waited three days: move its audit event back (the store stamps now).
    session.exec(
        update(AuditEvent)
        .where(
            col(AuditEvent.version) == "2.0.0",
            col(AuditEvent.name) == "pdf-report",
            col(AuditEvent.action) == "stage:InReview",
        )
        .values(at=now - timedelta(days=3))
    )
    recertify_by(session, reviewer, now + timedelta(days=10))
    recertify_by(session, linter, now - timedelta(days=2))
    recertify_by(session, tickets, now + timedelta(days=60))
    session.commit()
    deprecate(session, old, replacement=str(skill), sunset_at=now + timedelta(days=20))

    def ago(days: int) -> datetime:
        return now - timedelta(days=days)

    catalog.record_install(installed("skill/pdf-report@1.0.0", team="data", at=ago(1)))
    catalog.record_install(installed("skill/pdf-report@1.0.0", team="docs", at=ago(1)))
    catalog.record_install(installed("subagent/reviewer@1.0.0", team="data", at=ago(5)))
    catalog.record_usage(
        [
            used(AssetKind.SKILL, "pdf-report", team="data", at=ago(0)),
            used(AssetKind.SKILL, "pdf-report", team="ops", at=ago(1)),
            used(AssetKind.SKILL, "pdf-report", team="data", at=ago(40)),
            used(AssetKind.MCP_SERVER, "io.github.acme/tickets", team="ops", at=ago(2)),
            used(AssetKind.SKILL, "ghost", team="ops", at=ago(0)),
        ]
    )
    return Seeded(now=now, draft_since=draft_since)


def report_at(engine: Engine, now: datetime, *, policy: Policy | None = None) -> OrgReport:
    return DatabaseCatalog(engine, policy=policy, clock=lambda: now).report()


def test_inventory_counts_each_asset_once_at_its_current_version(
    seeded: Seeded, engine: Engine
) -> None:
    report = report_at(engine, seeded.now)

    assert report.generated_at == seeded.now
    assert report.by_kind == [
        CountByKey(key="skill", count=5),
        CountByKey(key="subagent", count=2),
        CountByKey(key="mcp-server", count=1),
    ]
    assert report.by_stage == [
        CountByKey(key="Published", count=4),
        CountByKey(key="Deprecated", count=1),
        CountByKey(key="InReview", count=1),
        CountByKey(key="Retired", count=1),
        CountByKey(key="Submitted", count=1),
    ]
    assert report.by_team == [
        CountByKey(key="docs", count=3),
        CountByKey(key="platform", count=3),
        CountByKey(key="data", count=2),
    ]
    assert report.by_tier == [
        CountByKey(key="unrated", count=6),
        CountByKey(key="high", count=1),
        CountByKey(key="medium", count=1),
    ]


def test_scope_rows_say_what_each_published_asset_can_touch(seeded: Seeded, engine: Engine) -> None:
    assert report_at(engine, seeded.now).scope == [
        ScopeRow(
            ref="mcp-server/io.github.acme/tickets@1.0.0",
            kind=AssetKind.MCP_SERVER,
            owner_team="platform",
            risk_tier="high",
            reach=["search_tickets: read", "close_ticket: write, delete"],
        ),
        ScopeRow(
            ref="skill/pdf-report@1.0.0",
            kind=AssetKind.SKILL,
            owner_team="docs",
            risk_tier="medium",
            reach=["Read", "Bash"],
        ),
        ScopeRow(
            ref="subagent/linter@1.0.0",
            kind=AssetKind.SUBAGENT,
            owner_team="platform",
            reach=["Read", "Grep"],
        ),
        ScopeRow(
            ref="subagent/reviewer@1.0.0",
            kind=AssetKind.SUBAGENT,
            owner_team="platform",
            reach=["all tools (inherited)", "permissionMode: bypassPermissions"],
        ),
    ]


def test_pending_reviews_age_against_the_policy_sla(seeded: Seeded, engine: Engine) -> None:
    pending = report_at(engine, seeded.now).pending_reviews  # packaged policy: sla 2d

    assert [(p.ref, p.owner_team, p.sla_breached) for p in pending] == [
        ("skill/pdf-report@2.0.0", "docs", True),
        ("skill/draft@1.0.0", "data", False),
    ]
    assert pending[0].waiting_since == seeded.now - timedelta(days=3)
    assert pending[0].age_hours == pytest.approx(72.0)
    assert pending[1].waiting_since == seeded.draft_since
    assert pending[1].age_hours == pytest.approx(1.0)

    default = load_policy(None)
    strict = default.model_copy(
        update={"review": default.review.model_copy(update={"sla": timedelta(minutes=30)})}
    )
    strict_pending = report_at(engine, seeded.now, policy=strict).pending_reviews
    assert [p.sla_breached for p in strict_pending] == [True, True]


def test_recertifications_and_deprecations_come_with_their_dates(
    seeded: Seeded, engine: Engine
) -> None:
    report = report_at(engine, seeded.now)
    now = seeded.now

    assert report.recertifications_due == [
        DueItem(
            ref="subagent/linter@1.0.0",
            owner_team="platform",
            due=now - timedelta(days=2),
            overdue=True,
        ),
        DueItem(
            ref="subagent/reviewer@1.0.0",
            owner_team="platform",
            due=now + timedelta(days=10),
            overdue=False,
        ),
    ]
    assert report.deprecations == [
        DueItem(
            ref="skill/old-thing@1.0.0",
            owner_team="docs",
            due=now + timedelta(days=20),
            overdue=False,
            replacement="skill/pdf-report@1.0.0",
        )
    ]


def test_reuse_unused_and_daily_counts(seeded: Seeded, engine: Engine) -> None:
    report = report_at(engine, seeded.now)
    now = seeded.now

    assert report.reuse == [
        AssetReuse(
            ref="skill/pdf-report",
            owner_team="docs",
            installs=2,
            uses=3,
            teams=3,
            last_used_at=now,
        ),
        AssetReuse(
            ref="mcp-server/io.github.acme/tickets",
            owner_team="platform",
            installs=0,
            uses=1,
            teams=1,
            last_used_at=now - timedelta(days=2),
        ),
        AssetReuse(
            ref="subagent/reviewer",
            owner_team="platform",
            installs=1,
            uses=0,
            teams=1,
            last_used_at=None,
        ),
    ]
    assert report.unused == ["subagent/linter"]

    assert len(report.daily) == 30
    assert report.daily[-1].day == now.date().isoformat()
    assert report.daily[0].day == (now - timedelta(days=29)).date().isoformat()
    busy = {d.day: (d.installs, d.uses) for d in report.daily if d.installs or d.uses}

    def day(days_ago: int) -> str:
        return (now - timedelta(days=days_ago)).date().isoformat()

    assert busy == {day(0): (0, 2), day(1): (2, 1), day(2): (0, 1), day(5): (1, 0)}


def test_an_empty_registry_reports_zeros(engine: Engine) -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    report = report_at(engine, now)

    assert report.by_kind == report.by_stage == report.by_team == report.by_tier == []
    assert report.scope == []
    assert report.pending_reviews == []
    assert report.recertifications_due == report.deprecations == []
    assert report.reuse == []
    assert report.unused == []
    assert [(d.installs, d.uses) for d in report.daily] == [(0, 0)] * 30
