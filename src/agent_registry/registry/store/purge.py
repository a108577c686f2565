"""Purging a bundle the eval bar blocked for a secret, keeping why in the audit log.

A bundle that failed its eval for a credential holds that credential; keeping its
bytes keeps the leak. It is not deleted at once: while its lifecycle waits in
``EvalFailed`` the submitter may still mark a false positive, which re-evaluates the
same bytes. Once its revision window closes without a passing revision the lifecycle
purges it (:func:`purge_blocked_bundle`); ``agentreg db purge-secrets`` does the same for
lifecycles that ended before they did. An audit event keeps the content hash, the checks
and the finding ids that blocked it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.lifecycle.stages import INSTALLABLE, UNDER_REVIEW, Stage
from agent_registry.registry.store.idempotency import SYSTEM_ACTOR, append_event
from agent_registry.registry.store.reads import find_version
from agent_registry.registry.tables import Asset, AssetVersion, Blob, EvalFindingRow, EvalRun
from agent_registry.vocabulary.findings import Severity

PURGE_ACTION = "bundle-purged"
_KEPT_STAGES = frozenset(stage.value for stage in (*UNDER_REVIEW, *INSTALLABLE))


def purge_secret_bundles(session: Session, *, failed_before: datetime) -> list[str]:
    """Delete the bundles of versions blocked for a secret and left in EvalFailed.

    A bundle another version still needs (one in review or installable) is kept.

    Args:
        session: The registry session.
        failed_before: Only versions that entered EvalFailed before this are purged.

    Returns:
        The refs whose bundles were purged.
    """
    rows = session.exec(
        select(AssetVersion, Asset)
        .join(Asset, col(Asset.id) == col(AssetVersion.asset_id))
        .where(AssetVersion.stage == Stage.EVAL_FAILED.value)
        .where(col(AssetVersion.updated_at) < failed_before)
    ).all()
    purged: list[str] = []
    for version, asset in rows:
        ref = AssetRef(kind=AssetKind(asset.kind), name=asset.name, version=version.version)
        if _purge(session, ref=ref, version=version):
            purged.append(str(ref))
    session.flush()
    return purged


def purge_blocked_bundle(session: Session, *, ref: AssetRef) -> bool:
    """Delete the bundle of ``ref`` if it ended in EvalFailed blocked for a secret.

    The lifecycle calls this when its revision window closed without a passing
    revision; safe to repeat (a purged bundle is not purged twice, and the audit event
    has one key).

    Returns:
        True when the bytes were deleted now; False when there was nothing to purge
        (already purged, not blocked for a secret, or still needed by another version).
    """
    version = find_version(session, ref=ref)
    if version is None or version.stage != Stage.EVAL_FAILED.value:
        return False
    purged = _purge(session, ref=ref, version=version)
    session.flush()
    return purged


def _purge(session: Session, *, ref: AssetRef, version: AssetVersion) -> bool:
    """Delete the version's bundle and audit why, when a ``secrets.*`` check blocked it.

    The audit event names the content hash, the checks and the finding ids, never a
    finding's message (which would quote around the secret).
    """
    findings = _secret_findings(session, version)
    blob = session.get(Blob, version.content_hash)
    if not findings or blob is None or _still_needed(session, version):
        return False
    why = sorted({check for _id, check in findings})
    session.delete(blob)
    append_event(
        session,
        ref=ref,
        version=version,
        event_key=f"{ref.workflow_id}/purge/{version.content_hash}",
        actor=SYSTEM_ACTOR,
        action=PURGE_ACTION,
        detail={
            "content_hash": version.content_hash,
            "checks": why,
            "finding_ids": sorted(finding_id for finding_id, _check in findings),
            "why": f"blocked for a secret ({', '.join(why)}); the bytes held it",
        },
    )
    return True


def _secret_findings(session: Session, version: AssetVersion) -> list[tuple[int, str]]:
    """The blocking ``secrets.*`` findings (id, check) of the version's latest eval run."""
    run = session.exec(
        select(EvalRun)
        .where(EvalRun.version_id == version.id)
        .order_by(col(EvalRun.id).desc())
        .limit(1)
    ).first()
    if run is None or run.passed:
        return []
    rows = session.exec(
        select(EvalFindingRow.id, EvalFindingRow.check_id)
        .where(EvalFindingRow.eval_run_id == run.id)
        .where(EvalFindingRow.severity == Severity.BLOCK.value)
        .where(col(EvalFindingRow.check_id).startswith("secrets."))
    ).all()
    return [(finding_id, check) for finding_id, check in rows if finding_id is not None]


def _still_needed(session: Session, version: AssetVersion) -> bool:
    other = session.exec(
        select(AssetVersion.id)
        .where(AssetVersion.content_hash == version.content_hash)
        .where(col(AssetVersion.stage).in_(_KEPT_STAGES))
    ).first()
    return other is not None
