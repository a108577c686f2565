"""Eval runs: one row per run with its findings, and the risk tier it gave the version."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.stages import RiskTier
from agent_registry.mcp_probe.fingerprint import ToolFingerprint
from agent_registry.registry.store.idempotency import (
    SYSTEM_ACTOR,
    added,
    append_event,
    require_same_version,
    write_once,
)
from agent_registry.registry.store.reads import get_version, latest_published
from agent_registry.registry.store.rows import primary_key
from agent_registry.registry.tables import EvalFindingRow, EvalRun, ToolFingerprintRow, utcnow
from agent_registry.vocabulary.behaviour_figures import BehaviourRecord
from agent_registry.vocabulary.findings import Finding, Severity

EVAL_EVENT_PREFIX = "eval:"
"""Audit event keys derived from a run key carry this prefix."""


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
    content_hash: str | None = None,
    fingerprints: Sequence[ToolFingerprint] = (),
    probe_stderr: str | None = None,
    behaviour_json: str | None = None,
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
        content_hash: The bundle evaluated.
        fingerprints: The MCP tools the live probe listed, when it ran to the end.
        probe_stderr: The probed server's stderr, masked and capped, for reviewers only.
        behaviour_json: The behavioural eval's figures (a ``BehaviourRecord``), if it ran.

    Returns:
        The eval run row.

    Raises:
        NotFoundError: If the version is not registered.
    """
    version = get_version(session, ref=ref)
    existing = _eval_run_by_key(session, run_key=run_key)
    if existing is not None:
        require_same_version(existing, version=version, key=run_key)
        return existing

    def write() -> EvalRun:
        run = added(
            session,
            EvalRun(
                version_id=primary_key(version.id),
                run_key=run_key,
                policy_version=policy_version,
                passed=passed,
                blocking_count=_count(findings, Severity.BLOCK),
                warning_count=_count(findings, Severity.WARN),
                risk_tier=risk_tier.value,
                content_hash=content_hash,
                probe_stderr=probe_stderr,
                behaviour_json=behaviour_json,
            ),
        )
        session.flush()  # the findings need the run's id
        session.add_all(
            _finding_row(finding, eval_run_id=primary_key(run.id)) for finding in findings
        )
        session.add_all(
            ToolFingerprintRow(
                eval_run_id=primary_key(run.id),
                tool_name=fingerprint.name,
                digest=fingerprint.digest,
                description_digest=fingerprint.description_digest,
                schema_digest=fingerprint.schema_digest,
            )
            for fingerprint in fingerprints
        )
        version.risk_tier = risk_tier.value
        version.tier_reasons = list(tier_reasons)
        version.policy_version = policy_version
        version.updated_at = utcnow()
        append_event(
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

    return write_once(
        session, write=write, winner=lambda: _eval_run_by_key(session, run_key=run_key)
    )


def probe_stderr_for_reviewers(session: Session, *, run_key: str) -> str | None:
    """The masked stderr of the server probed in run ``run_key``, if one was probed.

    For the review request only: the submitter's views read runs through
    :class:`~agent_registry.registry.tables.EvalRunPublic`, which has no such field.
    """
    run = _eval_run_by_key(session, run_key=run_key)
    return None if run is None else run.probe_stderr


def published_behaviour(session: Session, *, ref: AssetRef) -> tuple[str, str] | None:
    """The version ``ref`` would replace and its latest recorded behaviour JSON, if any.

    The published version of the same asset (the highest in the catalog other than
    ``ref`` itself); its most recent eval run that measured behaviour, so a
    re-certification's figures count over the first evaluation's.
    """
    published = latest_published(session, kind=ref.kind, name=ref.name)
    if published is None or published.version == ref.version:
        return None
    run = session.exec(
        select(EvalRun)
        .where(EvalRun.version_id == primary_key(published.id))
        .where(col(EvalRun.behaviour_json).is_not(None))
        .order_by(col(EvalRun.created_at).desc(), col(EvalRun.id).desc())
        .limit(1)
    ).first()
    if run is None or run.behaviour_json is None:
        return None
    return published.version, run.behaviour_json


def behaviour_lines(session: Session, *, version_ids: Sequence[int]) -> dict[int, str]:
    """The figures of each version's latest eval run, in one line, where it measured any.

    For the dashboard's pending reviews: a handful of versions, read at each report.
    """
    lines: dict[int, str] = {}
    wanted = sorted(set(version_ids))
    for start in range(0, len(wanted), _ID_CHUNK):
        chunk = wanted[start : start + _ID_CHUNK]
        latest: dict[int, str | None] = {}
        rows = session.exec(
            select(EvalRun.version_id, EvalRun.behaviour_json)
            .where(col(EvalRun.version_id).in_(chunk))
            .order_by(col(EvalRun.id))
        )
        for version_id, recorded in rows:
            latest[version_id] = recorded
        for version_id, recorded in latest.items():
            if recorded is not None:
                lines[version_id] = BehaviourRecord.model_validate_json(recorded).summary_line()
    return lines


_ID_CHUNK = 500
"""Version ids per ``IN`` list: well under every database's parameter limit."""


def baseline_fingerprints(
    session: Session, *, ref: AssetRef, content_hash: str
) -> list[ToolFingerprint] | None:
    """The MCP tools as first seen for this bundle: what reviewers approved.

    A server can change what its tools say and take without its bundle changing (a
    package re-published under the same version, descriptions fetched at start-up), so
    every later probe of the same bundle is compared with the first complete one.

    Args:
        session: The registry session.
        ref: The version.
        content_hash: The bundle; a revision has a new bundle and a new baseline.

    Returns:
        The fingerprints of the earliest run over this bundle that recorded any, or
        None when no run has (first evaluation, or every probe failed).
    """
    version = get_version(session, ref=ref)
    first_run = session.exec(
        select(ToolFingerprintRow.eval_run_id)
        .join(EvalRun, col(EvalRun.id) == col(ToolFingerprintRow.eval_run_id))
        .where(EvalRun.version_id == version.id, EvalRun.content_hash == content_hash)
        .order_by(col(ToolFingerprintRow.eval_run_id))
        .limit(1)
    ).first()
    if first_run is None:
        return None
    rows = session.exec(
        select(ToolFingerprintRow)
        .where(ToolFingerprintRow.eval_run_id == first_run)
        .order_by(col(ToolFingerprintRow.tool_name))
    ).all()
    return [
        ToolFingerprint(
            name=row.tool_name,
            digest=row.digest,
            description_digest=row.description_digest,
            schema_digest=row.schema_digest,
        )
        for row in rows
    ]


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


def _eval_run_by_key(session: Session, *, run_key: str) -> EvalRun | None:
    return session.exec(select(EvalRun).where(EvalRun.run_key == run_key)).first()
