"""Reviewers' decisions on a version, each recorded once with its audit event."""

from __future__ import annotations

from sqlmodel import Session, select

from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.stages import Decision
from agent_registry.registry.store.idempotency import (
    added,
    append_event,
    require_same_version,
    write_once,
)
from agent_registry.registry.store.reads import get_version
from agent_registry.registry.store.rows import primary_key
from agent_registry.registry.tables import ReviewDecision

DECISION_EVENT_PREFIX = "decision:"
"""Audit event keys derived from a decision key carry this prefix."""


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
        require_same_version(existing, version=version, key=decision_key)
        return existing

    def write() -> ReviewDecision:
        row = added(
            session,
            ReviewDecision(
                version_id=primary_key(version.id),
                decision_key=decision_key,
                reviewer=reviewer,
                decision=decision.value,
                reason=reason,
                source=source,
            ),
        )
        append_event(
            session,
            ref=ref,
            version=version,
            event_key=DECISION_EVENT_PREFIX + decision_key,
            actor=reviewer,
            action=f"decision:{decision.value}",
            detail={"reason": reason, "source": source},
        )
        return row

    return write_once(
        session,
        write=write,
        winner=lambda: _decision_by_key(session, decision_key=decision_key),
    )


def _decision_by_key(session: Session, *, decision_key: str) -> ReviewDecision | None:
    query = select(ReviewDecision).where(ReviewDecision.decision_key == decision_key)
    return session.exec(query).first()
