"""Purging a bundle the eval bar blocked for a secret, keeping why in the audit log.

A bundle that failed its eval for a credential holds that credential; keeping its
bytes keeps the leak. It is not deleted at once: while its lifecycle waits in
``EvalFailed`` the submitter may still mark a false positive, which re-evaluates the
same bytes. Once it has waited past the revision window, the bytes go and an audit
event keeps the content hash and the checks that blocked it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.evals.findings import Severity
from agent_registry.lifecycle import Stage
from agent_registry.registry.store.idempotency import SYSTEM_ACTOR, append_event
from agent_registry.registry.tables import Asset, AssetVersion, Blob, EvalFindingRow, EvalRun

PURGE_ACTION = "bundle-purged"
_KEPT_STAGES = frozenset(
    {Stage.PUBLISHED.value, Stage.RECERTIFYING.value, Stage.DEPRECATED.value, Stage.IN_REVIEW.value}
)


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
        why = _secret_checks(session, version)
        blob = session.get(Blob, version.content_hash)
        if not why or blob is None or _still_needed(session, version):
            continue
        ref = AssetRef(kind=AssetKind(asset.kind), name=asset.name, version=version.version)
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
                "why": f"blocked for a secret ({', '.join(why)}); the bytes held it",
            },
        )
        purged.append(str(ref))
    session.flush()
    return purged


def _secret_checks(session: Session, version: AssetVersion) -> list[str]:
    """The blocking ``secrets.*`` checks of the version's latest eval run on this content."""
    run = session.exec(
        select(EvalRun)
        .where(EvalRun.version_id == version.id)
        .order_by(col(EvalRun.id).desc())
        .limit(1)
    ).first()
    if run is None or run.passed:
        return []
    checks = session.exec(
        select(EvalFindingRow.check_id)
        .where(EvalFindingRow.eval_run_id == run.id)
        .where(EvalFindingRow.severity == Severity.BLOCK.value)
        .where(col(EvalFindingRow.check_id).startswith("secrets."))
    ).all()
    return sorted(set(checks))


def _still_needed(session: Session, version: AssetVersion) -> bool:
    other = session.exec(
        select(AssetVersion.id)
        .where(AssetVersion.content_hash == version.content_hash)
        .where(col(AssetVersion.stage).in_(_KEPT_STAGES))
    ).first()
    return other is not None
