"""Installs and uses of catalog assets: append-only counts, each event recorded once.

The install command reports every install and the usage hook every use, so that the
dashboard can show what is reused and what nobody needs. Events are history, not state:
rows are appended and never changed. A client that did not hear back (a timeout) sends
the same events again; events carrying a client-given ``event_id`` are recorded once,
and two racing copies of one event leave one row (the unique key decides, and the
loser's SAVEPOINT is rolled back).

Events name assets by kind and name (and version) as the client saw them, and are kept
even when the registry does not know the ref: a count must not be lost because a
version row is missing. When the ref resolves, the row also carries its ``version_id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import ColumnElement, func, tuple_, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.registry.store.idempotency import added, write_once
from agent_registry.registry.tables import (
    Asset,
    AssetVersion,
    InstallEventRow,
    UsageEventRow,
)

_LOOKUP_CHUNK = 500
"""Most keys one ``IN`` lookup carries, well under every driver's limit."""

_VersionKey = tuple[str, str, str]
"""kind, name, version: a ref as plain column values."""


class InstallEvent(Protocol):
    """An install as reported (the catalog's install model has this shape).

    A protocol rather than the catalog's model: the catalog reads the registry, so the
    registry names only the fields it stores.
    """

    @property
    def ref(self) -> str: ...  # noqa: D102
    @property
    def team(self) -> str | None: ...  # noqa: D102
    @property
    def user(self) -> str: ...  # noqa: D102
    @property
    def target(self) -> str: ...  # noqa: D102
    @property
    def at(self) -> datetime: ...  # noqa: D102
    @property
    def event_id(self) -> str | None: ...  # noqa: D102


class UsageEvent(Protocol):
    """A use as the usage hook reported it (the catalog's usage model has this shape)."""

    @property
    def kind(self) -> AssetKind: ...  # noqa: D102
    @property
    def name(self) -> str: ...  # noqa: D102
    @property
    def version(self) -> str | None: ...  # noqa: D102
    @property
    def tool(self) -> str | None: ...  # noqa: D102
    @property
    def team(self) -> str | None: ...  # noqa: D102
    @property
    def user(self) -> str: ...  # noqa: D102
    @property
    def session(self) -> str | None: ...  # noqa: D102
    @property
    def at(self) -> datetime: ...  # noqa: D102
    @property
    def event_id(self) -> str | None: ...  # noqa: D102


@dataclass(frozen=True)
class AssetUse:
    """How much one asset (all versions) was installed and used.

    Attributes:
        kind: The asset kind, as the events named it.
        name: The asset name.
        installs: Install events.
        uses: Usage events.
        teams: Distinct teams named by its install or usage events.
        last_used_at: The latest usage event, or None when never used.
    """

    kind: str
    name: str
    installs: int
    uses: int
    teams: int
    last_used_at: datetime | None


@dataclass(frozen=True)
class DayCount:
    """Installs and uses on one UTC day."""

    day: date
    installs: int
    uses: int


def record_install(session: Session, *, event: InstallEvent) -> bool:
    """Append one install, unless its ``event_id`` was recorded already.

    Args:
        session: The registry session.
        event: The install as the install command reported it.

    Returns:
        True if a row was added, False for a re-sent event.

    Raises:
        InvalidRefError: If ``event.ref`` is not ``kind/name@version``.
        ValueError: If ``event.at`` is naive.
    """
    ref = AssetRef.parse(event.ref)
    _require_aware(event.at)
    if event.event_id is not None and _known_ids(session, InstallEventRow, [event.event_id]):
        return False
    version_ids = _version_ids(session, [(ref.kind.value, ref.name, ref.version)])
    row = InstallEventRow(
        event_id=event.event_id,
        kind=ref.kind.value,
        name=ref.name,
        version=ref.version,
        version_id=version_ids.get((ref.kind.value, ref.name, ref.version)),
        team=event.team,
        user_name=event.user,
        target=event.target,
        at=event.at,
    )
    return _insert_once(session, row)


def record_usage(session: Session, *, events: Sequence[UsageEvent]) -> int:
    """Append uses, skipping events whose ``event_id`` was recorded already.

    An id repeated inside ``events`` counts once too. The batch is written in one
    statement; only when a concurrent copy of the batch wins a unique-key race are the
    rows written one by one, so that the events the other copy did not carry still land.

    Args:
        session: The registry session.
        events: The uses, in any order.

    Returns:
        How many rows were added.

    Raises:
        ValueError: If an event's ``at`` is naive.
    """
    for event in events:
        _require_aware(event.at)
    fresh = _unseen(session, events)
    if not fresh:
        return 0
    version_ids = _version_ids(
        session,
        [
            (event.kind.value, event.name, event.version)
            for event in fresh
            if event.version is not None
        ],
    )
    rows = [_usage_row(event, version_ids) for event in fresh]
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        rows = [_usage_row(event, version_ids) for event in fresh]
        return sum(_insert_once(session, row) for row in rows)
    return len(rows)


