"""The published catalog as the reuse check reads it, and a cheap token for its changes.

The reuse check (:mod:`agent_registry.reuse`) compares a submission with every asset
in the catalog. Building its index costs about a second at ten thousand assets, so the
caller keeps the index and asks :func:`catalog_generation` (one aggregate query) whether
the catalog has changed before it reads :func:`published_catalog` again.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from agent_registry.assets.refs import AssetKind
from agent_registry.lifecycle.stages import IN_CATALOG
from agent_registry.registry.tables import Asset, AssetVersion
from agent_registry.reuse import CatalogEntry

_LIVE = [stage.value for stage in IN_CATALOG]


def published_catalog(session: Session) -> list[CatalogEntry]:
    """The latest version in the catalog of every asset, with its description and owner.

    "In the catalog" is what :func:`~agent_registry.registry.store.latest_published`
    means by it: published or being re-certified. Deprecated and retired versions are
    left out, because the reuse check must point teams at something they may adopt.

    Plain columns are read, not rows: building ten thousand ORM objects (manifests
    included) costs ten times the query. The versions and their assets come in two
    queries because a typed ``select`` takes at most four columns.

    Args:
        session: The registry session.

    Returns:
        One entry per ``kind/name``, ordered by kind and name.
    """
    live = col(AssetVersion.stage).in_(_LIVE)
    versions = session.exec(
        select(AssetVersion.asset_id, AssetVersion.version, AssetVersion.description)
        .where(live)
        .order_by(
            col(AssetVersion.asset_id),
            col(AssetVersion.version_sort).desc(),
            col(AssetVersion.id).desc(),
        )
    )
    latest: dict[int, tuple[str, str]] = {}
    for asset_id, version, description in versions:
        # Highest version first within each asset: the first row of an asset is its latest.
        latest.setdefault(asset_id, (version, description))
    assets = session.exec(
        select(Asset.id, Asset.kind, Asset.name, Asset.owner_team)
        .where(col(Asset.id).in_(select(AssetVersion.asset_id).where(live)))
        .order_by(col(Asset.kind), col(Asset.name))
    )
    return [
        CatalogEntry(
            kind=AssetKind(kind),
            name=name,
            version=latest[asset_id][0],
            description=latest[asset_id][1],
            owner_team=owner_team,
        )
        for asset_id, kind, name, owner_team in assets
        # A version that left between the two queries takes its asset out of the list.
        if asset_id is not None and asset_id in latest
    ]


def catalog_generation(session: Session) -> str:
    """A token that changes whenever the published catalog does.

    Built from the count, the sum and the largest id, and the latest ``updated_at`` of
    the versions in the catalog. Every store write that moves a version sets its
    ``updated_at``, so a publication raises the latest one; a version leaving the
    catalog lowers the count and the sum of ids, and one leaving while another arrives
    changes the sum. Descriptions and owner teams do not change once published. The
    token may also change when the catalog has not (a version re-certified): that only
    costs a rebuild.

    Args:
        session: The registry session.

    Returns:
        An opaque string; compare it for equality only.
    """
    count, id_sum, id_max, updated = session.exec(
        select(
            func.count(col(AssetVersion.id)),
            func.coalesce(func.sum(col(AssetVersion.id)), 0),
            func.coalesce(func.max(col(AssetVersion.id)), 0),
            func.max(col(AssetVersion.updated_at)),
        ).where(col(AssetVersion.stage).in_(_LIVE))
    ).one()
    stamp = "" if updated is None else updated.isoformat()
    return f"{count}:{id_sum}:{id_max}:{stamp}"
