"""Seeding registry test data through the real store functions, as the workflows do.

One place for what the test packages seed: a version registered (with its bundle
stored as a blob, or a stand-in hash), moved through review, published, deprecated or
retired, rated by an eval, and the install and use events the catalog counts. Nothing
here commits: callers commit when the data must be seen from another connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel import Session

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.catalog.models import InstallEvent, UsageEvent
from agent_registry.lifecycle.stages import RiskTier, Stage
from agent_registry.registry import store
from agent_registry.vocabulary.findings import Finding, Severity

SUNSET = datetime(2027, 3, 1, tzinfo=UTC)
DESCRIPTION = "Does a thing."
SUBMITTER = "ada@example.com"
APPROVER = "grace@example.com"


def register(
    session: Session,
    ref: AssetRef | str,
    *,
    description: str = DESCRIPTION,
    team: str = "platform",
    manifest: dict[str, object] | None = None,
    archive: bytes | None = None,
    content_hash: str | None = None,
    submitter: str = SUBMITTER,
    authors: Sequence[str] = (SUBMITTER,),
    changelog: str = "first cut",
    machine_authored: bool = False,
) -> AssetRef:
    """Register a submitted version.

    Its content is ``archive`` stored as a blob, or ``content_hash``, or else a stable
    stand-in hash of the ref; the manifest defaults to the name and description.
    """
    parsed = AssetRef.parse(ref) if isinstance(ref, str) else ref
    if archive is not None:
        content_hash = store.put_blob(session, data=archive)
    store.register_version(
        session,
        ref=parsed,
        owner_team=team,
        submitter=submitter,
        authors=list(authors),
        changelog=changelog,
        machine_authored=machine_authored,
        content_hash=content_hash or hashlib.sha256(str(parsed).encode()).hexdigest(),
        manifest=manifest or {"name": parsed.name, "description": description},
        description=description,
        workflow_id=parsed.workflow_id,
        event_key=f"{parsed.workflow_id}/register",
    )
    return parsed


def move(session: Session, ref: AssetRef, stage: Stage, *, actor: str = "agent-registry") -> None:
    """Move a version to ``stage`` the way the lifecycle workflow records it."""
    store.set_stage(
        session,
        ref=ref,
        stage=stage,
        actor=actor,
        event_key=f"{ref.workflow_id}/stage/{stage.value}",
    )


def blocked(
    session: Session, ref: AssetRef, *, check_id: str, archive: bytes, message: str = "found"
) -> None:
    """Register a version whose eval failed on one blocking ``check_id`` finding.

    What the purge tests start from: a bundle the eval bar blocked (for a secret, or
    for anything else), in EvalFailed.
    """
    register(session, ref, archive=archive)
    store.record_eval(
        session,
        ref=ref,
        run_key=f"{ref}/eval",
        policy_version="1",
        passed=False,
        risk_tier=RiskTier.LOW,
        tier_reasons=[],
        findings=[Finding(check_id=check_id, severity=Severity.BLOCK, message=message)],
    )
    move(session, ref, Stage.EVAL_FAILED)


def publish(session: Session, ref: AssetRef, *, approvers: Sequence[str] = (APPROVER,)) -> None:
    """Publish a registered version's stored content."""
    store.publish_version(
        session,
        ref=ref,
        content_hash=store.get_version(session, ref=ref).content_hash,
        approvers=list(approvers),
        event_key=f"{ref.workflow_id}/publish",
    )


def review_and_publish(
    session: Session,
    ref: AssetRef,
    *,
    approvers: Sequence[str] = (APPROVER,),
    actor: str = "agent-registry",
) -> None:
    """Move a registered version to review, then publish it."""
    move(session, ref, Stage.IN_REVIEW, actor=actor)
    publish(session, ref, approvers=approvers)


def deprecate(
    session: Session,
    ref: AssetRef,
    *,
    replacement: str | None = None,
    reason: str = "superseded",
    by: str = APPROVER,
    sunset_at: datetime = SUNSET,
) -> None:
    """Deprecate a published version, as the lifecycle records it."""
    store.deprecate_version(
        session,
        ref=ref,
        reason=reason,
        by=by,
        replacement=replacement,
        sunset_at=sunset_at,
        event_key=f"{ref.workflow_id}/deprecate",
    )


def retire(
    session: Session,
    ref: AssetRef,
    *,
    replacement: str | None = None,
    reason: str = "superseded",
    by: str = APPROVER,
    sunset_at: datetime = SUNSET,
) -> None:
    """Deprecate, then retire, a published version."""
    deprecate(session, ref, replacement=replacement, reason=reason, by=by, sunset_at=sunset_at)
    store.retire_version(session, ref=ref, event_key=f"{ref.workflow_id}/retire")


def rate(
    session: Session,
    ref: AssetRef,
    tier: RiskTier,
    *,
    reasons: Sequence[str] = (),
    findings: Sequence[Finding] = (),
    policy_version: str = "1",
    run_key: str | None = None,
) -> None:
    """Record a passed eval that put the version in ``tier``."""
    store.record_eval(
        session,
        ref=ref,
        run_key=run_key or f"{ref}/eval",
        policy_version=policy_version,
        passed=True,
        risk_tier=tier,
        tier_reasons=list(reasons),
        findings=list(findings),
    )


def installed(ref: str, *, team: str, at: datetime, user: str = "ada") -> InstallEvent:
    """An install of ``ref`` by one user of ``team``, for ``record_install``."""
    return InstallEvent(ref=ref, team=team, user=user, at=at)


def used(kind: AssetKind, name: str, *, team: str, at: datetime, user: str = "ada") -> UsageEvent:
    """One use of an asset by one user of ``team``, for ``record_usage``."""
    return UsageEvent(kind=kind, name=name, team=team, user=user, at=at)
