"""The dashboard's report from facts kept in memory: the same report, without rereading.

``DatabaseCatalog.live_report`` must say exactly what ``report`` says after any write,
while reading only the versions that write changed; and the report items kept between
builds (``ItemMemo``) must be rebuilt the moment their facts or their dates change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.catalog import report as org_report
from agent_registry.catalog import report_facts
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.report_facts import FULL_READ_AFTER, LiveFacts
from agent_registry.catalog.scopes import DeclaredScopes
from agent_registry.lifecycle.stages import RiskTier, Stage
from agent_registry.registry import store
from agent_registry.registry.tables import AssetVersion
from tests.catalog.seeding import deprecate, mcp_archive, move, published, register
from tests.seeding import installed, rate, used

NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


def fixed(engine: Engine) -> DatabaseCatalog:
    return DatabaseCatalog(engine, clock=lambda: NOW)


def assert_same(catalog: DatabaseCatalog) -> None:
    live = catalog.live_report()
    assert live.model_dump() == catalog.report().model_dump()


def test_live_report_matches_the_full_report_after_every_kind_of_write(
    session: Session, engine: Engine
) -> None:
    catalog = fixed(engine)
    skill = published(
        session, "skill/pdf@1.0.0", team="docs", manifest={"name": "pdf", "allowed-tools": "Read"}
    )
    draft = register(session, "skill/draft@1.0.0", team="data")
    session.commit()
    assert_same(catalog)

    move(session, draft, Stage.IN_REVIEW)  # a stage change and its audit event
    session.commit()
    assert_same(catalog)
    assert [r.ref for r in catalog.live_report().pending_reviews] == ["skill/draft@1.0.0"]

    server = published(  # a new asset, published: its reach is read
        session,
        "mcp-server/io.github.acme/tickets@1.0.0",
        archive=mcp_archive("tickets", {"close_ticket": ["write"]}),
    )
    assert_same(catalog)
    assert any(row.reach == ["close_ticket: write"] for row in catalog.live_report().scope)

    rate(session, server, RiskTier.HIGH)  # a risk tier
    store.schedule_recertification(  # a due date inside the horizon
        session, ref=skill, recertify_by=NOW + timedelta(days=3), event_key="rc"
    )
    session.commit()
    assert_same(catalog)
    assert [d.ref for d in catalog.live_report().recertifications_due] == ["skill/pdf@1.0.0"]

    update_ref = published(session, "skill/pdf@2.0.0", team="docs")  # a new current version
    deprecate(session, skill, replacement=str(update_ref), sunset_at=NOW + timedelta(days=9))
    assert_same(catalog)
    assert [d.ref for d in catalog.live_report().deprecations] == ["skill/pdf@1.0.0"]

    move(session, draft, Stage.EVAL_FAILED)
    session.commit()
    catalog.record_install(installed("skill/pdf@2.0.0", team="ops", at=NOW))
    catalog.record_usage([used(AssetKind.SKILL, "pdf", team="ops", at=NOW)])
    assert_same(catalog)
    report = catalog.live_report()
    assert [f.ref for f in report.eval_failures] == ["skill/draft@1.0.0"]
    assert report.pending_reviews == []
    assert [(r.ref, r.installs, r.uses) for r in report.reuse] == [("skill/pdf", 1, 1)]


def test_a_write_reads_only_the_versions_it_changed(
    session: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = fixed(engine)
    refs = [register(session, f"skill/s{n}@1.0.0", team="data") for n in range(12)]
    session.commit()
    # Written hours apart, as a registry's versions mostly are: only the latest is within
    # the look-back of a refresh.
    for hours, ref in enumerate(refs, start=2):
        session.exec(
            update(AssetVersion)
            .where(col(AssetVersion.id) == _id(session, ref))
            .values(updated_at=NOW - timedelta(hours=hours))
        )
    session.commit()
    read: list[int] = []
    reader = report_facts.read_version_facts

    def counting(*args: object, **kwargs: object) -> list[org_report.VersionFacts]:
        rows = reader(*args, **kwargs)  # type: ignore[arg-type]
        read.append(len(rows))
        return rows

    monkeypatch.setattr(report_facts, "read_version_facts", counting)
    catalog.live_report()
    assert read == [12]

    move(session, refs[3], Stage.IN_REVIEW)
    session.commit()
    report = catalog.live_report()
    assert read == [12, 2]  # the one moved, and the latest one seen (the look-back)
    assert [r.ref for r in report.pending_reviews] == ["skill/s3@1.0.0"]
    assert report.model_dump() == catalog.report().model_dump()


def _id(session: Session, ref: AssetRef) -> int:
    row = store.get_version(session, ref=ref)
    assert row.id is not None
    return row.id


def test_a_hand_edited_row_shows_after_the_full_read_interval(
    session: Session, engine: Engine
) -> None:
    ref = register(session, "skill/edited@1.0.0", team="data")
    latest = register(session, "skill/latest@1.0.0", team="data")
    session.commit()
    for hours, written in ((5, ref), (2, latest)):
        session.exec(
            update(AssetVersion)
            .where(col(AssetVersion.id) == _id(session, written))
            .values(updated_at=NOW - timedelta(hours=hours))
        )
    session.commit()
    ticks = [0.0]
    facts = LiveFacts(engine, DeclaredScopes(), clock=lambda: ticks[0])

    def stage() -> list[tuple[str, int]]:
        report = facts.report(now=NOW, review_sla=timedelta(days=2))
        return [(c.key, c.count) for c in report.by_stage]

    assert stage() == [(Stage.SUBMITTED.value, 2)]
    # Outside the store: the stage moves, ``updated_at`` does not.
    session.exec(
        update(AssetVersion)
        .where(col(AssetVersion.id) == _id(session, ref))
        .values(stage=Stage.EVAL_FAILED.value)
    )
    session.commit()
    assert stage() == [(Stage.SUBMITTED.value, 2)]
    ticks[0] = FULL_READ_AFTER
    assert stage() == [(Stage.EVAL_FAILED.value, 1), (Stage.SUBMITTED.value, 1)]


def facts(version_id: int, recertify_by: datetime) -> org_report.VersionFacts:
    return org_report.VersionFacts(
        version_id=version_id,
        asset_id=version_id,
        kind="skill",
        name=f"s{version_id}",
        owner_team="data",
        version="1.0.0",
        version_sort="1.0.0",
        stage=Stage.PUBLISHED.value,
        risk_tier=None,
        updated_at=NOW - timedelta(days=30),
        recertify_by=recertify_by,
    )


def inputs(now: datetime, versions: list[org_report.VersionFacts]) -> org_report.ReportInputs:
    return org_report.ReportInputs(
        now=now,
        review_sla=timedelta(days=2),
        versions=versions,
        reach={},
        review_started={},
        uses=[],
        days=[],
    )


def test_kept_items_are_reused_only_while_their_facts_and_dates_hold() -> None:
    versions = [facts(1, NOW + timedelta(days=1)), facts(2, NOW + timedelta(days=20))]
    memo = org_report.ItemMemo()
    first = org_report.build_report(inputs(NOW, versions), memo)
    again = org_report.build_report(inputs(NOW, versions), memo)
    assert all(
        a is b for a, b in zip(first.recertifications_due, again.recertifications_due, strict=True)
    )
    assert all(a is b for a, b in zip(first.scope, again.scope, strict=True))

    # Two days on, the first is overdue: its item is built again, the other kept.
    later = NOW + timedelta(days=2)
    moved = org_report.build_report(inputs(later, versions), memo)
    assert moved.model_dump() == org_report.build_report(inputs(later, versions)).model_dump()
    assert [d.overdue for d in moved.recertifications_due] == [True, False]
    assert moved.recertifications_due[1] is first.recertifications_due[1]

    # Changed facts (a new due date) are never answered from the memo.
    pushed = [facts(1, NOW + timedelta(days=10)), versions[1]]
    changed = org_report.build_report(inputs(later, pushed), memo)
    assert [d.due for d in changed.recertifications_due] == [
        NOW + timedelta(days=10),
        NOW + timedelta(days=20),
    ]
    assert not changed.recertifications_due[0].overdue
