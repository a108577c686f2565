"""Store functions: idempotent writes, immutability after publication, and the reads."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.lifecycle.stages import Decision, RiskTier, Stage
from agent_registry.registry import store
from agent_registry.registry.errors import (
    NotFoundError,
    OwnershipError,
    RegistryError,
    StageError,
    VersionConflictError,
)
from agent_registry.registry.tables import Asset, AssetVersion, Blob, EvalRun, ReviewDecision
from agent_registry.vocabulary.findings import Finding, Severity
from tests.registry.factories import content, publish, submit

REF = AssetRef.parse("skill/pdf-report@1.0.0")


def _actions(session: Session, ref: AssetRef = REF) -> list[str]:
    return [event.action for event in store.audit_for(session, ref=ref)]


def _count(session: Session, model: type[object]) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


# --- blobs ----------------------------------------------------------------------------


def test_put_blob_is_content_addressed_and_idempotent(session: Session) -> None:
    first = store.put_blob(session, data=b"bundle bytes")
    session.commit()
    second = store.put_blob(session, data=b"bundle bytes")
    session.commit()

    assert first == second == hashlib.sha256(b"bundle bytes").hexdigest()
    assert store.get_blob(session, content_hash=first) == b"bundle bytes"
    assert _count(session, Blob) == 1


def test_get_blob_names_the_missing_hash(session: Session) -> None:
    with pytest.raises(NotFoundError, match="abcdef012345"):
        store.get_blob(session, content_hash="abcdef0123456789" * 4)


# --- submission -----------------------------------------------------------------------


def test_prune_deletes_only_old_bundles_nobody_claimed(session: Session) -> None:
    claimed = store.put_blob(session, data=b"a registered version's bundle")
    submit(session, REF, content_hash=claimed)
    old_orphan = store.put_blob(session, data=b"staged, then the start failed")
    new_orphan = store.put_blob(session, data=b"staged a moment ago")
    a_week_ago = datetime.now(UTC) - timedelta(days=7)
    for blob in session.exec(select(Blob)).all():
        if blob.content_hash != new_orphan:
            blob.created_at = a_week_ago
    session.flush()

    deleted = store.prune_unclaimed_blobs(
        session, staged_before=datetime.now(UTC) - timedelta(days=1)
    )

    left = set(session.exec(select(Blob.content_hash)).all())
    assert deleted == 1
    assert left == {claimed, new_orphan} and old_orphan not in left


def test_register_creates_a_submitted_version_with_its_asset(session: Session) -> None:
    version = submit(session, REF)
    session.commit()

    assert version.stage == Stage.SUBMITTED
    assert version.manifest() == {"name": "pdf-report", "description": "Does a thing."}
    assert version.submitted_at.tzinfo is not None
    asset = store.get_asset_for(session, version=version)
    assert (asset.kind, asset.name, asset.owner_team) == ("skill", "pdf-report", "platform")
    assert _actions(session) == ["submitted"]


def test_register_retried_with_the_same_key_changes_nothing(session: Session) -> None:
    first = submit(session, REF, event_key="k1")
    session.commit()
    again = submit(session, REF, event_key="k1", content_hash=content("other"))
    session.commit()

    assert again.id == first.id
    assert again.content_hash == content(str(REF))
    assert _actions(session) == ["submitted"]


def test_register_revise_publish(session: Session) -> None:
    submit(session, REF, event_key="submit")
    store.set_stage(session, ref=REF, stage=Stage.CHANGES_REQUESTED, actor="grace", event_key="cr")
    revised = submit(
        session, REF, event_key="revise-1", content_hash=content("v2"), changelog="fix typo"
    )
    session.commit()
    assert revised.content_hash == content("v2")
    assert revised.changelog == "fix typo"

    published = publish(session, REF, content_hash=content("v2"))
    session.commit()

    assert published.stage == Stage.PUBLISHED
    assert published.approvers == ["grace@example.com"]
    assert published.published_at is not None
    assert published.published_at.tzinfo == UTC
    assert _actions(session) == ["submitted", "stage:ChangesRequested", "revised", "published"]
    revised_event = store.audit_for(session, ref=REF)[2]
    assert revised_event.content_hash == content("v2")
    assert revised_event.detail["previous_content_hash"] == content(str(REF))


def test_publish_twice_writes_one_event(session: Session) -> None:
    submit(session, REF)
    first = publish(session, REF)
    session.commit()
    published_at = first.published_at
    again = store.publish_version(
        session,
        ref=REF,
        content_hash=first.content_hash,
        approvers=["someone-else"],
        event_key="another-key",
    )
    session.commit()

    assert again.id == first.id
    assert again.published_at == published_at
    assert again.approvers == ["grace@example.com"]
    assert _actions(session).count("published") == 1


def test_publish_refuses_content_that_was_not_reviewed(session: Session) -> None:
    submit(session, REF)
    session.commit()
    with pytest.raises(VersionConflictError, match=re.escape("skill/pdf-report@1.0.0")):
        publish(session, REF, content_hash=content("sneaked in"))


def test_new_content_for_a_published_version_is_refused(session: Session) -> None:
    submit(session, REF)
    publish(session, REF)
    session.commit()

    with pytest.raises(VersionConflictError) as caught:
        submit(session, REF, content_hash=content("changed"), event_key="resubmit")

    message = str(caught.value)
    assert "skill/pdf-report@1.0.0" in message
    assert content(str(REF))[:12] in message
    assert content("changed")[:12] in message
    assert "bump the version" in message.lower()


def test_same_content_for_a_published_version_is_accepted_unchanged(session: Session) -> None:
    submit(session, REF)
    publish(session, REF)
    session.commit()

    again = submit(session, REF, event_key="resubmit-same")
    session.commit()

    assert again.stage == Stage.PUBLISHED
    assert _actions(session) == ["submitted", "published"]


def test_another_workflow_cannot_change_a_version_under_way(session: Session) -> None:
    submit(session, REF)
    session.commit()
    with pytest.raises(VersionConflictError):
        submit(
            session,
            REF,
            workflow_id="asset/skill/pdf-report/1.0.0-other",
            content_hash=content("other"),
            event_key="other",
        )


def test_another_teams_name_is_refused(session: Session) -> None:
    submit(session, REF, team="platform")
    session.commit()

    with pytest.raises(OwnershipError, match="owned by team 'platform'") as caught:
        submit(session, AssetRef.parse("skill/pdf-report@2.0.0"), team="growth")
    assert "growth" in str(caught.value)


def test_same_name_of_another_kind_is_a_different_asset(session: Session) -> None:
    submit(session, REF, team="platform")
    other = submit(session, AssetRef.parse("subagent/pdf-report@1.0.0"), team="growth")
    session.commit()
    assert store.get_asset_for(session, version=other).owner_team == "growth"


# --- stages ---------------------------------------------------------------------------


def test_set_stage_is_idempotent_by_event_key(session: Session) -> None:
    submit(session, REF)
    store.set_stage(
        session,
        ref=REF,
        stage=Stage.EVALUATING,
        actor="workflow",
        event_key="eval-start",
        detail={"attempt": 1},
        policy_version="2026-11-24",
    )
    session.commit()
    store.set_stage(
        session, ref=REF, stage=Stage.EVALUATING, actor="workflow", event_key="eval-start"
    )
    session.commit()

    version = store.get_version(session, ref=REF)
    assert version.stage == Stage.EVALUATING
    assert version.policy_version == "2026-11-24"
    events = store.audit_for(session, ref=REF)
    assert [e.action for e in events] == ["submitted", "stage:Evaluating"]
    assert events[1].detail == {"attempt": 1}
    assert events[1].policy_version == "2026-11-24"


def test_set_stage_cannot_publish_for_the_first_time(session: Session) -> None:
    submit(session, REF)
    with pytest.raises(StageError, match="publish_version"):
        store.set_stage(session, ref=REF, stage=Stage.PUBLISHED, actor="x", event_key="p")


def test_set_stage_returns_to_published_after_recertification(session: Session) -> None:
    submit(session, REF)
    publish(session, REF)
    store.set_stage(session, ref=REF, stage=Stage.RECERTIFYING, actor="timer", event_key="r1")
    store.set_stage(session, ref=REF, stage=Stage.PUBLISHED, actor="ada", event_key="r1-ok")
    session.commit()
    assert store.get_version(session, ref=REF).stage == Stage.PUBLISHED


def test_unknown_version_is_named(session: Session) -> None:
    with pytest.raises(NotFoundError, match=re.escape("skill/nope@1.0.0")):
        store.set_stage(
            session,
            ref=AssetRef.parse("skill/nope@1.0.0"),
            stage=Stage.EVALUATING,
            actor="x",
            event_key="x",
        )
    assert store.find_version(session, ref=AssetRef.parse("skill/nope@1.0.0")) is None


# --- evals and decisions --------------------------------------------------------------

FINDINGS = [
    Finding(
        check_id="secrets.aws-access-key",
        severity=Severity.BLOCK,
        message="An AWS key is in the bundle.",
        file="scripts/run.sh",
        line=3,
        fix="Remove it and rotate the key.",
    ),
    Finding(check_id="scope.tools-inherited", severity=Severity.WARN, message="No tools listed."),
    Finding(check_id="scope.scripts", severity=Severity.INFO, message="Ships scripts."),
]


def _record_eval(session: Session, run_key: str) -> EvalRun:
    return store.record_eval(
        session,
        ref=REF,
        run_key=run_key,
        policy_version="2026-11-24",
        passed=False,
        risk_tier=RiskTier.HIGH,
        tier_reasons=["ships scripts"],
        findings=FINDINGS,
    )


def test_record_eval_is_idempotent_by_run_key(session: Session) -> None:
    version = submit(session, REF)
    first = _record_eval(session, "run-1")
    session.commit()
    again = _record_eval(session, "run-1")
    session.commit()

    assert again.id == first.id
    assert _count(session, EvalRun) == 1
    assert (first.blocking_count, first.warning_count, first.passed) == (1, 1, False)
    assert version.risk_tier == RiskTier.HIGH
    assert version.tier_reasons == ["ships scripts"]
    assert version.policy_version == "2026-11-24"
    latest = store.latest_eval(session, version_id=version.id or 0)
    assert latest is not None
    run, rows = latest
    assert run.id == first.id
    assert [row.to_finding() for row in rows] == FINDINGS
    assert _actions(session) == ["submitted", "evaluated"]


def test_latest_eval_is_the_newest_run(session: Session) -> None:
    version = submit(session, REF)
    assert store.latest_eval(session, version_id=version.id or 0) is None
    _record_eval(session, "run-1")
    second = _record_eval(session, "run-2")
    session.commit()
    latest = store.latest_eval(session, version_id=version.id or 0)
    assert latest is not None
    assert latest[0].id == second.id


def _decide(session: Session, key: str, reviewer: str, decision: Decision) -> ReviewDecision:
    return store.record_decision(
        session,
        ref=REF,
        decision_key=key,
        reviewer=reviewer,
        decision=decision,
        reason="looks fine" if decision is Decision.APPROVE else "needs work",
        source="slack",
    )


def test_record_decision_is_idempotent_by_key(session: Session) -> None:
    version = submit(session, REF)
    first = _decide(session, "update-1", "grace", Decision.APPROVE)
    session.commit()
    again = _decide(session, "update-1", "grace", Decision.APPROVE)
    _decide(session, "update-2", "linus", Decision.REQUEST_CHANGES)
    session.commit()

    assert again.id == first.id
    assert _count(session, ReviewDecision) == 2
    decisions = store.decisions_for(session, version_id=version.id or 0)
    assert [(d.reviewer, d.decision) for d in decisions] == [
        ("grace", "approve"),
        ("linus", "request_changes"),
    ]
    assert _actions(session) == ["submitted", "decision:approve", "decision:request_changes"]
    assert store.audit_for(session, ref=REF)[1].actor == "grace"


# --- listings -------------------------------------------------------------------------


def _seed(session: Session) -> None:
    for text in [
        "skill/pdf-report@1.9.0",
        "skill/pdf-report@1.10.0",
        "skill/pdf-report@1.10.0-rc.1",
        "skill/pdf-report@2.0.0-beta.2",
        "skill/pdf-report@2.0.0-beta.11",
        "skill/alpha@0.1.0",
    ]:
        submit(session, text)
    submit(session, "subagent/code-reviewer@1.0.0", team="growth")
    submit(session, "mcp-server/io.github.acme/tickets@3.0.0", team="growth")
    session.commit()


def test_list_versions_orders_by_kind_name_and_semver(session: Session) -> None:
    _seed(session)
    rows = store.list_versions(session)

    assert [f"{a.kind}/{a.name}@{v.version}" for a, v in rows] == [
        "mcp-server/io.github.acme/tickets@3.0.0",
        "skill/alpha@0.1.0",
        "skill/pdf-report@2.0.0-beta.11",
        "skill/pdf-report@2.0.0-beta.2",
        "skill/pdf-report@1.10.0",
        "skill/pdf-report@1.10.0-rc.1",
        "skill/pdf-report@1.9.0",
        "subagent/code-reviewer@1.0.0",
    ]


def test_list_versions_filters_and_pages(session: Session) -> None:
    _seed(session)
    publish(session, AssetRef.parse("skill/pdf-report@1.9.0"))
    session.commit()

    def names(rows: list[tuple[Asset, AssetVersion]]) -> list[str]:
        return [f"{a.name}@{v.version}" for a, v in rows]

    assert names(store.list_versions(session, kind=AssetKind.SUBAGENT)) == ["code-reviewer@1.0.0"]
    assert names(store.list_versions(session, team="growth")) == [
        "io.github.acme/tickets@3.0.0",
        "code-reviewer@1.0.0",
    ]
    assert names(store.list_versions(session, stage=Stage.PUBLISHED)) == ["pdf-report@1.9.0"]
    assert names(
        store.list_versions(session, kind=AssetKind.SKILL, team="platform", limit=2, offset=1)
    ) == ["pdf-report@2.0.0-beta.11", "pdf-report@2.0.0-beta.2"]


def test_latest_published_takes_the_highest_live_version(session: Session) -> None:
    _seed(session)
    assert store.latest_published(session, kind=AssetKind.SKILL, name="pdf-report") is None

    for text in [
        "skill/pdf-report@1.9.0",
        "skill/pdf-report@1.10.0",
        "skill/pdf-report@1.10.0-rc.1",
    ]:
        publish(session, AssetRef.parse(text))
    session.commit()
    latest = store.latest_published(session, kind=AssetKind.SKILL, name="pdf-report")
    assert latest is not None
    assert latest.version == "1.10.0"

    store.set_stage(
        session,
        ref=AssetRef.parse("skill/pdf-report@1.10.0"),
        stage=Stage.DEPRECATED,
        actor="ada",
        event_key="deprecate-1.10.0",
    )
    session.commit()
    latest = store.latest_published(session, kind=AssetKind.SKILL, name="pdf-report")
    assert latest is not None
    assert latest.version == "1.10.0-rc.1"
    assert store.latest_published(session, kind=AssetKind.SUBAGENT, name="pdf-report") is None


def test_list_versions_refuses_a_bad_page(session: Session) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.list_versions(session, limit=0)


# --- caller mistakes ------------------------------------------------------------------


def test_an_event_key_of_another_version_is_refused(session: Session) -> None:
    other = AssetRef.parse("skill/pdf-report@2.0.0")
    submit(session, REF, event_key="shared")
    session.commit()

    with pytest.raises(RegistryError, match=re.escape("already used for skill/pdf-report@1.0.0")):
        submit(session, other, event_key="shared")
    session.rollback()
    submit(session, other, event_key="own")
    with pytest.raises(RegistryError, match="already used"):
        store.set_stage(session, ref=other, stage=Stage.EVALUATING, actor="x", event_key="shared")


def test_a_decision_key_of_another_version_is_refused(session: Session) -> None:
    other = AssetRef.parse("skill/pdf-report@2.0.0")
    submit(session, REF)
    submit(session, other)
    _decide(session, "update-1", "grace", Decision.APPROVE)
    with pytest.raises(RegistryError, match="already used for another asset version"):
        store.record_decision(
            session,
            ref=other,
            decision_key="update-1",
            reviewer="grace",
            decision=Decision.APPROVE,
            reason=None,
            source="cli",
        )
