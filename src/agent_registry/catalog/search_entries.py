"""What search ranks: the latest version of each asset, kept in memory between queries.

Finding the latest version of each asset means comparing every version of every asset,
which at a hundred thousand versions takes SQL far longer than a search may. So the
entries of each stage selection are read once, prepared for ranking
(:class:`~agent_registry.catalog.search.SearchIndex`), and reused while the registry
does not change.

Whether it changed is two cheap, indexed questions per search (:class:`Watermark`):
every new version raises the largest version id, and every other store write appends an
audit event, which raises the largest audit id. What changed is read from the same
place: the assets named by audit events and versions since the last read are read again
and their entries replaced, so a publication costs a few assets' rows, not the catalog.
Two PostgreSQL transactions can commit out of id order; counting the ids near the top
sees the late one arrive, and re-reading that stretch of ids picks it up. Anything that
bypasses the store (a hand edit of the database) is picked up by the full re-read every
:data:`FULL_READ_SECONDS`.

The entries are shared by every catalog on the same engine in the process.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, func
from sqlmodel import Session, col

from agent_registry.assets.refs import AssetKind
from agent_registry.catalog.models import SearchHit
from agent_registry.catalog.search import Document, SearchIndex, document
from agent_registry.lifecycle.stages import INSTALLABLE, Stage
from agent_registry.registry.tables import Asset, AssetVersion, AuditEvent

# Search without a stage covers what may be installed (INSTALLABLE): retired versions are history.

FULL_READ_SECONDS = 600.0
"""The longest the entries go without being read again in full."""

RECENT_IDS = 1000
"""How far below the largest id a late commit is looked for (see the module docstring)."""

MAX_CHANGED_ASSETS = 5000
"""Beyond this many changed assets, reading everything again is cheaper."""

_LIVE = frozenset({Stage.PUBLISHED.value, Stage.RECERTIFYING.value})
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Listed:
    """One version as a search hit shows it."""

    kind: AssetKind
    name: str
    version: str
    stage: str
    owner_team: str
    description: str
    risk_tier: str | None
    content_hash: str
    published_at: datetime | None
    recertify_by: datetime | None
    sunset_at: datetime | None
    replacement: str | None

    def hit(self, score: float) -> SearchHit:
        """The search hit for this version."""
        return SearchHit(
            ref=f"{self.kind.value}/{self.name}@{self.version}",
            kind=self.kind,
            name=self.name,
            version=self.version,
            stage=self.stage,
            owner_team=self.owner_team,
            description=self.description,
            risk_tier=self.risk_tier,
            content_hash=self.content_hash,
            published_at=self.published_at,
            recertify_by=self.recertify_by,
            sunset_at=self.sunset_at,
            replacement=self.replacement,
            score=score,
        )


@dataclass(frozen=True, slots=True)
class Watermark:
    """How far the registry's writes have got: the largest ids and how many lie near them.

    Attributes:
        version_max: The largest version id (0 when there is none).
        version_recent: Version ids within :data:`RECENT_IDS` of it.
        audit_max: The largest audit event id.
        audit_recent: Audit event ids within :data:`RECENT_IDS` of it.
    """

    version_max: int
    version_recent: int
    audit_max: int
    audit_recent: int

    @classmethod
    def read(cls, session: Session) -> Watermark:
        """The current watermark, in one query over the two primary keys."""
        version_max = sa.select(func.coalesce(func.max(col(AssetVersion.id)), 0))
        audit_max = sa.select(func.coalesce(func.max(col(AuditEvent.id)), 0))
        version_recent = sa.select(func.count()).where(
            col(AssetVersion.id) > version_max.scalar_subquery() - RECENT_IDS
        )
        audit_recent = sa.select(func.count()).where(
            col(AuditEvent.id) > audit_max.scalar_subquery() - RECENT_IDS
        )
        row = (
            session.connection()
            .execute(
                sa.select(
                    version_max.scalar_subquery(),
                    version_recent.scalar_subquery(),
                    audit_max.scalar_subquery(),
                    audit_recent.scalar_subquery(),
                )
            )
            .one()
        )
        return cls(*(int(value) for value in row))


@dataclass(frozen=True)
class _Entries:
    """The entries of one stage selection and the watermark they were read at."""

    mark: Watermark
    read_at: float
    docs: dict[int, Document[Listed]]
    index: SearchIndex[Listed]


class SearchEntries:
    """The search entries of one database, per stage selection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Stage | None, _Entries] = {}

    def index(self, session: Session, stage: Stage | None) -> SearchIndex[Listed]:
        """The entries for ``stage`` (None: the installable stages), by kind and name.

        Args:
            session: A session on the registry.
            stage: The stage selection.

        Returns:
            The index, read again first if the registry changed.
        """
        mark = Watermark.read(session)
        with self._lock:
            held = self._entries.get(stage)
            if held is None or time.monotonic() - held.read_at > FULL_READ_SECONDS:
                entries = _read_all(session, stage, mark)
            elif held.mark == mark:
                return held.index
            else:
                entries = _read_changes(session, stage, held, mark)
            self._entries[stage] = entries
            return entries.index


