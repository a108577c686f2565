"""Row lookups the store's modules share: a version by ref (plain or locked), an asset.

The lock matters to every write that checks before it writes: ``SELECT … FOR UPDATE`` on
PostgreSQL (SQLite serialises writers anyway) keeps another worker's write from landing
between the check and the write.
"""

from __future__ import annotations

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.registry.errors import NotFoundError, RegistryError
from agent_registry.registry.tables import Asset, AssetVersion


def version_query(ref: AssetRef) -> SelectOfScalar[AssetVersion]:
    """The query for the version row of ``ref`` (joined to its asset for kind and name)."""
    return (
        select(AssetVersion)
        .join(Asset, col(AssetVersion.asset_id) == col(Asset.id))
        .where(
            Asset.kind == ref.kind.value,
            Asset.name == ref.name,
            AssetVersion.version == ref.version,
        )
    )


def locked_version(session: Session, *, ref: AssetRef) -> AssetVersion | None:
    """The version row, locked for this transaction and re-read from the database.

    ``populate_existing`` matters: a row loaded earlier in the session may predate
    another worker's commit, and the lock is only useful with the committed values.
    """
    query = (
        version_query(ref)
        .with_for_update(of=AssetVersion)
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first()


def find_asset(session: Session, *, kind: AssetKind, name: str) -> Asset | None:
    """The asset row of ``kind/name``, or None when the name is not claimed yet."""
    return session.exec(select(Asset).where(Asset.kind == kind.value, Asset.name == name)).first()


def require_version(version: AssetVersion | None, ref: AssetRef) -> AssetVersion:
    """The version row found for ``ref``.

    Raises:
        NotFoundError: If none was found.
    """
    if version is None:
        raise NotFoundError(f"{ref} is not in the registry")
    return version


def primary_key(value: int | None) -> int:
    """A row's id, which exists once the row is flushed.

    Raises:
        RegistryError: If the row has no id yet.
    """
    if value is None:
        raise RegistryError("row has no id yet; it must be flushed first")
    return value
