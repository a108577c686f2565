"""Store functions: every read and write of the registry, each given a session.

Writes flush but never commit: the caller's :func:`agent_registry.registry.db.session_scope`
decides the unit of work. Every write is idempotent by a key the caller passes (an
activity's retry sends the same key again), and stays idempotent when two retries race:
a write that loses a unique-key race rolls back its SAVEPOINT and returns the row that
won. Writes to an existing version first lock its row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite serialises writers anyway), so checks such as "already published?"
and the write that follows them cannot interleave with another worker's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.evals.findings import Finding, Severity
from agent_registry.lifecycle import Decision, RiskTier, Stage
from agent_registry.registry.errors import (
    NotFoundError,
    OwnershipError,
    RegistryError,
    StageError,
    VersionConflictError,
)
from agent_registry.registry.tables import (
    Asset,
    AssetVersion,
    AuditEvent,
    Blob,
    EvalFindingRow,
    EvalRun,
    ReviewDecision,
    utcnow,
    version_sort_key,
)

T = TypeVar("T")

PUBLISHED_STAGES = frozenset({Stage.PUBLISHED, Stage.RECERTIFYING, Stage.DEPRECATED, Stage.RETIRED})
"""Stages of a version that has been published: its content is fixed for good."""

LIVE_STAGES = (Stage.PUBLISHED, Stage.RECERTIFYING)
"""Stages in which a version is in the catalog (re-certification does not take it out)."""

SYSTEM_ACTOR = "agent-registry"
"""Actor recorded for events the registry itself causes, such as an eval run."""

EVAL_EVENT_PREFIX = "eval:"
DECISION_EVENT_PREFIX = "decision:"
"""Audit event keys derived from a run key or a decision key carry these prefixes."""


# --- blobs ----------------------------------------------------------------------------


def put_blob(session: Session, *, data: bytes) -> str:
    """Store bundle bytes under their sha256, once however often they are given.

    Args:
        session: The registry session.
        data: The canonical bundle archive.

    Returns:
        The sha256 hex digest, the claim check workflows pass instead of the bytes.
    """
    content_hash = hashlib.sha256(data).hexdigest()
    if session.get(Blob, content_hash) is None:
        _write_once(
            session,
            write=lambda: _added(
                session, Blob(content_hash=content_hash, size=len(data), data=data)
            ),
            winner=lambda: session.get(Blob, content_hash),
        )
    return content_hash


def get_blob(session: Session, *, content_hash: str) -> bytes:
    """The bundle bytes stored under ``content_hash``.

    Raises:
        NotFoundError: If no bundle has that hash.
    """
    blob = session.get(Blob, content_hash)
    if blob is None:
        raise NotFoundError(f"no bundle with content hash {content_hash[:12]} in the registry")
    return blob.data


# --- submission -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Submission:
    """What one :func:`register_version` call brings, kept together for the helpers."""

    ref: AssetRef
    owner_team: str
    submitter: str
    authors: list[str]
    changelog: str
    machine_authored: bool
    content_hash: str
    manifest_json: str
    description: str
    workflow_id: str
    event_key: str


def register_version(
    session: Session,
    *,
    ref: AssetRef,
    owner_team: str,
    submitter: str,
    authors: list[str],
    changelog: str,
    machine_authored: bool,
    content_hash: str,
    manifest: dict[str, object],
    description: str,
    workflow_id: str,
    event_key: str,
) -> AssetVersion:
    """Record a submitted version, or a revision of one still under way.

    A new ref becomes a version in stage ``Submitted`` (audit ``submitted``); the asset
    name is claimed for ``owner_team`` on first use. An existing version is revised in
    place (audit ``revised``) when the same lifecycle workflow sends new content before
    publication. Once published, or when another workflow owns it, the version only
    accepts the content it already has; that call changes nothing.

    Args:
        session: The registry session.
        ref: The version being submitted.
        owner_team: Team that owns the asset.
        submitter: Who submitted it.
        authors: Who wrote it.
        changelog: One line on what changed.
        machine_authored: Whether a machine wrote the content.
        content_hash: sha256 of the stored bundle (see :func:`put_blob`).
        manifest: The manifest as submitted; non-JSON values (YAML dates) become strings.
        description: The asset's description, for listings.
        workflow_id: The version's lifecycle workflow.
        event_key: Idempotency key of this call: a repeat returns the row unchanged.

    Returns:
        The version row.

    Raises:
        OwnershipError: If another team owns the asset name.
        VersionConflictError: If the version exists with other content and cannot change.
    """
    submission = _Submission(
        ref=ref,
        owner_team=owner_team,
        submitter=submitter,
        authors=list(authors),
        changelog=changelog,
        machine_authored=machine_authored,
        content_hash=content_hash,
        manifest_json=json.dumps(manifest, ensure_ascii=False, default=str),
        description=description,
        workflow_id=workflow_id,
        event_key=event_key,
    )
    asset = _claim_asset(session, ref=ref, owner_team=owner_team)
    version = _locked_version(session, ref=ref)
    if version is None and not _seen_event(session, event_key=event_key, ref=ref):
        created = _create_version(session, asset=asset, submission=submission)
        if created is not None:
            return created
        # A concurrent submission created the row first; carry on as if it had been there.
        version = _locked_version(session, ref=ref)
    version = _require(version, ref)
    if _seen_event(session, event_key=event_key, ref=ref):
        return version
    return _resubmit(session, version=version, submission=submission)


def _claim_asset(session: Session, *, ref: AssetRef, owner_team: str) -> Asset:
    asset = _find_asset(session, kind=ref.kind, name=ref.name)
    if asset is None:
        asset = _write_once(
            session,
            write=lambda: _added(
                session, Asset(kind=ref.kind.value, name=ref.name, owner_team=owner_team)
            ),
            winner=lambda: _find_asset(session, kind=ref.kind, name=ref.name),
        )
    if asset.owner_team != owner_team:
        raise OwnershipError(
            kind=ref.kind, name=ref.name, owner_team=asset.owner_team, requested_by=owner_team
        )
    return asset


def _create_version(
    session: Session, *, asset: Asset, submission: _Submission
) -> AssetVersion | None:
    """Insert the version and its ``submitted`` event; None if another writer beat us."""
    now = utcnow()
    version = AssetVersion(
        asset_id=_pk(asset.id),
        version=submission.ref.version,
        version_sort=version_sort_key(submission.ref.version),
        stage=Stage.SUBMITTED.value,
        content_hash=submission.content_hash,
        manifest_json=submission.manifest_json,
        description=submission.description,
        submitter=submission.submitter,
        authors=submission.authors,
        changelog=submission.changelog,
        machine_authored=submission.machine_authored,
        workflow_id=submission.workflow_id,
        submitted_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(version)
            _append_event(
                session,
                ref=submission.ref,
                version=version,
                event_key=submission.event_key,
                actor=submission.submitter,
                action="submitted",
                detail={
                    "owner_team": submission.owner_team,
                    "workflow_id": submission.workflow_id,
                    "machine_authored": submission.machine_authored,
                },
            )
            session.flush()
    except IntegrityError:
        return None
    return version


def _resubmit(session: Session, *, version: AssetVersion, submission: _Submission) -> AssetVersion:
    """Handle a new submission call for a version that exists already."""
    fixed = (
        Stage(version.stage) in PUBLISHED_STAGES or version.workflow_id != submission.workflow_id
    )
    if not fixed:
        return _revise(session, version=version, submission=submission)
    if version.content_hash == submission.content_hash:
        return version
    raise VersionConflictError(
        ref=submission.ref,
        stored_hash=version.content_hash,
        submitted_hash=submission.content_hash,
        stage=version.stage,
    )


def _revise(session: Session, *, version: AssetVersion, submission: _Submission) -> AssetVersion:
    previous_hash = version.content_hash

    def write() -> AssetVersion:
        version.content_hash = submission.content_hash
        version.manifest_json = submission.manifest_json
        version.description = submission.description
        version.changelog = submission.changelog
        version.authors = submission.authors
        version.machine_authored = submission.machine_authored
        version.updated_at = utcnow()
        _append_event(
            session,
            ref=submission.ref,
            version=version,
            event_key=submission.event_key,
            actor=submission.submitter,
            action="revised",
            detail={"previous_content_hash": previous_hash, "changelog": submission.changelog},
        )
        return version

    return _write_once(
        session, write=write, winner=lambda: _locked_version(session, ref=submission.ref)
    )


# --- lifecycle ------------------------------------------------------------------------


def set_stage(
    session: Session,
    *,
    ref: AssetRef,
    stage: Stage,
    actor: str,
    event_key: str,
    detail: dict[str, object] | None = None,
    policy_version: str | None = None,
) -> AssetVersion:
    """Move a version to ``stage`` and append ``stage:<Stage>`` to its audit log.

    The store records what the lifecycle workflow decided; it does not re-check the
    transition. One safeguard: a version is published for the first time only by
    :func:`publish_version`, which checks the content hash and records the approvers.

    Args:
        session: The registry session.
        ref: The version.
        stage: The new stage.
        actor: Who or what caused the change.
        event_key: Idempotency key: a repeat returns the row unchanged.
        detail: Extra facts for the audit log (reason, deadline, replacement, …).
        policy_version: The policy the change was decided under, when it matters.

    Returns:
        The version row.

    Raises:
        NotFoundError: If the version is not registered.
        StageError: If ``stage`` is Published and the version was never published.
    """
    version = _require(_locked_version(session, ref=ref), ref)
    if _seen_event(session, event_key=event_key, ref=ref):
        return version
    if stage is Stage.PUBLISHED and version.published_at is None:
        raise StageError(f"{ref} was never published; publish it with publish_version")

    def write() -> AssetVersion:
        version.stage = stage.value
        version.updated_at = utcnow()
        if policy_version is not None:
            version.policy_version = policy_version
        _append_event(
            session,
            ref=ref,
            version=version,
            event_key=event_key,
            actor=actor,
            action=f"stage:{stage.value}",
            detail=dict(detail or {}),
        )
        return version

    return _write_once(session, write=write, winner=lambda: _locked_version(session, ref=ref))


def publish_version(
    session: Session,
    *,
    ref: AssetRef,
    content_hash: str,
    approvers: list[str],
    event_key: str,
) -> AssetVersion:
    """Publish the reviewed content of a version, once.

    Publishing what is already published changes nothing and writes no second event, so
    a retried or doubled activity is harmless. A re-publication (for example after
    re-certification) keeps the first ``published_at``.

    Args:
        session: The registry session.
        ref: The version.
        content_hash: The hash that was reviewed; it must be the stored one.
        approvers: Who approved it.
        event_key: Idempotency key of this call.

    Returns:
        The published version row.

    Raises:
        NotFoundError: If the version is not registered.
        VersionConflictError: If the stored content is not the content that was reviewed.
    """
    version = _require(_locked_version(session, ref=ref), ref)
    if version.content_hash != content_hash:
        raise VersionConflictError(
            ref=ref,
            stored_hash=version.content_hash,
            submitted_hash=content_hash,
            stage=version.stage,
        )
    if version.stage == Stage.PUBLISHED.value or _seen_event(session, event_key=event_key, ref=ref):
        return version

    def write() -> AssetVersion:
        now = utcnow()
        version.stage = Stage.PUBLISHED.value
        version.published_at = version.published_at or now
        version.updated_at = now
        version.approvers = list(approvers)
        _append_event(
            session,
            ref=ref,
            version=version,
            event_key=event_key,
            actor=SYSTEM_ACTOR,
            action="published",
            detail={"approvers": list(approvers)},
        )
        return version

    return _write_once(session, write=write, winner=lambda: _locked_version(session, ref=ref))


# --- evals and review -----------------------------------------------------------------


def record_eval(
    session: Session,
    *,
    ref: AssetRef,
    run_key: str,
    policy_version: str,
    passed: bool,
    risk_tier: RiskTier,
    tier_reasons: list[str],
    findings: list[Finding],
) -> EvalRun:
    """Store one eval run with its findings, and the tier it gave the version.

    Also appends an ``evaluated`` audit event (key ``eval:<run_key>``), so the log shows
    which policy version each verdict was reached under.

    Args:
        session: The registry session.
        ref: The version evaluated.
        run_key: Idempotency key: a retried activity gets the first run back.
        policy_version: The policy the findings' severities come from.
        passed: Whether the version clears the eval bar.
        risk_tier: The tier derived from the findings.
        tier_reasons: Why that tier, one line each.
        findings: The findings, with their policy severities.

    Returns:
        The eval run row.

    Raises:
        NotFoundError: If the version is not registered.
    """
    version = get_version(session, ref=ref)
    existing = _eval_run_by_key(session, run_key=run_key)
    if existing is not None:
        _same_version(existing, version=version, key=run_key)
        return existing

    def write() -> EvalRun:
        run = _added(
            session,
            EvalRun(
                version_id=_pk(version.id),
                run_key=run_key,
                policy_version=policy_version,
                passed=passed,
                blocking_count=_count(findings, Severity.BLOCK),
                warning_count=_count(findings, Severity.WARN),
                risk_tier=risk_tier.value,
            ),
        )
        session.flush()  # the findings need the run's id
        session.add_all(_finding_row(finding, eval_run_id=_pk(run.id)) for finding in findings)
        version.risk_tier = risk_tier.value
        version.tier_reasons = list(tier_reasons)
        version.policy_version = policy_version
        version.updated_at = utcnow()
        _append_event(
            session,
            ref=ref,
            version=version,
            event_key=EVAL_EVENT_PREFIX + run_key,
            actor=SYSTEM_ACTOR,
            action="evaluated",
            detail={
                "run_key": run_key,
                "passed": passed,
                "risk_tier": risk_tier.value,
                "blocking": run.blocking_count,
                "warnings": run.warning_count,
            },
        )
        return run

    return _write_once(
        session, write=write, winner=lambda: _eval_run_by_key(session, run_key=run_key)
    )


def _count(findings: list[Finding], severity: Severity) -> int:
    return sum(1 for finding in findings if finding.severity is severity)


def _finding_row(finding: Finding, *, eval_run_id: int) -> EvalFindingRow:
    return EvalFindingRow(
        eval_run_id=eval_run_id,
        check_id=finding.check_id,
        severity=finding.severity.value,
        file=finding.file,
        line=finding.line,
        field=finding.field,
        message=finding.message,
        fix=finding.fix,
    )


def record_decision(
    session: Session,
    *,
    ref: AssetRef,
    decision_key: str,
    reviewer: str,
    decision: Decision,
    reason: str | None,
    source: str,
) -> ReviewDecision:
    """Store a reviewer's decision and append ``decision:<decision>`` to the audit log.

    Args:
        session: The registry session.
        ref: The version reviewed.
        decision_key: Idempotency key (the update id that carried the decision); the
            audit event's key is ``decision:<decision_key>``.
        reviewer: Who decided.
        decision: What they decided.
        reason: Why, when they said.
        source: Where it came from, e.g. ``cli`` or ``slack``.

    Returns:
        The decision row.

    Raises:
        NotFoundError: If the version is not registered.
    """
    version = get_version(session, ref=ref)
    existing = _decision_by_key(session, decision_key=decision_key)
    if existing is not None:
        _same_version(existing, version=version, key=decision_key)
        return existing

    def write() -> ReviewDecision:
        row = _added(
            session,
            ReviewDecision(
                version_id=_pk(version.id),
                decision_key=decision_key,
                reviewer=reviewer,
                decision=decision.value,
                reason=reason,
                source=source,
            ),
        )
        _append_event(
            session,
            ref=ref,
            version=version,
            event_key=DECISION_EVENT_PREFIX + decision_key,
            actor=reviewer,
            action=f"decision:{decision.value}",
            detail={"reason": reason, "source": source},
        )
        return row

    return _write_once(
        session,
        write=write,
        winner=lambda: _decision_by_key(session, decision_key=decision_key),
    )


# --- reads ----------------------------------------------------------------------------


def find_version(session: Session, *, ref: AssetRef) -> AssetVersion | None:
    """The version row for ``ref``, or None when it is not registered."""
    return session.exec(_version_query(ref)).first()


def get_version(session: Session, *, ref: AssetRef) -> AssetVersion:
    """The version row for ``ref``.

    Raises:
        NotFoundError: If it is not registered.
    """
    return _require(find_version(session, ref=ref), ref)


def get_asset_for(session: Session, *, version: AssetVersion) -> Asset:
    """The asset a version belongs to (kind, name, owner team).

    Raises:
        NotFoundError: If the asset row is missing, which foreign keys should prevent.
    """
    asset = session.get(Asset, version.asset_id)
    if asset is None:
        raise NotFoundError(f"version {version.version} belongs to no registered asset")
    return asset


def list_versions(
    session: Session,
    *,
    kind: AssetKind | None = None,
    team: str | None = None,
    stage: Stage | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[tuple[Asset, AssetVersion]]:
    """Versions with their assets, by kind and name, newest version first.

    Args:
        session: The registry session.
        kind: Only this kind.
        team: Only assets this team owns.
        stage: Only versions in this stage.
        limit: At most this many rows.
        offset: Skip this many rows first (paging).

    Returns:
        ``(asset, version)`` pairs ordered by kind, name, then semver descending.

    Raises:
        ValueError: If ``limit`` is below 1 or ``offset`` below 0.
    """
    if limit < 1 or offset < 0:
        raise ValueError(f"limit must be at least 1 and offset at least 0, not {limit}/{offset}")
    query = select(Asset, AssetVersion).join(
        AssetVersion, col(AssetVersion.asset_id) == col(Asset.id)
    )
    if kind is not None:
        query = query.where(Asset.kind == kind.value)
    if team is not None:
        query = query.where(Asset.owner_team == team)
    if stage is not None:
        query = query.where(AssetVersion.stage == stage.value)
    query = (
        query.order_by(
            col(Asset.kind),
            col(Asset.name),
            col(AssetVersion.version_sort).desc(),
            col(AssetVersion.id).desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    return [(asset, version) for asset, version in session.exec(query)]


def latest_published(session: Session, *, kind: AssetKind, name: str) -> AssetVersion | None:
    """The highest version (by semver) of ``kind/name`` that is in the catalog.

    Versions being re-certified count, as they stay in the catalog meanwhile;
    deprecated ones do not. Pre-releases count by semver order, so ``2.0.0-rc.1``
    beats ``1.9.0``.
    """
    query = (
        select(AssetVersion)
        .join(Asset, col(AssetVersion.asset_id) == col(Asset.id))
        .where(
            Asset.kind == kind.value,
            Asset.name == name,
            col(AssetVersion.stage).in_([stage.value for stage in LIVE_STAGES]),
        )
        .order_by(col(AssetVersion.version_sort).desc(), col(AssetVersion.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def latest_eval(
    session: Session, *, version_id: int
) -> tuple[EvalRun, list[EvalFindingRow]] | None:
    """The most recent eval run of a version with its findings, or None if never run."""
    run = session.exec(
        select(EvalRun)
        .where(EvalRun.version_id == version_id)
        .order_by(col(EvalRun.created_at).desc(), col(EvalRun.id).desc())
        .limit(1)
    ).first()
    if run is None:
        return None
    findings = session.exec(
        select(EvalFindingRow)
        .where(EvalFindingRow.eval_run_id == _pk(run.id))
        .order_by(col(EvalFindingRow.id))
    ).all()
    return run, list(findings)


def decisions_for(session: Session, *, version_id: int) -> list[ReviewDecision]:
    """A version's review decisions, oldest first."""
    return list(
        session.exec(
            select(ReviewDecision)
            .where(ReviewDecision.version_id == version_id)
            .order_by(col(ReviewDecision.decided_at), col(ReviewDecision.id))
        ).all()
    )