_ENTRIES: weakref.WeakKeyDictionary[Engine, SearchEntries] = weakref.WeakKeyDictionary()
_ENTRIES_LOCK = threading.Lock()


def search_entries(engine: Engine) -> SearchEntries:
    """The search entries of ``engine``'s database, shared by every catalog on it."""
    with _ENTRIES_LOCK:
        entries = _ENTRIES.get(engine)
        if entries is None:
            entries = _ENTRIES[engine] = SearchEntries()
        return entries


def _read_all(session: Session, stage: Stage | None, mark: Watermark) -> _Entries:
    read_at = time.monotonic()
    rows = session.connection().execute(_selection(stage))
    docs = {asset_id: _document(row) for asset_id, row in _latest(rows, stage).items()}
    return _Entries(mark=mark, read_at=read_at, docs=docs, index=_index(docs))


def _read_changes(
    session: Session, stage: Stage | None, held: _Entries, mark: Watermark
) -> _Entries:
    """Replace the entries of the assets written since ``held`` was read."""
    went_back = mark.audit_max < held.mark.audit_max or mark.version_max < held.mark.version_max
    changed = None if went_back else _changed_assets(session, held.mark)
    if changed is None:
        # Too much changed, or the ids went back (a restored database): read everything.
        return _read_all(session, stage, mark)
    docs = dict(held.docs)
    for asset_id in changed:
        docs.pop(asset_id, None)
    ordered = sorted(changed)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        rows = session.connection().execute(
            _selection(stage).where(col(AssetVersion.asset_id).in_(chunk))
        )
        docs.update((asset_id, _document(row)) for asset_id, row in _latest(rows, stage).items())
    return _Entries(mark=mark, read_at=held.read_at, docs=docs, index=_index(docs))


def _changed_assets(session: Session, since: Watermark) -> set[int] | None:
    """Assets with versions or audit events above ``since`` (less the late-commit margin).

    Returns:
        Their ids, or None when there are more than :data:`MAX_CHANGED_ASSETS`.
    """
    audited = (
        sa.select(col(Asset.id))
        .join(
            AuditEvent,
            sa.and_(
                col(AuditEvent.kind) == col(Asset.kind), col(AuditEvent.name) == col(Asset.name)
            ),
        )
        .where(col(AuditEvent.id) > since.audit_max - RECENT_IDS)
    )
    added = sa.select(col(AssetVersion.asset_id)).where(
        col(AssetVersion.id) > since.version_max - RECENT_IDS
    )
    query: sa.CompoundSelect[*tuple[Any, ...]] = sa.union(audited, added).limit(
        MAX_CHANGED_ASSETS + 1
    )
    rows = session.connection().execute(query)
    changed = {int(asset_id) for (asset_id,) in rows}
    return None if len(changed) > MAX_CHANGED_ASSETS else changed


def _selection(stage: Stage | None) -> sa.Select[*tuple[Any, ...]]:
    """The versions in the stage selection, highest first within each asset.

    Plain columns, not ORM rows: the manifests would cost more than everything else.
    """
    stages = [stage.value] if stage is not None else [s.value for s in INSTALLABLE]
    return (
        sa.select(
            col(AssetVersion.asset_id),
            col(Asset.kind),
            col(Asset.name),
            col(Asset.owner_team),
            col(AssetVersion.version),
            col(AssetVersion.stage),
            col(AssetVersion.description),
            col(AssetVersion.risk_tier),
            col(AssetVersion.content_hash),
            col(AssetVersion.published_at),
            col(AssetVersion.submitted_at),
            col(AssetVersion.recertify_by),
            col(AssetVersion.sunset_at),
            col(AssetVersion.replacement),
        )
        .join(Asset, col(AssetVersion.asset_id) == col(Asset.id))
        .where(col(AssetVersion.stage).in_(stages))
        .order_by(
            col(AssetVersion.asset_id),
            col(AssetVersion.version_sort).desc(),
            col(AssetVersion.id).desc(),
        )
    )


def _latest(rows: Iterable[Any], stage: Stage | None) -> dict[int, Any]:
    """The latest row of each asset, from rows ordered highest version first.

    That is each asset's first row, except that in the default selection a catalog
    version beats a higher deprecated one.
    """
    latest: dict[int, Any] = {}
    for row in rows:
        held = latest.get(row.asset_id)
        if held is None or (stage is None and held.stage not in _LIVE and row.stage in _LIVE):
            latest[row.asset_id] = row
    return latest


def _document(row: Any) -> Document[Listed]:
    return document(
        Listed(
            kind=AssetKind(row.kind),
            name=row.name,
            version=row.version,
            stage=row.stage,
            owner_team=row.owner_team,
            description=row.description,
            risk_tier=row.risk_tier,
            content_hash=row.content_hash,
            published_at=row.published_at,
            recertify_by=row.recertify_by,
            sunset_at=row.sunset_at,
            replacement=row.replacement,
        ),
        kind=row.kind,
        name=row.name,
        description=row.description,
        recency=row.published_at or row.submitted_at,
    )


def _index(docs: dict[int, Document[Listed]]) -> SearchIndex[Listed]:
    return SearchIndex(sorted(docs.values(), key=attrgetter("kind", "name")))