def asset_uses(session: Session) -> list[AssetUse]:
    """Installs, uses, distinct teams and last use of every asset anyone installed or used.

    Grouped in the database, so the cost grows with the number of assets, not events.

    Returns:
        One entry per ``kind/name`` named by any event, in no particular order.
    """
    installs = {
        (kind, name): count
        for kind, name, count in session.exec(
            select(InstallEventRow.kind, InstallEventRow.name, func.count()).group_by(
                col(InstallEventRow.kind), col(InstallEventRow.name)
            )
        )
    }
    uses = {
        (kind, name): (count, last)
        for kind, name, count, last in session.exec(
            select(
                UsageEventRow.kind,
                UsageEventRow.name,
                func.count(),
                func.max(col(UsageEventRow.at)),
            ).group_by(col(UsageEventRow.kind), col(UsageEventRow.name))
        )
    }
    teams = _team_counts(session)
    return [
        AssetUse(
            kind=kind,
            name=name,
            installs=installs.get((kind, name), 0),
            uses=uses.get((kind, name), (0, None))[0],
            teams=teams.get((kind, name), 0),
            last_used_at=uses.get((kind, name), (0, None))[1],
        )
        for kind, name in sorted(installs.keys() | uses.keys())
    ]


def daily_counts(session: Session, *, since: datetime) -> list[DayCount]:
    """Installs and uses per UTC day from ``since`` on, days without events left out.

    Args:
        session: The registry session.
        since: The first instant counted (aware).

    Returns:
        The days that had any event, oldest first.
    """
    _require_aware(since)
    counts: dict[date, list[int]] = {}
    for index, at in enumerate((col(InstallEventRow.at), col(UsageEventRow.at))):
        day = _utc_day(session, at)
        query = select(day, func.count()).where(at >= since).group_by(day).order_by(day)
        for value, count in session.exec(query):
            counts.setdefault(_as_date(value), [0, 0])[index] = count
    return [
        DayCount(day=day, installs=installs, uses=uses)
        for day, (installs, uses) in sorted(counts.items())
    ]


def _team_counts(session: Session) -> dict[tuple[str, str], int]:
    """Distinct teams per asset over installs and uses together (a team counts once)."""
    pairs = union(
        select(InstallEventRow.kind, InstallEventRow.name, InstallEventRow.team).where(
            col(InstallEventRow.team).is_not(None)
        ),
        select(UsageEventRow.kind, UsageEventRow.name, UsageEventRow.team).where(
            col(UsageEventRow.team).is_not(None)
        ),
    ).subquery()
    query = select(pairs.c.kind, pairs.c.name, func.count()).group_by(pairs.c.kind, pairs.c.name)
    return {(str(kind), str(name)): int(count) for kind, name, count in session.exec(query)}


def _unseen(session: Session, events: Sequence[UsageEvent]) -> list[UsageEvent]:
    """The events to record: no id, or an id neither recorded nor earlier in the batch."""
    ids = [event.event_id for event in events if event.event_id is not None]
    known = _known_ids(session, UsageEventRow, ids)
    fresh: list[UsageEvent] = []
    for event in events:
        if event.event_id is not None:
            if event.event_id in known:
                continue
            known.add(event.event_id)
        fresh.append(event)
    return fresh


def _known_ids(
    session: Session, table: type[InstallEventRow] | type[UsageEventRow], ids: Iterable[str]
) -> set[str]:
    """Which of ``ids`` the table holds already."""
    wanted = sorted(set(ids))
    known: set[str] = set()
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        query = select(table.event_id).where(col(table.event_id).in_(chunk))
        known.update(value for value in session.exec(query) if value is not None)
    return known


def _version_ids(session: Session, keys: Iterable[_VersionKey]) -> dict[_VersionKey, int]:
    """The version row ids of the refs that resolve; unknown refs are left out."""
    wanted = sorted(set(keys))
    ref = tuple_(col(Asset.kind), col(Asset.name), col(AssetVersion.version))
    found: dict[_VersionKey, int] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        query = (
            select(Asset.kind, Asset.name, AssetVersion.version, AssetVersion.id)
            .join(AssetVersion, col(AssetVersion.asset_id) == col(Asset.id))
            .where(ref.in_(chunk))
        )
        for kind, name, version, version_id in session.exec(query):
            if version_id is not None:
                found[(kind, name, version)] = version_id
    return found


def _usage_row(event: UsageEvent, version_ids: dict[_VersionKey, int]) -> UsageEventRow:
    version_id = None
    if event.version is not None:
        version_id = version_ids.get((event.kind.value, event.name, event.version))
    return UsageEventRow(
        event_id=event.event_id,
        kind=event.kind.value,
        name=event.name,
        version=event.version,
        version_id=version_id,
        tool=event.tool,
        team=event.team,
        user_name=event.user,
        session=event.session,
        at=event.at,
    )


def _insert_once(session: Session, row: InstallEventRow | UsageEventRow) -> bool:
    """Insert one event row; False when a concurrent copy of it got there first."""
    table = type(row)
    event_id = row.event_id
    if event_id is None:
        session.add(row)
        session.flush()
        return True
    stored = write_once(
        session,
        write=lambda: added(session, row),
        winner=lambda: session.exec(select(table).where(table.event_id == event_id)).first(),
    )
    return stored is row


def _utc_day(session: Session, column: Mapped[datetime]) -> ColumnElement[object]:
    """The UTC calendar day of a timestamp column, computed by the database.

    SQLite stores the timestamps as UTC text (see ``UtcDateTime``), whose first ten
    characters are the day; PostgreSQL keeps ``timestamptz`` and would take the day in
    the session's time zone unless told to use UTC.
    """
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _as_date(value: object) -> date:
    """A day as the database returned it: a ``date`` (PostgreSQL) or its ISO text (SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError(f"event time {value.isoformat()} is naive; send it with a UTC offset")
