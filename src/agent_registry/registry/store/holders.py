"""Who may see a version that is not public: its submitter, authors and reviewers.

A version outside the installable stages (in review, failed, rejected, retired) and its
bundle are shown only to the people who have a reason to see them; these reads give the
API what it needs to decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from agent_registry.assets.refs import AssetRef
from agent_registry.registry.tables import Asset, AssetVersion, ReviewDecision


@dataclass(frozen=True)
class Holder:
    """A version as access control sees it.

    Attributes:
        ref: ``kind/name@version``.
        stage: Its lifecycle stage.
        people: Its submitter, authors and everyone who voted on it (case-folded).
    """

    ref: str
    stage: str
    people: frozenset[str]


def holders_of_content(session: Session, *, content_hash: str) -> list[Holder]:
    """Every version whose content is ``content_hash`` (a bundle can be several's)."""
    rows = session.exec(
        select(AssetVersion, Asset)
        .join(Asset, col(Asset.id) == col(AssetVersion.asset_id))
        .where(AssetVersion.content_hash == content_hash)
    ).all()
    return [_holder(session, version, asset) for version, asset in rows]


def holder_of_version(session: Session, *, ref: AssetRef) -> Holder | None:
    """The version ``ref`` as access control sees it, or None if it is not registered."""
    row = session.exec(
        select(AssetVersion, Asset)
        .join(Asset, col(Asset.id) == col(AssetVersion.asset_id))
        .where(Asset.kind == ref.kind.value, Asset.name == ref.name)
        .where(AssetVersion.version == ref.version)
    ).first()
    return None if row is None else _holder(session, row[0], row[1])


def _holder(session: Session, version: AssetVersion, asset: Asset) -> Holder:
    voters = session.exec(
        select(ReviewDecision.reviewer).where(ReviewDecision.version_id == version.id)
    ).all()
    people = {version.submitter, *version.authors, *voters}
    return Holder(
        ref=f"{asset.kind}/{asset.name}@{version.version}",
        stage=version.stage,
        people=frozenset(person.strip().casefold() for person in people),
    )
