"""Install and usage events: appended once per client event id, linked to known versions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from agent_registry.assets.refs import AssetKind, AssetRef, InvalidRefError
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import InstallEvent, UsageEvent
from agent_registry.registry import store
from agent_registry.registry.store import usage
from agent_registry.registry.tables import InstallEventRow, UsageEventRow
from tests.catalog.seeding import published

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def use(
    event_id: str | None, *, version: str | None = "1.0.0", name: str = "pdf-report"
) -> UsageEvent:
    return UsageEvent(
        kind=AssetKind.SKILL,
        name=name,
        version=version,
        team="data",
        user="ada",
        session="s-1",
        at=AT,
        event_id=event_id,
    )


def usage_rows(session: Session) -> list[UsageEventRow]:
    session.expire_all()
    return list(session.exec(select(UsageEventRow).order_by(col(UsageEventRow.id))).all())


def install_rows(session: Session) -> list[InstallEventRow]:
    session.expire_all()
    return list(session.exec(select(InstallEventRow).order_by(col(InstallEventRow.id))).all())


def test_an_install_is_recorded_once_per_event_id(
    session: Session, catalog: DatabaseCatalog
) -> None:
    published(session, "skill/pdf-report@1.0.0")
    event = InstallEvent(
        ref="skill/pdf-report@1.0.0", team="data", user="ada", at=AT, event_id="i-1"
    )

    catalog.record_install(event)
    catalog.record_install(event)
    catalog.record_install(event.model_copy(update={"event_id": None}))
    catalog.record_install(event.model_copy(update={"event_id": None}))

    rows = install_rows(session)
    assert [row.event_id for row in rows] == ["i-1", None, None]
    version_id = store.get_version(session, ref=AssetRef.parse(event.ref)).id
    assert {row.version_id for row in rows} == {version_id}
    assert (rows[0].kind, rows[0].name, rows[0].version) == ("skill", "pdf-report", "1.0.0")
    assert (rows[0].team, rows[0].user_name, rows[0].target, rows[0].at) == (
        "data",
        "ada",
        "claude-code",
        AT,
    )


def test_an_install_of_an_unknown_ref_is_kept_unlinked(
    session: Session, catalog: DatabaseCatalog
) -> None:
    catalog.record_install(InstallEvent(ref="skill/ghost@2.0.0", user="ada", at=AT))

    (row,) = install_rows(session)
    assert (row.name, row.version, row.version_id) == ("ghost", "2.0.0", None)


def test_an_install_needs_a_versioned_ref_and_an_aware_time(catalog: DatabaseCatalog) -> None:
    with pytest.raises(InvalidRefError):
        catalog.record_install(InstallEvent(ref="skill/pdf-report", user="ada", at=AT))
    with pytest.raises(ValueError, match="naive"):
        catalog.record_install(
            InstallEvent(ref="skill/pdf-report@1.0.0", user="ada", at=AT.replace(tzinfo=None))
        )


def test_re_sent_uses_are_counted_once(session: Session, catalog: DatabaseCatalog) -> None:
    published(session, "skill/pdf-report@1.0.0")
    batch = [use("u-1"), use("u-2"), use("u-1"), use(None)]

    assert catalog.record_usage(batch) == 3
    assert catalog.record_usage(batch) == 1  # only the event without an id is new again
    assert catalog.record_usage([use("u-2"), use("u-3", version=None)]) == 1
    assert catalog.record_usage([]) == 0

    rows = usage_rows(session)
    assert [row.event_id for row in rows] == ["u-1", "u-2", None, None, "u-3"]
    linked = store.get_version(session, ref=AssetRef.parse("skill/pdf-report@1.0.0")).id
    assert [row.version_id for row in rows] == [linked] * 4 + [None]
    assert (rows[0].team, rows[0].user_name, rows[0].session, rows[0].at) == (
        "data",
        "ada",
        "s-1",
        AT,
    )


def test_uses_of_unknown_versions_are_kept_unlinked(
    session: Session, catalog: DatabaseCatalog
) -> None:
    assert catalog.record_usage([use("u-1", name="ghost"), use("u-2", version="9.9.9")]) == 2
    assert [row.version_id for row in usage_rows(session)] == [None, None]


def test_a_batch_with_a_naive_time_records_nothing(
    session: Session, catalog: DatabaseCatalog
) -> None:
    naive = use("u-2").model_copy(update={"at": AT.replace(tzinfo=None)})
    with pytest.raises(ValueError, match="naive"):
        catalog.record_usage([use("u-1"), naive])
    assert usage_rows(session) == []


def test_a_copy_that_lands_between_check_and_insert_is_skipped(
    session: Session, catalog: DatabaseCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert catalog.record_usage([use("u-1")]) == 1
    catalog.record_install(InstallEvent(ref="skill/a@1.0.0", user="ada", at=AT, event_id="i-1"))
    # As if another copy of the batch committed after this one looked for its ids.
    monkeypatch.setattr(usage, "_known_ids", lambda *_args, **_kwargs: set())

    assert catalog.record_usage([use("u-1"), use("u-2")]) == 1
    catalog.record_install(InstallEvent(ref="skill/a@1.0.0", user="ada", at=AT, event_id="i-1"))

    assert [row.event_id for row in usage_rows(session)] == ["u-1", "u-2"]
    assert [row.event_id for row in install_rows(session)] == ["i-1"]
