"""Bundle bytes, stored once under their sha256: the claim check workflows pass around."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, exists, literal, select
from sqlmodel import Session, col

from agent_registry.registry.errors import NotFoundError
from agent_registry.registry.store.idempotency import added, write_once
from agent_registry.registry.tables import AssetVersion, AuditEvent, Blob, EvalRun


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
        write_once(
            session,
            write=lambda: added(
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


def prune_unclaimed_blobs(session: Session, *, staged_before: datetime) -> int:
    """Delete bundles staged before ``staged_before`` that no lifecycle ever claimed.

    ``agentreg submit`` stages a bundle before it starts the lifecycle; a start that then
    fails (a version submitted twice at the same moment) or a client that stages and
    never starts leaves bytes nobody points at. A blob is kept while any version, eval
    run or audit event names its hash, however old.

    Returns:
        How many blobs were deleted.
    """
    claimed = (
        exists(select(literal(1)).where(col(AssetVersion.content_hash) == Blob.content_hash))
        | exists(select(literal(1)).where(col(EvalRun.content_hash) == Blob.content_hash))
        | exists(select(literal(1)).where(col(AuditEvent.content_hash) == Blob.content_hash))
    )
    result = session.execute(delete(Blob).where(col(Blob.created_at) < staged_before, ~claimed))
    return int(getattr(result, "rowcount", 0) or 0)
