"""A published version's life: re-certification, deprecation and retirement.

The lifecycle workflow decides; these functions record what it decided, so that the
catalog (``agentreg show``, ``list``, search) answers without asking Temporal. Like
:mod:`~agent_registry.registry.store.stages`, they do not re-check the workflow's rules;
they only refuse what would corrupt the record: re-certifying or deprecating a version
that was never published, bringing a deprecated or retired version back, or retiring one
nobody deprecated. Rows are never deleted: a retired version stays, with its reason and
replacement, for the audit log and for anyone who still holds its reference.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.stages import IN_CATALOG, Stage
from agent_registry.registry.errors import RegistryError, StageError
from agent_registry.registry.store.idempotency import (
    SYSTEM_ACTOR,
    append_event,
    seen_event,
    write_once,
)
from agent_registry.registry.store.rows import locked_version, require_version
from agent_registry.registry.tables import AssetVersion, utcnow

"""Stages from which a version can pass a re-certification or be deprecated."""


def schedule_recertification(
    session: Session, *, ref: AssetRef, recertify_by: datetime, event_key: str
) -> AssetVersion:
    """Record when a newly published version is first due for re-certification.

    Only the due date changes; the stage stays what publication made it. Kept apart from
    :func:`record_recertification` so the audit log tells a first schedule from a passed
    cycle.

    Args:
        session: The registry session.
        ref: The version.
        recertify_by: When the re-certification is due (aware).
        event_key: Idempotency key: a repeat returns the row unchanged.

    Returns:
        The version row.

    Raises:
        NotFoundError: If the version is not registered.
        StageError: If the version is not published (or re-certifying).
        ValueError: If ``recertify_by`` is naive.
    """
    _require_aware(recertify_by, "recertify_by")
    version = require_version(locked_version(session, ref=ref), ref)
    if seen_event(session, event_key=event_key, ref=ref):
        return version
    _require_in_catalog(version, ref=ref, doing="schedule its re-certification")

    def write() -> None:
        version.recertify_by = recertify_by
        version.updated_at = utcnow()

    return _record(
        session,
        ref=ref,
        version=version,
        write=write,
        event_key=event_key,
        actor=SYSTEM_ACTOR,
        action="recertification-scheduled",
        detail={"recertify_by": recertify_by.isoformat()},
    )


def record_recertification(
    session: Session,
    *,
    ref: AssetRef,
    recertify_by: datetime,
    actor: str,
    event_key: str,
    policy_version: str | None,
) -> AssetVersion:
    """Record a passed re-certification: the version is Published again until the next one.

    Args:
        session: The registry session.
        ref: The version.
        recertify_by: When the next re-certification is due (aware).
        actor: Who attested, or the registry when it decided alone.
        event_key: Idempotency key: a repeat returns the row unchanged.
        policy_version: The policy the evals ran under this cycle; it becomes the
            version's policy, since that is the bar it now meets.

    Returns:
        The version row.

    Raises:
        NotFoundError: If the version is not registered.
        StageError: If the version is not published or re-certifying: a deprecated or
            retired version does not come back through re-certification.
        ValueError: If ``recertify_by`` is naive.
    """
    _require_aware(recertify_by, "recertify_by")
    version = require_version(locked_version(session, ref=ref), ref)
    if seen_event(session, event_key=event_key, ref=ref):
        return version
    _require_in_catalog(version, ref=ref, doing="re-certify it")

    def write() -> None:
        now = utcnow()
        version.stage = Stage.PUBLISHED.value
        version.recertify_by = recertify_by
        version.recertified_at = now
        version.updated_at = now
        if policy_version is not None:
            version.policy_version = policy_version

    return _record(
        session,
        ref=ref,
        version=version,
        write=write,
        event_key=event_key,
        actor=actor,
        action="recertified",
        detail={"recertify_by": recertify_by.isoformat(), "policy_version": policy_version},
    )


def deprecate_version(
    session: Session,
    *,
    ref: AssetRef,
    reason: str,
    by: str,
    replacement: str | None,
    sunset_at: datetime,
    event_key: str,
) -> AssetVersion:
    """Record a deprecation: why, by whom, what replaces the version and when it retires.

    A deprecated version stays installable until its sunset so that users have time to
    move, but it no longer counts as the latest published version of its asset.

    Args:
        session: The registry session.
        ref: The version.
        reason: Why; shown to everyone who looks the version up.
        by: Who deprecated it (a person, or the registry for a lapse or supersession).
        replacement: The version to use instead, ``kind/name@version``.
        sunset_at: When the version retires (aware).
        event_key: Idempotency key: a repeat returns the row unchanged.

    Returns:
        The version row.

    Raises:
        NotFoundError: If the version is not registered.
        StageError: If the version was never published, or is retired.
        InvalidRefError: If ``replacement`` is not ``kind/name@version``.
        RegistryError: If ``replacement`` names the version itself.
        ValueError: If ``sunset_at`` is naive.
    """
    _require_aware(sunset_at, "sunset_at")
    replacement = _checked_replacement(replacement, ref=ref)
    version = require_version(locked_version(session, ref=ref), ref)
    if seen_event(session, event_key=event_key, ref=ref):
        return version
    if version.published_at is None or version.stage == Stage.RETIRED.value:
        raise StageError(f"{ref} is {version.stage}; only a published version can be deprecated")

    def write() -> None:
        now = utcnow()
        version.stage = Stage.DEPRECATED.value
        version.deprecated_at = now
        version.deprecated_by = by
        version.deprecation_reason = reason
        version.replacement = replacement
        version.sunset_at = sunset_at
        version.updated_at = now

    return _record(
        session,
        ref=ref,
        version=version,
        write=write,
        event_key=event_key,
        actor=by,
        action="deprecated",
        detail={
            "reason": reason,
            "replacement": replacement,
            "sunset_at": sunset_at.isoformat(),
        },
    )


def retire_version(session: Session, *, ref: AssetRef, event_key: str) -> AssetVersion:
    """Record that a deprecated version reached its sunset and left the catalog.

    The row stays, with its deprecation reason and replacement, so that the audit log
    reads on its own and ``agentreg show`` can say what happened. Retiring a version that
    is retired already changes nothing and writes no second event.

    Args:
        session: The registry session.
        ref: The version.
        event_key: Idempotency key: a repeat returns the row unchanged.

    Returns:
        The version row.

    Raises:
        NotFoundError: If the version is not registered.
        StageError: If the version is not deprecated: retirement ends a deprecation,
            and skipping it would leave no reason or replacement on record.
    """
    version = require_version(locked_version(session, ref=ref), ref)
    if version.stage == Stage.RETIRED.value or seen_event(session, event_key=event_key, ref=ref):
        return version
    if version.stage != Stage.DEPRECATED.value:
        raise StageError(f"{ref} is {version.stage}; only a deprecated version can be retired")

    def write() -> None:
        now = utcnow()
        version.stage = Stage.RETIRED.value
        version.retired_at = now
        version.updated_at = now

    return _record(
        session,
        ref=ref,
        version=version,
        write=write,
        event_key=event_key,
        actor=SYSTEM_ACTOR,
        action="retired",
        detail={"reason": version.deprecation_reason, "replacement": version.replacement},
    )


def _record(
    session: Session,
    *,
    ref: AssetRef,
    version: AssetVersion,
    write: Callable[[], None],
    event_key: str,
    actor: str,
    action: str,
    detail: dict[str, object],
) -> AssetVersion:
    """Apply ``write`` to the locked row and append its audit event, once per key."""

    def write_with_event() -> AssetVersion:
        write()
        append_event(
            session,
            ref=ref,
            version=version,
            event_key=event_key,
            actor=actor,
            action=action,
            detail=detail,
        )
        return version

    return write_once(
        session, write=write_with_event, winner=lambda: locked_version(session, ref=ref)
    )


def _require_in_catalog(version: AssetVersion, *, ref: AssetRef, doing: str) -> None:
    if version.published_at is None or Stage(version.stage) not in IN_CATALOG:
        raise StageError(f"{ref} is {version.stage}, so the registry cannot {doing}")


def _require_aware(value: datetime, name: str) -> None:
    # Checked up front so the caller sees which argument was wrong, rather than the
    # column type's refusal at flush time.
    if value.tzinfo is None:
        raise ValueError(f"{name} {value!r} is naive; registry timestamps must be aware")


def _checked_replacement(replacement: str | None, *, ref: AssetRef) -> str | None:
    if replacement is None:
        return None
    parsed = AssetRef.parse(replacement)
    if parsed == ref:
        raise RegistryError(f"{ref} cannot be its own replacement")
    return str(parsed)
