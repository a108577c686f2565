"""Registering submitted versions: claim the asset name, create the version, or revise it.

A version can be revised in place until it is published or another lifecycle workflow
owns it; after that it only accepts the content it already has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.stages import EVER_PUBLISHED, Stage
from agent_registry.registry.errors import OwnershipError, VersionConflictError
from agent_registry.registry.store.idempotency import added, append_event, seen_event, write_once
from agent_registry.registry.store.rows import (
    find_asset,
    locked_version,
    primary_key,
    require_version,
)
from agent_registry.registry.tables import Asset, AssetVersion, utcnow, version_sort_key


@dataclass(frozen=True)
class _Submission:
    """What one :func:`register_version` call brings, kept together for the helpers."""

    ref: AssetRef
    owner_team: str
    submitter: str
    authors: list[str]
    changelog: str
    machine_authored: bool
    content_hash: str
    manifest_json: str
    description: str
    workflow_id: str
    event_key: str


def register_version(
    session: Session,
    *,
    ref: AssetRef,
    owner_team: str,
    submitter: str,
    authors: list[str],
    changelog: str,
    machine_authored: bool,
    content_hash: str,
    manifest: dict[str, object],
    description: str,
    workflow_id: str,
    event_key: str,
) -> AssetVersion:
    """Record a submitted version, or a revision of one still under way.

    A new ref becomes a version in stage ``Submitted`` (audit ``submitted``); the asset
    name is claimed for ``owner_team`` on first use. An existing version is revised in
    place (audit ``revised``) when the same lifecycle workflow sends new content before
    publication. Once published, or when another workflow owns it, the version only
    accepts the content it already has; that call changes nothing.

    Args:
        session: The registry session.
        ref: The version being submitted.
        owner_team: Team that owns the asset.
        submitter: Who submitted it.
        authors: Who wrote it.
        changelog: One line on what changed.
        machine_authored: Whether a machine wrote the content.
        content_hash: sha256 of the stored bundle (see :func:`put_blob`).
        manifest: The manifest as submitted; non-JSON values (YAML dates) become strings.
        description: The asset's description, for listings.
        workflow_id: The version's lifecycle workflow.
        event_key: Idempotency key of this call: a repeat returns the row unchanged.

    Returns:
        The version row.

    Raises:
        OwnershipError: If another team owns the asset name.
        VersionConflictError: If the version exists with other content and cannot change.
    """
    submission = _Submission(
        ref=ref,
        owner_team=owner_team,
        submitter=submitter,
        authors=list(authors),
        changelog=changelog,
        machine_authored=machine_authored,
        content_hash=content_hash,
        manifest_json=json.dumps(manifest, ensure_ascii=False, default=str),
        description=description,
        workflow_id=workflow_id,
        event_key=event_key,
    )
    asset = _claim_asset(session, ref=ref, owner_team=owner_team)
    version = locked_version(session, ref=ref)
    if version is None and not seen_event(session, event_key=event_key, ref=ref):
        created = _create_version(session, asset=asset, submission=submission)
        if created is not None:
            return created
        # A concurrent submission created the row first; carry on as if it had been there.
        version = locked_version(session, ref=ref)
    version = require_version(version, ref)
    if seen_event(session, event_key=event_key, ref=ref):
        return version
    return _resubmit(session, version=version, submission=submission)


def _claim_asset(session: Session, *, ref: AssetRef, owner_team: str) -> Asset:
    asset = find_asset(session, kind=ref.kind, name=ref.name)
    if asset is None:
        asset = write_once(
            session,
            write=lambda: added(
                session, Asset(kind=ref.kind.value, name=ref.name, owner_team=owner_team)
            ),
            winner=lambda: find_asset(session, kind=ref.kind, name=ref.name),
        )
    if asset.owner_team != owner_team:
        raise OwnershipError(
            kind=ref.kind, name=ref.name, owner_team=asset.owner_team, requested_by=owner_team
        )
    return asset


def _create_version(
    session: Session, *, asset: Asset, submission: _Submission
) -> AssetVersion | None:
    """Insert the version and its ``submitted`` event; None if another writer beat us."""
    now = utcnow()
    version = AssetVersion(
        asset_id=primary_key(asset.id),
        version=submission.ref.version,
        version_sort=version_sort_key(submission.ref.version),
        stage=Stage.SUBMITTED.value,
        content_hash=submission.content_hash,
        manifest_json=submission.manifest_json,
        description=submission.description,
        submitter=submission.submitter,
        authors=submission.authors,
        changelog=submission.changelog,
        machine_authored=submission.machine_authored,
        workflow_id=submission.workflow_id,
        submitted_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(version)
            append_event(
                session,
                ref=submission.ref,
                version=version,
                event_key=submission.event_key,
                actor=submission.submitter,
                action="submitted",
                detail={
                    "owner_team": submission.owner_team,
                    "workflow_id": submission.workflow_id,
                    "machine_authored": submission.machine_authored,
                },
            )
            session.flush()
    except IntegrityError:
        return None
    return version


def _resubmit(session: Session, *, version: AssetVersion, submission: _Submission) -> AssetVersion:
    """Handle a new submission call for a version that exists already."""
    fixed = Stage(version.stage) in EVER_PUBLISHED or version.workflow_id != submission.workflow_id
    if not fixed:
        return _revise(session, version=version, submission=submission)
    if version.content_hash == submission.content_hash:
        return version
    raise VersionConflictError(
        ref=submission.ref,
        stored_hash=version.content_hash,
        submitted_hash=submission.content_hash,
        stage=version.stage,
    )


def _revise(session: Session, *, version: AssetVersion, submission: _Submission) -> AssetVersion:
    previous_hash = version.content_hash

    def write() -> AssetVersion:
        version.content_hash = submission.content_hash
        version.manifest_json = submission.manifest_json
        version.description = submission.description
        version.changelog = submission.changelog
        version.authors = submission.authors
        version.machine_authored = submission.machine_authored
        version.updated_at = utcnow()
        append_event(
            session,
            ref=submission.ref,
            version=version,
            event_key=submission.event_key,
            actor=submission.submitter,
            action="revised",
            detail={"previous_content_hash": previous_hash, "changelog": submission.changelog},
        )
        return version

    return write_once(
        session, write=write, winner=lambda: locked_version(session, ref=submission.ref)
    )
