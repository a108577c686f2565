"""A report with something in every part, and hostile strings where users type them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent_registry.assets.refs import AssetKind
from agent_registry.catalog.models import (
    AssetReuse,
    CountByKey,
    DailyCount,
    DueItem,
    EvalFailureItem,
    OrgReport,
    PendingReview,
    ScopeRow,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>&'


def sample_report() -> OrgReport:
    """Every list filled; the team name and a reach entry are HTML injections."""
    days = [
        DailyCount(day=f"{(NOW - timedelta(days=29 - i)):%Y-%m-%d}", installs=i % 3, uses=i)
        for i in range(30)
    ]
    return OrgReport(
        generated_at=NOW,
        by_kind=[CountByKey(key="skill", count=4), CountByKey(key="mcp-server", count=2)],
        by_stage=[CountByKey(key="Published", count=5), CountByKey(key="InReview", count=1)],
        by_team=[CountByKey(key="payments", count=3), CountByKey(key=HOSTILE, count=3)],
        by_tier=[CountByKey(key="low", count=4), CountByKey(key="high", count=2)],
        scope=[
            ScopeRow(
                ref="mcp-server/io.github.acme/tickets",
                kind=AssetKind.MCP_SERVER,
                owner_team="payments",
                risk_tier="high",
                reach=["tickets: write", HOSTILE],
            ),
            ScopeRow(
                ref="skill/pdf-report",
                kind=AssetKind.SKILL,
                owner_team="docs",
                risk_tier="low",
                reach=["Read"],
            ),
        ],
        pending_reviews=[
            PendingReview(
                ref="skill/slow-review@1.0.0",
                owner_team="docs",
                risk_tier="medium",
                waiting_since=NOW - timedelta(hours=80),
                age_hours=80,
                sla_breached=True,
            )
        ],
        recertifications_due=[
            DueItem(
                ref="skill/pdf-report@1.2.0",
                owner_team="docs",
                due=NOW - timedelta(days=3),
                overdue=True,
            ),
            DueItem(
                ref="subagent/reviewer@0.3.0",
                owner_team="platform",
                due=NOW + timedelta(days=12),
                overdue=False,
            ),
        ],
        deprecations=[
            DueItem(
                ref="skill/old-report@0.9.0",
                owner_team="docs",
                due=NOW + timedelta(days=20),
                overdue=False,
                replacement="skill/pdf-report@1.2.0",
            )
        ],
        eval_failures=[
            EvalFailureItem(
                ref="mcp-server/io.github.acme/leaky@2.0.0",
                owner_team="payments",
                risk_tier="high",
                submitted_at=NOW - timedelta(days=2),
                failed_at=NOW - timedelta(days=2),
            )
        ],
        reuse=[
            AssetReuse(
                ref="skill/pdf-report",
                owner_team="docs",
                installs=17,
                uses=342,
                teams=5,
                last_used_at=NOW - timedelta(hours=2),
                daily=days,
            ),
            AssetReuse(
                ref="mcp-server/io.github.acme/tickets",
                owner_team=HOSTILE,
                installs=1,
                uses=0,
                teams=1,
            ),
        ],
        unused=["subagent/lonely"],
        daily=days,
    )


def empty_report() -> OrgReport:
    """A registry with nothing in it yet."""
    return OrgReport(
        generated_at=NOW,
        by_kind=[],
        by_stage=[],
        by_team=[],
        by_tier=[],
        scope=[],
        pending_reviews=[],
        recertifications_due=[],
        deprecations=[],
        reuse=[],
        unused=[],
        daily=[],
    )
