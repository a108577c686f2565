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
from sqlmodel import Session, select

from agent_registry.assets.refs import AssetRef
from agent_registry.registry.errors import RegistryError
from agent_registry.registry.tables import AssetVersion, AuditEvent, EvalRun, ReviewDecision

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
    """Add the audit event that records one call, under the caller's idempotency key."""
    return added(
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