def audit_for(session: Session, *, ref: AssetRef) -> list[AuditEvent]:
    """A version's audit log, in the order things happened."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.kind == ref.kind.value,
                AuditEvent.name == ref.name,
                AuditEvent.version == ref.version,
            )
            .order_by(col(AuditEvent.at), col(AuditEvent.id))
        ).all()
    )


# --- helpers --------------------------------------------------------------------------


def _version_query(ref: AssetRef) -> SelectOfScalar[AssetVersion]:
    return (
        select(AssetVersion)
        .join(Asset, col(AssetVersion.asset_id) == col(Asset.id))
        .where(
            Asset.kind == ref.kind.value,
            Asset.name == ref.name,
            AssetVersion.version == ref.version,
        )
    )


def _locked_version(session: Session, *, ref: AssetRef) -> AssetVersion | None:
    """The version row, locked for this transaction and re-read from the database.

    ``populate_existing`` matters: a row loaded earlier in the session may predate
    another worker's commit, and the lock is only useful with the committed values.
    """
    query = (
        _version_query(ref)
        .with_for_update(of=AssetVersion)
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first()


def _find_asset(session: Session, *, kind: AssetKind, name: str) -> Asset | None:
    return session.exec(select(Asset).where(Asset.kind == kind.value, Asset.name == name)).first()


def _seen_event(session: Session, *, event_key: str, ref: AssetRef) -> bool:
    """Whether this call already happened: its event key is in the log for ``ref``.

    Raises:
        RegistryError: If the key was used for another version, a caller bug that would
            otherwise pass silently as a "retry".
    """
    event = session.exec(select(AuditEvent).where(AuditEvent.event_key == event_key)).first()
    if event is None:
        return False
    if (event.kind, event.name, event.version) != (ref.kind.value, ref.name, ref.version):
        raise RegistryError(
            f"event key {event_key!r} was already used for "
            f"{event.kind}/{event.name}@{event.version}, so it cannot record a change to {ref}"
        )
    return True


def _same_version(row: EvalRun | ReviewDecision, *, version: AssetVersion, key: str) -> None:
    """Refuse a run or decision key that an earlier call used for another version."""
    if row.version_id != version.id:
        raise RegistryError(
            f"key {key!r} was already used for another asset version; keys must be unique"
        )


def _eval_run_by_key(session: Session, *, run_key: str) -> EvalRun | None:
    return session.exec(select(EvalRun).where(EvalRun.run_key == run_key)).first()


def _decision_by_key(session: Session, *, decision_key: str) -> ReviewDecision | None:
    query = select(ReviewDecision).where(ReviewDecision.decision_key == decision_key)
    return session.exec(query).first()


def _append_event(
    session: Session,
    *,
    ref: AssetRef,
    version: AssetVersion,
    event_key: str,
    actor: str,
    action: str,
    detail: dict[str, object],
) -> AuditEvent:
    return _added(
        session,
        AuditEvent(
            event_key=event_key,
            actor=actor,
            action=action,
            kind=ref.kind.value,
            name=ref.name,
            version=ref.version,
            content_hash=version.content_hash,
            policy_version=version.policy_version,
            detail=detail,
        ),
    )


def _write_once(session: Session, *, write: Callable[[], T], winner: Callable[[], T | None]) -> T:
    """Run ``write`` in a SAVEPOINT; if a unique key was taken meanwhile, return the winner.

    Two retries of the same call can both find "not there yet" and both insert. The
    database lets one through; the other's flush fails on the unique constraint. Rolling
    back only the SAVEPOINT keeps the caller's transaction usable, and reading again
    then finds the row the other worker committed.

    Raises:
        IntegrityError: If the write failed and there is no winner to return (so the
            failure was not a lost race).
    """
    try:
        with session.begin_nested():
            result = write()
            session.flush()
    except IntegrityError:
        found = winner()
        if found is None:
            raise
        return found
    return result


def _added(session: Session, row: T) -> T:
    session.add(row)
    return row


def _require(version: AssetVersion | None, ref: AssetRef) -> AssetVersion:
    if version is None:
        raise NotFoundError(f"{ref} is not in the registry")
    return version


def _pk(value: int | None) -> int:
    if value is None:
        raise RegistryError("row has no id yet; it must be flushed first")
    return value
