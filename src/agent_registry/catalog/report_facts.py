"""The report's per-version facts, kept in memory and brought up to date from what changed.

Reading one light row per version (and parsing the published versions' manifests) was
the larger half of a report's time at 10,000 versions, paid again by the first page after
every registry write (``bench/notes/dashboard_scale.md``). A write changes a handful of
versions, so :class:`LiveFacts` reads everything once and then, at each refresh, only:

* the versions added since (id above the highest seen) or changed since (``updated_at``
  at most :data:`LOOKBACK` before the latest seen: every store write that moves a
  version sets it, the rule :mod:`~agent_registry.catalog.report_state` relies on too);
* the ``stage:InReview`` audit events added since (the audit log is append-only, so when
  a review began is the latest of them);
* the manifests of current published versions not seen yet.

Assets are only ever added (their owner never changes), and versions never deleted; a
refresh that finds fewer versions than it holds, or comes :data:`FULL_READ_AFTER`
after the last full read, reads everything again rather than guess. Installs and uses
are grouped in the database at each refresh (their cost grows with assets, not events).
"""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, func
from sqlmodel import Session, col

from agent_registry.assets.refs import AssetKind
from agent_registry.catalog import report as org_report
from agent_registry.catalog.models import OrgReport
from agent_registry.catalog.scopes import DeclaredScopes
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.registry.db import session_scope
from agent_registry.registry.tables import Asset, AssetVersion, AuditEvent

_IN_REVIEW_ACTION = f"stage:{Stage.IN_REVIEW.value}"

LOOKBACK = timedelta(minutes=5)
"""How far before the latest ``updated_at`` seen a refresh reads again. Writers stamp
``updated_at`` with their own clock before they commit, so a write may become visible
after a later-stamped one was read; versions changed that recently are read again."""

FULL_READ_AFTER = 600.0
"""Seconds after which everything is read again, whatever the refresh rules say: a
write outside the store's rules (a hand-edited row) shows within ten minutes."""
_CHUNK = 500
"""Most ids one ``IN`` list carries."""


