"""Reads of the registry: versions, listings, the latest eval, decisions and the audit log."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.lifecycle.stages import IN_CATALOG, WITHDRAWN, Stage
from agent_registry.registry.errors import NotFoundError
from agent_registry.registry.store.rows import primary_key, require_version, version_query
from agent_registry.registry.tables import (
    Asset,
    AssetVersion,
    AuditEvent,
    EvalFindingRow,
    EvalRun,
    ReviewDecision,
    version_sort_key,
)


def find_version(session: Session, *, ref: AssetRef) -> AssetVersion | None:
    """The version row for ``ref``, or None when it is not registered."""
    return session.exec(version_query(ref)).first()


def get_version(session: Session, *, ref: AssetRef) -> AssetVersion:
    """The version row for ``ref``.

    Raises:
        NotFoundError: If it is not registered.
    """
    return require_version(find_version(session, ref=ref), ref)


def get_asset_for(session: Session, *, version: AssetVersion) -> Asset:
    """The asset a version belongs to (kind, name, owner team).

    Raises:
        NotFoundError: If the asset row is missing, which foreign keys should prevent.
    """
    asset = session.get(Asset, version.asset_id)
    if asset is None:
        raise NotFoundError(f"version {version.version} belongs to no registered asset")
    return asset


def list_versions(
    session: Session,
    *,
    kind: AssetKind | None = None,
    team: str | None = None,
    stage: Stage | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[tuple[Asset, AssetVersion]]:
    """Versions with their assets, by kind and name, newest version first.

    Retired versions are gone from search: they are listed only when ``stage`` asks for
    them by name. They stay in the store and the audit log, and :func:`get_version`
    still finds them, so an old reference can be explained rather than refused.

    Args:
        session: The registry session.
        kind: Only this kind.
        team: Only assets this team owns.
        stage: Only versions in this stage; ``Stage.RETIRED`` lists the retired ones.
        limit: At most this many rows.
        offset: Skip this many rows first (paging).

    Returns:
        ``(asset, version)`` pairs ordered by kind, name, then semver descending.

    Raises:
        ValueError: If ``limit`` is below 1 or ``offset`` below 0.
    """
    if limit < 1 or offset < 0:
        raise ValueError(f"limit must be at least 1 and offset at least 0, not {limit}/{offset}")
    query = select(Asset, AssetVersion).join(
        AssetVersion, col(AssetVersion.asset_id) == col(Asset.id)
    )
    if kind is not None:
        query = query.where(Asset.kind == kind.value)
    if team is not None:
        query = query.where(Asset.owner_team == team)
    if stage is not None:
        query = query.where(AssetVersion.stage == stage.value)
    else:
        query = query.where(AssetVersion.stage != Stage.RETIRED.value)
    query = (
        query.order_by(
            col(Asset.kind),
            col(Asset.name),
            col(AssetVersion.version_sort).desc(),
            col(AssetVersion.id).desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    return [(asset, version) for asset, version in session.exec(query)]


def latest_published(session: Session, *, kind: AssetKind, name: str) -> AssetVersion | None:
    """The highest version (by semver) of ``kind/name`` that is in the catalog.

    Versions being re-certified count, as they stay in the catalog meanwhile;
    deprecated and retired ones do not, even when they are the highest: whoever asks for
    "the latest" must get something they may still adopt. Pre-releases count by semver
    order, so ``2.0.0-rc.1`` beats ``1.9.0``.
    """
    query = (
        _versions_of(kind=kind, name=name, stages=IN_CATALOG)
        .order_by(col(AssetVersion.version_sort).desc(), col(AssetVersion.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def published_predecessors(
    session: Session, *, kind: AssetKind, name: str, version: str
) -> list[AssetVersion]:
    """The versions a newly published ``version`` supersedes, lowest first.

    These are the versions of the same asset still in the catalog (published or being
    re-certified) that sort below ``version`` by semver, pre-releases included: publishing
    ``2.0.0`` supersedes ``2.0.0-rc.1`` and ``1.4.0``. A version that sorts above it (a
    hotfix ``1.4.1`` published after ``2.0.0``) supersedes nothing newer than itself, and a
    version equal but for build metadata is not below it.

    Args:
        session: The registry session.
        kind: The asset kind.
        name: The asset name.
        version: The newly published version.

    Returns:
        The superseded versions, in ascending semver order.

    Raises:
        InvalidRefError: If ``version`` is not a semantic version.
    """
    query = (
        _versions_of(kind=kind, name=name, stages=IN_CATALOG)
        .where(col(AssetVersion.version_sort) < version_sort_key(version))
        .order_by(col(AssetVersion.version_sort), col(AssetVersion.id))
    )
    return list(session.exec(query).all())


def withdrawn_versions(session: Session, *, kind: AssetKind, name: str) -> list[AssetVersion]:
    """The deprecated and retired versions of ``kind/name``, highest first.

    For explaining an empty catalog entry: when an asset has no published version left,
    these say what happened to it and what replaces it.
    """
    query = _versions_of(kind=kind, name=name, stages=WITHDRAWN).order_by(
        col(AssetVersion.version_sort).desc(), col(AssetVersion.id).desc()
    )
    return list(session.exec(query).all())


def _versions_of(
    *, kind: AssetKind, name: str, stages: Iterable[Stage]
) -> SelectOfScalar[AssetVersion]:
    return (
        select(AssetVersion)
        .join(Asset, col(AssetVersion.asset_id) == col(Asset.id))
        .where(
            Asset.kind == kind.value,
            Asset.name == name,
            col(AssetVersion.stage).in_([stage.value for stage in stages]),
        )
    )


def latest_eval(
    session: Session, *, version_id: int
) -> tuple[EvalRun, list[EvalFindingRow]] | None:
    """The most recent eval run of a version with its findings, or None if never run."""
    run = session.exec(
        select(EvalRun)
        .where(EvalRun.version_id == version_id)
        .order_by(col(EvalRun.created_at).desc(), col(EvalRun.id).desc())
        .limit(1)
    ).first()
    if run is None:
        return None
    findings = session.exec(
        select(EvalFindingRow)
        .where(EvalFindingRow.eval_run_id == primary_key(run.id))
        .order_by(col(EvalFindingRow.id))
    ).all()
    return run, list(findings)


def decisions_for(session: Session, *, version_id: int) -> list[ReviewDecision]:
    """A version's review decisions, oldest first."""
    return list(
        session.exec(
            select(ReviewDecision)
            .where(ReviewDecision.version_id == version_id)
            .order_by(col(ReviewDecision.decided_at), col(ReviewDecision.id))
        ).all()
    )


def audit_for(session: Session, *, ref: AssetRef) -> list[AuditEvent]:
    """A version's audit log, in the order things happened."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.kind == ref.kind.value,
                AuditEvent.name == ref.name,
                AuditEvent.version == ref.version,
            )
            .order_by(col(AuditEvent.at), col(AuditEvent.id))
        ).all()
    )
