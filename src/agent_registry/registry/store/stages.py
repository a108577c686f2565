"""Stage changes of a version, and its publication (the one change that checks content)."""

from __future__ import annotations

from sqlmodel import Session

from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry.errors import StageError, VersionConflictError
from agent_registry.registry.store.idempotency import (
    SYSTEM_ACTOR,
    append_event,
    seen_event,
    write_once,
)
from agent_registry.registry.store.rows import locked_version, require_version
from agent_registry.registry.tables import AssetVersion, utcnow


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
    version = require_version(locked_version(session, ref=ref), ref)
    if seen_event(session, event_key=event_key, ref=ref):
        return version
    if stage is Stage.PUBLISHED and version.published_at is None:
        raise StageError(f"{ref} was never published; publish it with publish_version")

    def write() -> AssetVersion:
        version.stage = stage.value
        version.updated_at = utcnow()
        if policy_version is not None:
            version.policy_version = policy_version
        append_event(
            session,
            ref=ref,
            version=version,
            event_key=event_key,
            actor=actor,
            action=f"stage:{stage.value}",
            detail=dict(detail or {}),
        )
        return version

    return write_once(session, write=write, winner=lambda: locked_version(session, ref=ref))


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
    version = require_version(locked_version(session, ref=ref), ref)
    if version.content_hash != content_hash:
        raise VersionConflictError(
            ref=ref,
            stored_hash=version.content_hash,
            submitted_hash=content_hash,
            stage=version.stage,
        )
    if version.stage == Stage.PUBLISHED.value or seen_event(session, event_key=event_key, ref=ref):
        return version

    def write() -> AssetVersion:
        now = utcnow()
        version.stage = Stage.PUBLISHED.value
        version.published_at = version.published_at or now
        version.updated_at = now
        version.approvers = list(approvers)
        append_event(
            session,
            ref=ref,
            version=version,
            event_key=event_key,
            actor=SYSTEM_ACTOR,
            action="published",
            detail={"approvers": list(approvers)},
        )
        return version

    return write_once(session, write=write, winner=lambda: locked_version(session, ref=ref))