class LiveFacts:
    """Every version's facts, the reach of published ones and when reviews began.

    Thread-safe: :meth:`report` runs in the server's worker threads.

    Args:
        engine: The registry engine.
        scopes: The MCP servers' declared scopes, cached by content hash.
    """

    def __init__(
        self,
        engine: Engine,
        scopes: DeclaredScopes,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._scopes = scopes
        self._clock = clock
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._read_all_at = self._clock()
        self._read_in_full = True
        self._versions: dict[int, org_report.VersionFacts] = {}
        self._max_id = 0
        self._latest: datetime | None = None
        self._by_asset: dict[int, dict[int, org_report.VersionFacts]] = {}
        self._current_of: dict[int, org_report.VersionFacts] = {}
        self._current: list[org_report.VersionFacts] = []
        self._in_review: dict[int, org_report.VersionFacts] = {}
        self._reach: dict[int, tuple[str, list[str]]] = {}
        self._reach_for: list[org_report.VersionFacts] | None = None
        self._reach_map: dict[int, list[str]] = {}
        self._review_started: dict[tuple[str, str, str], datetime] = {}
        self._audit_id = 0
        self._memo = org_report.ItemMemo()

    def report(self, *, now: datetime, review_sla: timedelta) -> OrgReport:
        """The report as of ``now``, after reading what changed since the last one."""
        with self._lock, session_scope(self._engine) as session:
            try:
                report = self._report(session, now=now, review_sla=review_sla)
            except BaseException:
                # The memo may hold lists of a build that never finished: start afresh.
                self._reset()
                raise
            full, self._read_in_full = self._read_in_full, False
        if full:
            # Tens of thousands of facts and items now live as long as the server. Left
            # to the cyclic collector, every full pass walks them all again: pauses of
            # hundreds of milliseconds at 10,000 versions, landing on random pages.
            # Frozen, they are skipped; being acyclic, they are still freed by reference
            # counting when a later read replaces them.
            gc.freeze()
        return report

    def _report(self, session: Session, *, now: datetime, review_sla: timedelta) -> OrgReport:
        changed = self._refresh_versions(session)
        self._refresh_review_starts(session)
        versions = list(self._versions.values())
        current = self._current
        if self._reach_for is not current:
            # Reach changes only with a version's facts, and then the current list is new.
            published = [v for v in current if v.live]
            self._reach_map = self._reach_of(session, published)
            self._reach_for = current
        reach = self._reach_map
        started = {
            v.version_id: at
            for v in self._in_review.values()
            if (at := self._review_started.get((v.kind, v.name, v.version))) is not None
        }
        inputs = org_report.ReportInputs(
            now=now,
            review_sla=review_sla,
            versions=versions,
            reach=reach,
            review_started=started,
            uses=store.asset_uses(session),
            days=store.daily_counts(session, since=org_report.window_start(now)),
            current=current,
            in_review=list(self._in_review.values()),
            changed=changed,
            behaviour=store.behaviour_lines(session, version_ids=list(self._in_review)),
        )
        return org_report.build_report(inputs, self._memo)

    def _refresh_versions(self, session: Session) -> list[org_report.VersionFacts] | None:
        """Read what changed; the versions whose facts changed, or None after a full read."""
        count = session.connection().execute(sa.select(func.count(col(AssetVersion.id)))).scalar()
        if (count or 0) < len(self._versions) or (
            self._clock() - self._read_all_at >= FULL_READ_AFTER
        ):
            self._reset()
        latest = self._latest
        full = not self._versions or latest is None
        if latest is None or not self._versions:
            changed = read_version_facts(session)
        else:
            changed = read_version_facts(
                session,
                sa.or_(
                    col(AssetVersion.id) > self._max_id,
                    col(AssetVersion.updated_at) >= latest - LOOKBACK,
                ),
            )
        moved: set[int] = set()
        differ: list[org_report.VersionFacts] = []
        for facts in changed:
            self._max_id = max(self._max_id, facts.version_id)
            if self._latest is None or facts.updated_at > self._latest:
                self._latest = facts.updated_at
            if self._versions.get(facts.version_id) == facts:
                continue  # read again within the look-back, unchanged
            self._versions[facts.version_id] = facts
            differ.append(facts)
            self._reach.pop(facts.version_id, None)
            self._by_asset.setdefault(facts.asset_id, {})[facts.version_id] = facts
            if facts.stage == Stage.IN_REVIEW.value:
                self._in_review[facts.version_id] = facts
            else:
                self._in_review.pop(facts.version_id, None)
            moved.add(facts.asset_id)
        if moved:
            # Only the assets a write touched can have a new current version.
            for asset_id in moved:
                (self._current_of[asset_id],) = org_report.current_versions(
                    self._by_asset[asset_id].values()
                )
            self._current = sorted(self._current_of.values(), key=lambda v: (v.kind, v.name))
        return None if full else differ

    def _refresh_review_starts(self, session: Session) -> None:
        query = (
            sa.select(
                col(AuditEvent.kind),
                col(AuditEvent.name),
                col(AuditEvent.version),
                func.max(col(AuditEvent.at)),
                func.max(col(AuditEvent.id)),
            )
            .where(col(AuditEvent.action) == _IN_REVIEW_ACTION, col(AuditEvent.id) > self._audit_id)
            .group_by(col(AuditEvent.kind), col(AuditEvent.name), col(AuditEvent.version))
        )
        for kind, name, version, at, last_id in session.connection().execute(query):
            key = (kind, name, version)
            held = self._review_started.get(key)
            if at is not None and (held is None or at > held):
                self._review_started[key] = at
            self._audit_id = max(self._audit_id, last_id or 0)

    def _reach_of(
        self, session: Session, published: Sequence[org_report.VersionFacts]
    ) -> dict[int, list[str]]:
        missing = [v.version_id for v in published if v.version_id not in self._reach]
        if missing:
            rows = manifests_and_hashes(session, missing)
            by_id = {v.version_id: v for v in published}
            servers = [
                rows[i][1]
                for i in missing
                if i in rows and by_id[i].kind == AssetKind.MCP_SERVER.value
            ]
            tools = self._scopes.tools_of(session, servers)
            for version_id in missing:
                if version_id in rows:
                    manifest, content_hash = rows[version_id]
                    lines = org_report.reach(
                        by_id[version_id].kind, manifest, tools.get(content_hash, [])
                    )
                    self._reach[version_id] = (content_hash, lines)
        return {
            v.version_id: self._reach[v.version_id][1]
            for v in published
            if v.version_id in self._reach
        }


def read_version_facts(
    session: Session, where: sa.ColumnElement[bool] | None = None
) -> list[org_report.VersionFacts]:
    """One light row per version (those matching ``where``, else all)."""
    query = sa.select(
        col(AssetVersion.id),
        col(AssetVersion.asset_id),
        col(Asset.kind),
        col(Asset.name),
        col(Asset.owner_team),
        col(AssetVersion.version),
        col(AssetVersion.version_sort),
        col(AssetVersion.stage),
        col(AssetVersion.risk_tier),
        col(AssetVersion.updated_at),
        col(AssetVersion.recertify_by),
        col(AssetVersion.deprecated_at),
        col(AssetVersion.sunset_at),
        col(AssetVersion.replacement),
        col(AssetVersion.submitted_at),
    ).join(Asset, col(AssetVersion.asset_id) == col(Asset.id))
    if where is not None:
        query = query.where(where)
    # The columns are selected in VersionFacts' field order.
    facts = org_report.VersionFacts._make
    return [facts(row) for row in session.connection().execute(query)]


def manifests_and_hashes(
    session: Session, version_ids: Sequence[int]
) -> dict[int, tuple[dict[str, object], str]]:
    """The parsed manifest and the content hash of some versions, by version id."""
    found: dict[int, tuple[dict[str, object], str]] = {}
    for chunk in chunks(version_ids):
        query = sa.select(
            col(AssetVersion.id), col(AssetVersion.manifest_json), col(AssetVersion.content_hash)
        ).where(col(AssetVersion.id).in_(chunk))
        for version_id, text, content_hash in session.connection().execute(query):
            value = json.loads(text)
            if version_id is not None:
                found[version_id] = (value if isinstance(value, dict) else {}, content_hash)
    return found


def chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """``values`` in slices short enough for one ``IN`` list."""
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
