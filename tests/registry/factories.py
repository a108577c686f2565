"""Builders for registry test data."""

from __future__ import annotations

import hashlib

from sqlmodel import Session

from agent_registry.assets.refs import AssetRef
from agent_registry.registry import store
from agent_registry.registry.tables import AssetVersion


def content(label: str) -> str:
    """A stable sha256 hex for a label, standing in for a bundle's hash."""
    return hashlib.sha256(label.encode()).hexdigest()


def submit(
    session: Session,
    ref: AssetRef | str,
    *,
    team: str = "platform",
    content_hash: str | None = None,
    workflow_id: str | None = None,
    event_key: str | None = None,
    changelog: str = "first cut",
) -> AssetVersion:
    """Register a version with plausible metadata; keys default to the ref's own."""
    ref = AssetRef.parse(ref) if isinstance(ref, str) else ref
    digest = content_hash or content(str(ref))
    return store.register_version(
        session,
        ref=ref,
        owner_team=team,
        submitter="ada@example.com",
        authors=["ada@example.com"],
        changelog=changelog,
        machine_authored=False,
        content_hash=digest,
        manifest={"name": ref.name, "description": "Does a thing."},
        description="Does a thing.",
        workflow_id=workflow_id or ref.workflow_id,
        event_key=event_key or f"{ref.workflow_id}/register/{digest[:8]}",
    )


def publish(session: Session, ref: AssetRef, *, content_hash: str | None = None) -> AssetVersion:
    """Publish a registered version the way the workflow does."""
    version = store.get_version(session, ref=ref)
    return store.publish_version(
        session,
        ref=ref,
        content_hash=content_hash or version.content_hash,
        approvers=["grace@example.com"],
        event_key=f"{ref.workflow_id}/publish",
    )
