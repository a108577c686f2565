"""A published version's life in the store: re-certification, deprecation, retirement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from agent_registry.assets.refs import AssetKind, AssetRef, InvalidRefError
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.registry.errors import RegistryError, StageError
from agent_registry.registry.tables import AssetVersion
from tests.registry.factories import publish, submit

REF = AssetRef.parse("skill/pdf-report@1.0.0")
NEXT = AssetRef.parse("skill/pdf-report@2.0.0")
DUE = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2027, 9, 1, 12, 0, tzinfo=UTC)
SUNSET = datetime(2027, 1, 1, tzinfo=UTC)


def _published(session: Session, ref: AssetRef = REF) -> AssetVersion:
    submit(session, ref)
    version = publish(session, ref)
    session.commit()
    return version


def _actions(session: Session, ref: AssetRef = REF) -> list[str]:
    return [event.action for event in store.audit_for(session, ref=ref)]


def _deprecate(
    session: Session,
    ref: AssetRef = REF,
    *,
    key: str = "deprecate",
    replacement: str | None = str(NEXT),
) -> AssetVersion:
    version = store.deprecate_version(
        session,
        ref=ref,
        reason="superseded by 2.0.0",
        by="alice@example.com",
        replacement=replacement,
        sunset_at=SUNSET,
        event_key=f"{ref.workflow_id}/{key}",
    )
    session.commit()
    return version


def _retire(session: Session, ref: AssetRef = REF, *, key: str = "retire") -> AssetVersion:
    version = store.retire_version(session, ref=ref, event_key=f"{ref.workflow_id}/{key}")
    session.commit()
    return version


def _versions(rows: Sequence[tuple[object, AssetVersion]]) -> list[str]:
    return [version.version for _, version in rows]


# --- re-certification -----------------------------------------------------------------


def test_schedule_sets_the_due_date_only_and_once(session: Session) -> None:
    _published(session)
    first = store.schedule_recertification(session, ref=REF, recertify_by=DUE, event_key="s1")
    session.commit()
    again = store.schedule_recertification(session, ref=REF, recertify_by=LATER, event_key="s1")
    session.commit()

    assert again.recertify_by == first.recertify_by == DUE
    assert again.recertify_by is not None and again.recertify_by.tzinfo is not None
    assert again.stage == Stage.PUBLISHED
    assert again.recertified_at is None
    assert _actions(session) == ["submitted", "published", "recertification-scheduled"]
    event = store.audit_for(session, ref=REF)[-1]
    assert event.actor == store.SYSTEM_ACTOR
    assert event.detail == {"recertify_by": DUE.isoformat()}


def test_schedule_refuses_a_version_never_published(session: Session) -> None:
    submit(session, REF)
    session.commit()
    with pytest.raises(StageError, match="Submitted"):
        store.schedule_recertification(session, ref=REF, recertify_by=DUE, event_key="s1")


def test_naive_due_dates_are_refused_by_name(session: Session) -> None:
    _published(session)
    with pytest.raises(ValueError, match="recertify_by"):
        store.schedule_recertification(
            session, ref=REF, recertify_by=DUE.replace(tzinfo=None), event_key="s1"
        )


def test_recertification_publishes_again_until_the_next_due_date(session: Session) -> None:
    published = _published(session)
    store.set_stage(session, ref=REF, stage=Stage.RECERTIFYING, actor="registry", event_key="due")
    session.commit()

    version = store.record_recertification(
        session,
        ref=REF,
        recertify_by=LATER,
        actor="alice@example.com",
        event_key="cycle-1",
        policy_version="2027-01-01",
    )
    session.commit()

    assert version.stage == Stage.PUBLISHED
    assert version.recertify_by == LATER
    assert version.recertified_at is not None and version.recertified_at.tzinfo is not None
    assert version.policy_version == "2027-01-01"
    assert version.published_at == published.published_at
    event = store.audit_for(session, ref=REF)[-1]
    assert (event.action, event.actor) == ("recertified", "alice@example.com")
    assert event.detail == {"recertify_by": LATER.isoformat(), "policy_version": "2027-01-01"}


def test_recertification_retried_with_its_key_changes_nothing(session: Session) -> None:
    _published(session)
    first = store.record_recertification(
        session, ref=REF, recertify_by=DUE, actor="a", event_key="cycle-1", policy_version=None
    )
    session.commit()
    recertified_at = first.recertified_at
    again = store.record_recertification(
        session, ref=REF, recertify_by=LATER, actor="b", event_key="cycle-1", policy_version="x"
    )
    session.commit()

    assert again.recertify_by == DUE
    assert again.recertified_at == recertified_at
    assert again.policy_version is None
    assert _actions(session).count("recertified") == 1


def test_a_withdrawn_version_is_not_recertified(session: Session) -> None:
    _published(session)
    _deprecate(session)
    with pytest.raises(StageError, match="Deprecated"):
        store.record_recertification(
            session, ref=REF, recertify_by=DUE, actor="a", event_key="late", policy_version=None
        )


# --- deprecation ----------------------------------------------------------------------


def test_deprecation_records_reason_replacement_and_sunset(session: Session) -> None:
    _published(session)
    version = _deprecate(session)

    assert version.stage == Stage.DEPRECATED
    assert version.deprecated_by == "alice@example.com"
    assert version.deprecation_reason == "superseded by 2.0.0"
    assert version.replacement == str(NEXT)
    assert version.sunset_at == SUNSET
    assert version.deprecated_at is not None and version.deprecated_at.tzinfo is not None
    event = store.audit_for(session, ref=REF)[-1]
    assert (event.action, event.actor) == ("deprecated", "alice@example.com")
    assert event.detail == {
        "reason": "superseded by 2.0.0",
        "replacement": str(NEXT),
        "sunset_at": SUNSET.isoformat(),
    }


def test_deprecation_retried_with_its_key_writes_one_event(session: Session) -> None:
    _published(session)
    _deprecate(session)
    again = _deprecate(session, replacement=None)

    assert again.replacement == str(NEXT)
    assert _actions(session).count("deprecated") == 1


def test_deprecation_needs_no_replacement(session: Session) -> None:
    _published(session)
    assert _deprecate(session, replacement=None).replacement is None


def test_deprecation_refuses_a_malformed_or_circular_replacement(session: Session) -> None:
    _published(session)
    with pytest.raises(InvalidRefError):
        _deprecate(session, replacement="skill/pdf-report@latest")
    with pytest.raises(RegistryError, match="its own replacement"):
        _deprecate(session, replacement=str(REF))
    assert store.get_version(session, ref=REF).stage == Stage.PUBLISHED


def test_deprecation_refuses_a_version_never_published(session: Session) -> None:
    submit(session, REF)
    session.commit()
    with pytest.raises(StageError, match="only a published version"):
        _deprecate(session)


def test_deprecation_refuses_a_naive_sunset(session: Session) -> None:
    _published(session)
    with pytest.raises(ValueError, match="sunset_at"):
        store.deprecate_version(
            session,
            ref=REF,
            reason="old",
            by="alice",
            replacement=None,
            sunset_at=SUNSET.replace(tzinfo=None),
            event_key="d",
        )


def test_an_event_key_of_another_version_is_refused(session: Session) -> None:
    _published(session)
    _published(session, NEXT)
    store.schedule_recertification(session, ref=REF, recertify_by=DUE, event_key="shared")
    session.commit()
    with pytest.raises(RegistryError, match="already used"):
        store.schedule_recertification(session, ref=NEXT, recertify_by=DUE, event_key="shared")


# --- retirement -----------------------------------------------------------------------


def test_retirement_keeps_the_row_and_its_story(session: Session) -> None:
    _published(session)
    _deprecate(session)
    version = _retire(session)

    assert version.stage == Stage.RETIRED
    assert version.retired_at is not None and version.retired_at.tzinfo is not None
    kept = store.get_version(session, ref=REF)
    assert kept.deprecation_reason == "superseded by 2.0.0"
    assert kept.replacement == str(NEXT)
    assert _actions(session) == ["submitted", "published", "deprecated", "retired"]
    assert store.audit_for(session, ref=REF)[-1].detail == {
        "reason": "superseded by 2.0.0",
        "replacement": str(NEXT),
    }


def test_retiring_again_writes_no_second_event(session: Session) -> None:
    _published(session)
    _deprecate(session)
    first = _retire(session)
    retired_at = first.retired_at
    again = _retire(session, key="retire-again")
    _retire(session)

    assert again.retired_at == retired_at
    assert _actions(session).count("retired") == 1


def test_only_a_deprecated_version_retires(session: Session) -> None:
    _published(session)
    with pytest.raises(StageError, match="only a deprecated version"):
        _retire(session)


def test_a_retired_version_is_not_deprecated_again(session: Session) -> None:
    _published(session)
    _deprecate(session)
    _retire(session)
    with pytest.raises(StageError, match="Retired"):
        _deprecate(session, key="again")


# --- reads ----------------------------------------------------------------------------


def test_list_versions_hides_retired_unless_asked(session: Session) -> None:
    _published(session)
    _published(session, NEXT)
    third = AssetRef.parse("skill/pdf-report@3.0.0")
    _published(session, third)
    _deprecate(session)
    _retire(session)
    _deprecate(session, NEXT, replacement=str(third))

    assert _versions(store.list_versions(session)) == ["3.0.0", "2.0.0"]
    assert _versions(store.list_versions(session, stage=Stage.RETIRED)) == ["1.0.0"]
    assert _versions(store.list_versions(session, stage=Stage.DEPRECATED)) == ["2.0.0"]
    assert _versions(store.list_versions(session, kind=AssetKind.SKILL)) == ["3.0.0", "2.0.0"]
    assert store.get_version(session, ref=REF).stage == Stage.RETIRED


def test_latest_published_skips_deprecated_and_retired_versions(session: Session) -> None:
    _published(session)
    _published(session, NEXT)
    _deprecate(session, NEXT, replacement=None)

    latest = store.latest_published(session, kind=AssetKind.SKILL, name="pdf-report")
    assert latest is not None and latest.version == "1.0.0"

    _deprecate(session, replacement=None)
    _retire(session)
    assert store.latest_published(session, kind=AssetKind.SKILL, name="pdf-report") is None


def test_latest_published_counts_a_version_being_recertified(session: Session) -> None:
    _published(session)
    store.set_stage(session, ref=REF, stage=Stage.RECERTIFYING, actor="registry", event_key="due")
    session.commit()

    latest = store.latest_published(session, kind=AssetKind.SKILL, name="pdf-report")
    assert latest is not None and latest.version == "1.0.0"


def test_predecessors_are_the_live_versions_below_in_semver_order(session: Session) -> None:
    for version in ("0.9.0", "1.0.0-rc.1", "1.0.0", "1.10.0", "2.0.0-rc.1", "2.1.0", "0.5.0"):
        _published(session, AssetRef.parse(f"skill/pdf-report@{version}"))
    submit(session, "skill/pdf-report@1.11.0")  # in review: never published
    _published(session, AssetRef.parse("skill/other@1.0.0"))
    _deprecate(session, AssetRef.parse("skill/pdf-report@0.5.0"), replacement=None)
    store.set_stage(
        session,
        ref=AssetRef.parse("skill/pdf-report@1.10.0"),
        stage=Stage.RECERTIFYING,
        actor="registry",
        event_key="due",
    )
    session.commit()

    older = store.published_predecessors(
        session, kind=AssetKind.SKILL, name="pdf-report", version="2.0.0"
    )

    assert [v.version for v in older] == ["0.9.0", "1.0.0-rc.1", "1.0.0", "1.10.0", "2.0.0-rc.1"]


def test_a_prerelease_supersedes_only_what_sorts_below_it(session: Session) -> None:
    for version in ("1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0"):
        _published(session, AssetRef.parse(f"skill/pdf-report@{version}"))

    older = store.published_predecessors(
        session, kind=AssetKind.SKILL, name="pdf-report", version="1.0.0-alpha.beta"
    )
    assert [v.version for v in older] == ["1.0.0-alpha", "1.0.0-alpha.1"]
    assert (
        store.published_predecessors(
            session, kind=AssetKind.SKILL, name="pdf-report", version="1.0.0+build.7"
        )[-1].version
        == "1.0.0-beta"
    )


def test_withdrawn_versions_are_the_deprecated_and_retired_highest_first(
    session: Session,
) -> None:
    for ref in (REF, NEXT, AssetRef.parse("skill/pdf-report@3.0.0")):
        _published(session, ref)
    _deprecate(session)
    _retire(session)
    _deprecate(session, NEXT, replacement="skill/pdf-report@3.0.0")

    withdrawn = store.withdrawn_versions(session, kind=AssetKind.SKILL, name="pdf-report")
    assert [(v.version, v.stage) for v in withdrawn] == [
        ("2.0.0", Stage.DEPRECATED),
        ("1.0.0", Stage.RETIRED),
    ]
