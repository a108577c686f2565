"""Idempotent, race-safe writes: audit events record calls, SAVEPOINTs survive lost races.

Every write appends an audit event under the caller's key, so a repeated call (an
activity's retry) finds its key in the log and changes nothing. When two retries race,
the loser's insert fails on a unique key; :func:`write_once` rolls back only its
SAVEPOINT and returns the row that won.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from agent_registry.assets.refs import AssetRef
from agent_registry.registry.audit_chain import (
    GENESIS_HASH,
    HEAD_ID,
    event_digest,
    session_audit_key,
)
from agent_registry.registry.errors import RegistryError
from agent_registry.registry.tables import (
    AssetVersion,
    AuditChainHead,
    AuditEvent,
    EvalRun,
    ReviewDecision,
    utcnow,
)

T = TypeVar("T")

SYSTEM_ACTOR = "agent-registry"
"""Actor recorded for events the registry itself causes, such as an eval run."""


def seen_event(session: Session, *, event_key: str, ref: AssetRef) -> bool:
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


def require_same_version(row: EvalRun | ReviewDecision, *, version: AssetVersion, key: str) -> None:
    """Refuse a run or decision key that an earlier call used for another version."""
    if row.version_id != version.id:
        raise RegistryError(
            f"key {key!r} was already used for another asset version; keys must be unique"
        )


def append_event(
    session: Session,
    *,
    ref: AssetRef,
    version: AssetVersion,
    event_key: str,
    actor: str,
    action: str,
    detail: dict[str, object],
) -> AuditEvent:
    """Add the audit event that records one call, chained after the last one.

    The chain head is locked first (``SELECT … FOR UPDATE``; SQLite's writers are
    serialised already), so workers on several hosts append one at a time and each new
    event links to the event committed just before it: the chain never forks. Under
    that lock a key already in the log is found rather than appended twice, so a
    retried call gets back the event it wrote the first time. The event is flushed
    before returning, which gives it its id while the lock is held: id order is chain
    order.

    Raises:
        RegistryError: If ``event_key`` was already used for another version.
    """
    head = _locked_head(session)
    existing = session.exec(select(AuditEvent).where(AuditEvent.event_key == event_key)).first()
    if existing is not None:
        if (existing.kind, existing.name, existing.version) != (
            ref.kind.value,
            ref.name,
            ref.version,
        ):
            raise RegistryError(
                f"event key {event_key!r} was already used for "
                f"{existing.kind}/{existing.name}@{existing.version}, so it cannot record "
                f"a change to {ref}"
            )
        return existing
    event = AuditEvent(
        event_key=event_key,
        at=utcnow(),
        actor=actor,
        action=action,
        kind=ref.kind.value,
        name=ref.name,
        version=ref.version,
        content_hash=version.content_hash,
        policy_version=version.policy_version,
        detail=detail,
    )
    return chain_after(session, head, event)


def chain_after(session: Session, head: AuditChainHead, event: AuditEvent) -> AuditEvent:
    """Link ``event`` after ``head``, add it and advance the head to it.

    The caller holds the head's lock (:func:`_locked_head`). Every kind of event (a
    version's, a refusal) is linked here, so the chain is computed one way only. The
    event is flushed before returning, which gives it its id under the lock: id order
    is chain order.
    """
    seq = head.seq + 1
    event.seq = seq
    event.prev_hash = head.event_hash
    event.event_hash = event_digest(
        event, seq=seq, prev_hash=head.event_hash, key=session_audit_key(session)
    )
    session.add(event)
    head.seq = seq
    head.event_hash = event.event_hash
    session.flush()
    return event


def _locked_head(session: Session) -> AuditChainHead:
    """The chain head row, locked for this transaction; created if it is missing.

    Migration 0006 creates the row; it is missing only if the table was emptied (a
    test's TRUNCATE), and then it restarts from the last chained event, or the genesis.
    Two workers creating it together is a race the SAVEPOINT absorbs: the loser's
    insert fails on the primary key and it locks the winner's row.
    """
    query = (
        select(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.exec(query).first()
    if head is not None:
        return head
    last = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.seq).is_not(None))
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    try:
        with session.begin_nested():
            session.add(
                AuditChainHead(
                    id=HEAD_ID,
                    seq=0 if last is None or last.seq is None else last.seq,
                    event_hash=GENESIS_HASH
                    if last is None or last.event_hash is None
                    else last.event_hash,
                )
            )
            session.flush()
    except IntegrityError:
        pass
    head = session.exec(query).first()
    if head is None:
        raise RegistryError("the audit chain head could not be created")
    return head


def write_once(session: Session, *, write: Callable[[], T], winner: Callable[[], T | None]) -> T:
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


def added(session: Session, row: T) -> T:
    """Add ``row`` to the session and return it, so a write can be one expression."""
    session.add(row)
    return row
